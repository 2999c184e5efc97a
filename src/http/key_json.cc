#include "http/key_json.h"

#include <boost/json.hpp>
#include <cctype>
#include <limits>
#include <type_traits>

#include "common/base64url.h"
#include "common/strings.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

std::string KeyId(std::string_view base_url, std::string_view name, std::string_view version) {
  std::string id(base_url);
  id += "/keys/";
  id += name;
  if (!version.empty()) {
    id += '/';
    id += version;
  }
  return id;
}

json::object JsonWebKeyJson(const service::PublicJsonWebKey& key, std::string kid) {
  json::object o;
  o["kid"] = std::move(kid);
  o["kty"] = service::KeyTypeName(key.kty);
  json::array ops;
  for (const auto& op : key.key_ops) ops.emplace_back(op);
  o["key_ops"] = std::move(ops);
  if (service::IsRsa(key.kty)) {
    o["n"] = Base64UrlEncode(key.params.n);
    o["e"] = Base64UrlEncode(key.params.e);
  } else if (service::IsEc(key.kty)) {
    o["crv"] = crypto::CurveName(key.params.curve);
    o["x"] = Base64UrlEncode(key.params.x);
    o["y"] = Base64UrlEncode(key.params.y);
  }
  return o;
}

void AddDeletion(json::object& o, const service::DeletionInfo& d, std::string_view base_url,
                 std::string_view name) {
  o["recoveryId"] = std::string(base_url) + "/deletedkeys/" + std::string(name);
  o["deletedDate"] = d.deleted_date;
  o["scheduledPurgeDate"] = d.scheduled_purge_date;
}

Status TypeError(std::string_view property, std::string_view expected) {
  return Status::BadParameter("The property \"" + std::string(property) + "\" must be " +
                              std::string(expected) + ".");
}

// Reads an optional integer property; null counts as absent.
Result<std::optional<int64_t>> OptionalInt(const json::object& o, std::string_view name,
                                           int64_t min, int64_t max) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>{};
  const json::value& v = it->value();
  int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(max)) {
    n = static_cast<int64_t>(v.get_uint64());
  } else {
    return TypeError(name, "an integer in range");
  }
  if (n < min || n > max) return TypeError(name, "an integer in range");
  return std::optional<int64_t>{n};
}

Result<std::optional<std::string>> OptionalString(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_string()) return TypeError(name, "a string");
  return std::optional<std::string>{std::string(it->value().get_string())};
}

Result<std::optional<std::vector<std::string>>> OptionalKeyOps(const json::object& o) {
  auto it = o.find("key_ops");
  if (it == o.end() || it->value().is_null()) return std::optional<std::vector<std::string>>{};
  if (!it->value().is_array()) return TypeError("key_ops", "an array of key operations");
  std::vector<std::string> ops;
  for (const auto& v : it->value().get_array()) {
    if (!v.is_string()) return TypeError("key_ops", "an array of key operations");
    std::string op(v.get_string());
    if (!service::IsKeyOperation(op)) {
      return Status::BadParameter("Invalid key operation: " + op.substr(0, 64));
    }
    ops.push_back(std::move(op));
  }
  return std::optional<std::vector<std::string>>{std::move(ops)};
}

Result<std::optional<service::Tags>> OptionalTags(const json::object& o) {
  auto it = o.find("tags");
  if (it == o.end() || it->value().is_null()) return std::optional<service::Tags>{};
  if (!it->value().is_object()) return TypeError("tags", "an object of string values");
  service::Tags tags;
  for (const auto& [name, value] : it->value().get_object()) {
    if (!value.is_string()) return TypeError("tags", "an object of string values");
    tags.emplace_back(std::string(name), std::string(value.get_string()));
  }
  return std::optional<service::Tags>{std::move(tags)};
}

constexpr int64_t kMaxIntDate = 253402300799;  // 9999-12-31T23:59:59Z

