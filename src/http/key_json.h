// Key Vault JSON for keys: rendering the service model into wire JSON (KeyBundle, KeyItem,
// DeletedKeyBundle, list envelopes, errors) and parsing request bodies into service requests.
// Identifiers (kid, recoveryId, nextLink) are built from `base_url` ("https://host[:port]"),
// the scheme and Host the client used.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "service/crypto_service.h"
#include "service/key_model.h"
#include "service/rotation_policy.h"

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
// PUT /keys/{name} body (name comes from the path). Every problem with "key" is reported as
// Key Vault does: "The property "key" must be a valid JsonWebKey object."
Result<service::ImportKeyRequest> ParseImportKeyRequest(const boost::json::object& body);

// encrypt/decrypt/wrapkey/unwrapkey/sign bodies: {"alg","value","iv"?,"aad"?,"tag"?}.
Result<service::KeyOperationRequest> ParseKeyOperationRequest(const boost::json::object& body);
// verify body: {"alg","digest","value"}.
Result<service::VerifyRequest> ParseVerifyRequest(const boost::json::object& body);
// {"kid","value","iv"?,"tag"?,"aad"?}
boost::json::object KeyOperationResultJson(const service::KeyOperationResult& result,
                                           std::string_view base_url);

// PUT /keys/{name}/rotationpolicy body.
Result<service::RotationPolicy> ParseRotationPolicy(const boost::json::object& body);
boost::json::object RotationPolicyJson(const service::RotationPolicy& policy,
                                       std::string_view base_url, std::string_view name);

// Pieces the other object kinds' JSON (secret_json.h) shares with keys: the attributes object
// as rendered, tags (omitted when empty), and the parsers of "attributes", "tags" and an
// optional string property. The parsers answer Key Vault's 400 texts.
boost::json::object AttributesJson(const service::KeyAttributes& attributes);
void AddTagsJson(boost::json::object& o, const service::Tags& tags);
Result<service::AttributeChanges> ParseAttributeChanges(const boost::json::object& body);
Result<std::optional<service::Tags>> ParseOptionalTags(const boost::json::object& body);
Result<std::optional<std::string>> ParseOptionalString(const boost::json::object& body,
                                                       std::string_view name);

// A required base64url property ({"value": ...} of restore; "value" of key operations).
Result<Bytes> RequiredBase64Url(const boost::json::object& body, std::string_view name);
// A required integer property within [min, max].
Result<int64_t> RequiredInt(const boost::json::object& body, std::string_view name, int64_t min,
                            int64_t max);

}  // namespace coffre::http
