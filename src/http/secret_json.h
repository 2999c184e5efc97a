// Key Vault JSON for secrets: rendering SecretBundle, SecretItem and the deleted forms, and
// parsing the set and update bodies. Identifiers (id, recoveryId) are built from `base_url`
// ("https://host[:port]"), the scheme and Host the client used.
//
// Values never pass through a JSON document that would free them unwiped: a set body is parsed
// in a wiping buffer, and a bundle's value is written straight into the response text (which the
// caller marks sensitive).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "service/secret_service.h"

namespace coffre::http {

// A SecretBundle's JSON text: the value (if the bundle has one) first, then contentType, id,
// attributes, tags, kid and managed.
std::string SecretBundleText(const service::SecretBundle& bundle, std::string_view base_url);
boost::json::object DeletedSecretBundleJson(const service::DeletedSecretBundle& deleted,
                                            std::string_view base_url);
boost::json::object SecretItemJson(const service::SecretItem& item, std::string_view base_url);
boost::json::object DeletedSecretItemJson(const service::DeletedSecretItem& item,
                                          std::string_view base_url);

// PUT /secrets/{name} body: {"value", "contentType"?, "attributes"?, "tags"?} (the name comes
// from the path).
Result<service::SetSecretRequest> ParseSetSecretRequest(std::string_view body);
// PATCH /secrets/{name}/{version} body: {"contentType"?, "attributes"?, "tags"?}; a "value" is
// ignored, as other unknown properties are (an update never changes it).
Result<service::UpdateSecretRequest> ParseUpdateSecretRequest(const boost::json::object& body);

}  // namespace coffre::http