Result<service::AttributeChanges> ParseAttributes(const json::object& body) {
  service::AttributeChanges changes;
  auto it = body.find("attributes");
  if (it == body.end() || it->value().is_null()) return changes;
  if (!it->value().is_object()) return TypeError("attributes", "an object");
  const json::object& a = it->value().get_object();
  if (auto e = a.find("enabled"); e != a.end() && !e->value().is_null()) {
    if (!e->value().is_bool()) return TypeError("enabled", "a boolean");
    changes.enabled = e->value().get_bool();
  }
  COFFRE_ASSIGN_OR_RETURN(changes.not_before, OptionalInt(a, "nbf", 0, kMaxIntDate));
  COFFRE_ASSIGN_OR_RETURN(changes.expires, OptionalInt(a, "exp", 0, kMaxIntDate));
  if (auto e = a.find("exportable"); e != a.end() && !e->value().is_null()) {
    if (!e->value().is_bool()) return TypeError("exportable", "a boolean");
    if (e->value().get_bool()) {
      return Status::BadParameter("Exportable keys must have release policy");
    }
  }
  return changes;
}

Status InvalidJsonWebKey() {
  return Status::BadParameter("The property \"key\" must be a valid JsonWebKey object.");
}

// Reads an optional base64url property of a JWK into `out`; false if it is not a string or
// not base64url.
template <typename Buffer>
bool JwkBytes(const json::object& jwk, std::string_view name, Buffer& out) {
  auto it = jwk.find(name);
  if (it == jwk.end() || it->value().is_null()) return true;
  if (!it->value().is_string()) return false;
  std::string_view text = it->value().get_string();
  if constexpr (std::is_same_v<Buffer, SecureBytes>) {
    auto decoded = Base64UrlDecodeSecure(text);
    if (!decoded) return false;
    out = std::move(*decoded);
  } else {
    auto decoded = Base64UrlDecode(text);
    if (!decoded) return false;
    out = std::move(*decoded);
  }
  return true;
}

Result<std::optional<Bytes>> OptionalBase64Url(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<Bytes>{};
  if (!it->value().is_string()) return TypeError(name, "a base64url string");
  auto decoded = Base64UrlDecode(it->value().get_string());
  if (!decoded) return TypeError(name, "a base64url string");
  return std::optional<Bytes>{std::move(*decoded)};
}

// Error messages echo request text (names from the URI, property values cut at a byte limit),
// which need not be UTF-8: anything that is not valid UTF-8 becomes '?' so the body stays JSON.
std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    uint32_t cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    bool ok = len != 0 && i + len <= text.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      ok = (cc & 0xc0) == 0x80;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // No overlong forms, surrogates or code points past U+10FFFF.
    ok = ok &&
         (len == 1 || (len == 2 && cp >= 0x80) || (len == 3 && cp >= 0x800) ||
          (len == 4 && cp >= 0x10000 && cp <= 0x10ffff)) &&
         !(cp >= 0xd800 && cp <= 0xdfff);
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

json::string_view ActionTypeName(service::LifetimeActionType type) {
  return type == service::LifetimeActionType::kRotate ? "Rotate" : "Notify";
}

}  // namespace

json::object AttributesJson(const service::KeyAttributes& a) {
  json::object o;
  o["enabled"] = a.enabled;
  if (a.not_before) o["nbf"] = *a.not_before;
  if (a.expires) o["exp"] = *a.expires;
  o["created"] = a.created;
  o["updated"] = a.updated;
  o["recoverableDays"] = a.recoverable_days;
  o["recoveryLevel"] = a.recovery_level;
  return o;
}

void AddTagsJson(json::object& o, const service::Tags& tags) {
  // The service omits "tags" when a key has none.
  if (tags.empty()) return;
  json::object t;
  for (const auto& [name, value] : tags) t[name] = value;
  o["tags"] = std::move(t);
}

json::object KeyBundleJson(const service::KeyBundle& bundle, std::string_view base_url) {
  json::object o;
  o["key"] = JsonWebKeyJson(bundle.key, KeyId(base_url, bundle.name, bundle.version));
  o["attributes"] = AttributesJson(bundle.attributes);
  AddTagsJson(o, bundle.tags);
  return o;
}

json::object DeletedKeyBundleJson(const service::DeletedKeyBundle& deleted,
                                  std::string_view base_url) {
  json::object o;
  AddDeletion(o, deleted.deletion, base_url, deleted.bundle.name);
  for (auto& [k, v] : KeyBundleJson(deleted.bundle, base_url)) o[k] = std::move(v);
  return o;
}

