// Key Vault JSON for keys: rendering the service model into wire JSON (KeyBundle, KeyItem,
// DeletedKeyBundle, list envelopes, errors) and parsing request bodies into service requests.
// Identifiers (kid, recoveryId, nextLink) are built from `base_url` ("https://host[:port]"),
// the scheme and Host the client used.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "service/key_model.h"

namespace coffre::http {

boost::json::object KeyBundleJson(const service::KeyBundle& bundle, std::string_view base_url);
boost::json::object DeletedKeyBundleJson(const service::DeletedKeyBundle& deleted,
                                         std::string_view base_url);
boost::json::object KeyItemJson(const service::KeyItem& item, std::string_view base_url);
boost::json::object DeletedKeyItemJson(const service::DeletedKeyItem& item,
                                       std::string_view base_url);

// {"error":{"code":..., "message":..., "innererror":{"code":...}?}}
std::string ErrorJson(const Status& status);

// Parses a request body into a JSON object. Limits: nesting depth 32. Empty body, invalid
// JSON or UTF-8, or a non-object -> BadParameter.
Result<boost::json::object> ParseJsonObject(std::string_view body);

// POST /keys/{name}/create body (name comes from the path).
Result<service::CreateKeyRequest> ParseCreateKeyRequest(const boost::json::object& body);
// PATCH /keys/{name}/{version} body.
Result<service::UpdateKeyRequest> ParseUpdateKeyRequest(const boost::json::object& body);

}  // namespace coffre::http