json::object KeyItemJson(const service::KeyItem& item, std::string_view base_url) {
  json::object o;
  o["kid"] = KeyId(base_url, item.name, item.version);
  o["attributes"] = AttributesJson(item.attributes);
  AddTagsJson(o, item.tags);
  return o;
}

json::object DeletedKeyItemJson(const service::DeletedKeyItem& item, std::string_view base_url) {
  json::object o;
  AddDeletion(o, item.deletion, base_url, item.item.name);
  for (auto& [k, v] : KeyItemJson(item.item, base_url)) o[k] = std::move(v);
  return o;
}

std::string ErrorJson(const Status& status) {
  json::object error;
  error["code"] = status.code();
  error["message"] = ValidUtf8(status.message());
  if (!status.inner_code().empty()) {
    error["innererror"] = json::object{{"code", status.inner_code()}};
  }
  return json::serialize(json::object{{"error", std::move(error)}});
}

Result<json::object> ParseJsonObject(std::string_view body) {
  if (body.empty()) return Status::BadParameter("The request body is empty; a JSON object is required.");
  json::parse_options options;
  options.max_depth = 32;
  json::error_code ec;
  json::value value = json::parse(body, ec, json::storage_ptr(), options);
  if (ec) return Status::BadParameter("The request body is not valid JSON.");
  if (!value.is_object()) return Status::BadParameter("The request body must be a JSON object.");
  return std::move(value.get_object());
}

Result<service::CreateKeyRequest> ParseCreateKeyRequest(const json::object& body) {
  service::CreateKeyRequest request;
  COFFRE_ASSIGN_OR_RETURN(auto kty, OptionalString(body, "kty"));
  if (!kty) return Status::BadParameter("The property \"kty\" is required.");
  auto type = service::KeyTypeFromName(*kty);
  if (!type) return Status::BadParameter("Invalid kty value: " + kty->substr(0, 64));
  request.kty = *type;
  COFFRE_ASSIGN_OR_RETURN(auto key_size, OptionalInt(body, "key_size", 0, 1 << 20));
  if (key_size) request.key_size = static_cast<int>(*key_size);
  COFFRE_ASSIGN_OR_RETURN(auto exponent, OptionalInt(body, "public_exponent", 0,
                                                     std::numeric_limits<int32_t>::max()));
  if (exponent) request.public_exponent = static_cast<uint32_t>(*exponent);
  COFFRE_ASSIGN_OR_RETURN(auto crv, OptionalString(body, "crv"));
  if (crv) {
    auto curve = crypto::CurveFromName(*crv);
    if (!curve) return Status::BadParameter("Invalid curve name: " + crv->substr(0, 64));
    request.curve = *curve;
  }
  COFFRE_ASSIGN_OR_RETURN(request.key_ops, OptionalKeyOps(body));
  COFFRE_ASSIGN_OR_RETURN(request.attributes, ParseAttributes(body));
  COFFRE_ASSIGN_OR_RETURN(request.tags, OptionalTags(body));
  return request;
}

Result<service::UpdateKeyRequest> ParseUpdateKeyRequest(const json::object& body) {
  service::UpdateKeyRequest request;
  COFFRE_ASSIGN_OR_RETURN(request.key_ops, OptionalKeyOps(body));
  COFFRE_ASSIGN_OR_RETURN(request.attributes, ParseAttributes(body));
  COFFRE_ASSIGN_OR_RETURN(request.tags, OptionalTags(body));
  return request;
}

Result<Bytes> RequiredBase64Url(const json::object& body, std::string_view name) {
  COFFRE_ASSIGN_OR_RETURN(auto value, OptionalBase64Url(body, name));
  if (!value) return Status::BadParameter("The property \"" + std::string(name) + "\" is required.");
  return std::move(*value);
}

Result<int64_t> RequiredInt(const json::object& body, std::string_view name, int64_t min,
                            int64_t max) {
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) {
    return Status::BadParameter("The property \"" + std::string(name) + "\" is required.");
  }
  COFFRE_ASSIGN_OR_RETURN(auto value, OptionalInt(body, name, std::numeric_limits<int64_t>::min(),
                                                  std::numeric_limits<int64_t>::max()));
  if (*value < min || *value > max) return TypeError(name, "an integer in range");
  return *value;
}

Result<service::ImportKeyRequest> ParseImportKeyRequest(const json::object& body) {
  service::ImportKeyRequest request;
  auto it = body.find("key");
  if (it == body.end() || !it->value().is_object()) return InvalidJsonWebKey();
  const json::object& jwk = it->value().get_object();
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->value().is_string()) return InvalidJsonWebKey();
  service::PrivateJsonWebKey& key = request.key;
  key.kty = std::string(kty->value().get_string());
  if (auto crv = jwk.find("crv"); crv != jwk.end() && !crv->value().is_null()) {
    if (!crv->value().is_string()) return InvalidJsonWebKey();
    key.crv = std::string(crv->value().get_string());
  }
  bool ok = JwkBytes(jwk, "n", key.n) && JwkBytes(jwk, "e", key.e) && JwkBytes(jwk, "d", key.d) &&
            JwkBytes(jwk, "p", key.p) && JwkBytes(jwk, "q", key.q) &&
            JwkBytes(jwk, "dp", key.dp) && JwkBytes(jwk, "dq", key.dq) &&
            JwkBytes(jwk, "qi", key.qi) && JwkBytes(jwk, "x", key.x) &&
            JwkBytes(jwk, "y", key.y) && JwkBytes(jwk, "k", key.k);
  if (!ok) return InvalidJsonWebKey();
  if (jwk.contains("key_hsm")) {
    return Status::BadParameter("Importing keys as key_hsm (BYOK) blobs is not supported.");
  }
  auto ops = OptionalKeyOps(jwk);
  if (!ops.ok()) return InvalidJsonWebKey();
  key.key_ops = std::move(*ops);
  if (auto hsm = body.find("Hsm"); hsm != body.end() && !hsm->value().is_null()) {
    if (!hsm->value().is_bool()) return TypeError("Hsm", "a boolean");
    request.hsm = hsm->value().get_bool();
  }
  COFFRE_ASSIGN_OR_RETURN(request.attributes, ParseAttributes(body));
  COFFRE_ASSIGN_OR_RETURN(request.tags, OptionalTags(body));
  return request;
}

Result<service::KeyOperationRequest> ParseKeyOperationRequest(const json::object& body) {
  service::KeyOperationRequest request;
  COFFRE_ASSIGN_OR_RETURN(auto alg, OptionalString(body, "alg"));
  if (!alg) return Status::BadParameter("The property \"alg\" is required.");
  request.algorithm = std::move(*alg);
  auto it = body.find("value");
  if (it == body.end() || !it->value().is_string()) {
    return Status::BadParameter("The property \"value\" is required and must be base64url.");
  }
  auto value = Base64UrlDecodeSecure(it->value().get_string());
  if (!value) return TypeError("value", "a base64url string");
  request.value = std::move(*value);
  COFFRE_ASSIGN_OR_RETURN(request.iv, OptionalBase64Url(body, "iv"));
  COFFRE_ASSIGN_OR_RETURN(request.aad, OptionalBase64Url(body, "aad"));
  COFFRE_ASSIGN_OR_RETURN(request.tag, OptionalBase64Url(body, "tag"));
  return request;
}

Result<service::VerifyRequest> ParseVerifyRequest(const json::object& body) {
  service::VerifyRequest request;
  COFFRE_ASSIGN_OR_RETURN(auto alg, OptionalString(body, "alg"));
  if (!alg) return Status::BadParameter("The property \"alg\" is required.");
  request.algorithm = std::move(*alg);
  COFFRE_ASSIGN_OR_RETURN(request.digest, RequiredBase64Url(body, "digest"));
  COFFRE_ASSIGN_OR_RETURN(request.signature, RequiredBase64Url(body, "value"));
  return request;
}

json::object KeyOperationResultJson(const service::KeyOperationResult& result,
                                    std::string_view base_url) {
  json::object o;
  o["kid"] = KeyId(base_url, result.name, result.version);
  o["value"] = Base64UrlEncode(result.value);
  if (result.iv) o["iv"] = Base64UrlEncode(*result.iv);
  if (result.tag) o["tag"] = Base64UrlEncode(*result.tag);
  if (result.aad) o["aad"] = Base64UrlEncode(*result.aad);
  return o;
}

Result<service::RotationPolicy> ParseRotationPolicy(const json::object& body) {
  service::RotationPolicy policy;
  if (auto it = body.find("lifetimeActions"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return TypeError("lifetimeActions", "an array");
    const json::array& actions = it->value().get_array();
    if (actions.size() > 16) return TypeError("lifetimeActions", "an array of at most 2 actions");
    for (const auto& item : actions) {
      if (!item.is_object()) return TypeError("lifetimeActions", "an array of objects");
      const json::object& a = item.get_object();
      auto trigger = a.find("trigger");
      auto action = a.find("action");
      if (trigger == a.end() || !trigger->value().is_object() || action == a.end() ||
          !action->value().is_object()) {
        return Status::BadParameter("Each lifetime action needs a trigger and an action.");
      }
      service::LifetimeAction parsed;
      COFFRE_ASSIGN_OR_RETURN(auto type, OptionalString(action->value().get_object(), "type"));
      std::string lower = type ? AsciiLower(*type) : "";
      if (lower == "rotate") {
        parsed.type = service::LifetimeActionType::kRotate;
      } else if (lower == "notify") {
        parsed.type = service::LifetimeActionType::kNotify;
      } else {
        return Status::BadParameter("The lifetime action type must be Rotate or Notify.");
      }
      const json::object& t = trigger->value().get_object();
      COFFRE_ASSIGN_OR_RETURN(auto after, OptionalString(t, "timeAfterCreate"));
      COFFRE_ASSIGN_OR_RETURN(auto before, OptionalString(t, "timeBeforeExpiry"));
      if (after.has_value() == before.has_value()) {
        return Status::BadParameter(
            "A trigger needs exactly one of timeAfterCreate and timeBeforeExpiry.");
      }
      parsed.trigger = after ? service::LifetimeTrigger::kTimeAfterCreate
                             : service::LifetimeTrigger::kTimeBeforeExpiry;
      std::string duration = after ? *after : *before;
      for (char& c : duration) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      parsed.duration = std::move(duration);
      policy.actions.push_back(std::move(parsed));
    }
  }
  if (auto it = body.find("attributes"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return TypeError("attributes", "an object");
    COFFRE_ASSIGN_OR_RETURN(auto expiry, OptionalString(it->value().get_object(), "expiryTime"));
    if (expiry) {
      for (char& c : *expiry) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      policy.expiry_time = std::move(*expiry);
    }
  }
  return policy;
}

json::object RotationPolicyJson(const service::RotationPolicy& policy, std::string_view base_url,
                                std::string_view name) {
  json::object o;
  o["id"] = std::string(base_url) + "/keys/" + std::string(name) + "/rotationpolicy";
  json::array actions;
  for (const auto& a : policy.actions) {
    json::object trigger;
    trigger[a.trigger == service::LifetimeTrigger::kTimeAfterCreate ? "timeAfterCreate"
                                                                   : "timeBeforeExpiry"] =
        a.duration;
    actions.push_back(json::object{{"trigger", std::move(trigger)},
                                   {"action", json::object{{"type", ActionTypeName(a.type)}}}});
  }
  o["lifetimeActions"] = std::move(actions);
  json::object attributes;
  if (policy.expiry_time) attributes["expiryTime"] = *policy.expiry_time;
  if (!policy.is_default) {
    attributes["created"] = policy.created;
    attributes["updated"] = policy.updated;
  }
  o["attributes"] = std::move(attributes);
  return o;
}

Result<service::AttributeChanges> ParseAttributeChanges(const json::object& body) {
  return ParseAttributes(body);
}

Result<std::optional<service::Tags>> ParseOptionalTags(const json::object& body) {
  return OptionalTags(body);
}

Result<std::optional<std::string>> ParseOptionalString(const json::object& body,
                                                       std::string_view name) {
  return OptionalString(body, name);
}

}  // namespace coffre::http
