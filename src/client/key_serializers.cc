#include "client/key_serializers.h"

#include <stdexcept>

#include "client/encoding.h"
#include "client/json_util.h"
#include "client/url.h"

namespace coffre::keys::_detail {
namespace {

namespace json = boost::json;
using coffre::_detail::Base64UrlEncode;
using coffre::_detail::GetArray;
using coffre::_detail::GetBool;
using coffre::_detail::GetBytes;
using coffre::_detail::GetInt;
using coffre::_detail::GetObject;
using coffre::_detail::GetString;

json::object RequireObject(std::string_view body, const char* what) {
  auto o = coffre::_detail::ParseObject(body);
  if (!o) throw std::invalid_argument(std::string("The service returned an invalid ") + what);
  return std::move(*o);
}

std::vector<uint8_t> BytesOr(const json::object& o, std::string_view name) {
  return GetBytes(o, name).value_or(std::vector<uint8_t>());
}

Nullable<DateTime> OptionalTime(const json::object& o, std::string_view name) {
  if (auto seconds = GetInt(o, name)) return DateTime::FromUnixSeconds(*seconds);
  return {};
}

void ReadIdentity(KeyProperties& p, const std::string& kid) {
  p.Id = kid;
  if (auto parts = ParseKeyId(kid)) {
    p.VaultUrl = parts->vault_url;
    p.Name = parts->name;
    p.Version = parts->version;
  }
}

void ReadAttributes(KeyProperties& p, const json::object& o) {
  if (const json::object* a = GetObject(o, "attributes")) {
    if (auto enabled = GetBool(*a, "enabled")) p.Enabled = *enabled;
    p.NotBefore = OptionalTime(*a, "nbf");
    p.ExpiresOn = OptionalTime(*a, "exp");
    p.CreatedOn = OptionalTime(*a, "created");
    p.UpdatedOn = OptionalTime(*a, "updated");
    if (auto days = GetInt(*a, "recoverableDays")) p.RecoverableDays = static_cast<int>(*days);
    p.RecoveryLevel = GetString(*a, "recoveryLevel").value_or("");
    if (auto exportable = GetBool(*a, "exportable")) p.Exportable = *exportable;
    p.HsmPlatform = GetString(*a, "hsmPlatform").value_or("");
  }
  if (const json::object* tags = GetObject(o, "tags")) {
    for (const auto& [name, value] : *tags) {
      if (value.is_string()) p.Tags[std::string(name)] = std::string(value.get_string());
    }
  }
  if (auto managed = GetBool(o, "managed")) p.Managed = *managed;
  if (const json::object* policy = GetObject(o, "release_policy")) {
    KeyReleasePolicy release;
    if (auto type = GetString(*policy, "contentType")) release.ContentType = *type;
    release.Immutable = GetBool(*policy, "immutable").value_or(false);
    auto data = GetBytes(*policy, "data").value_or(std::vector<uint8_t>());
    release.EncodedPolicy.assign(data.begin(), data.end());
    p.ReleasePolicy = std::move(release);
  }
}

JsonWebKey ReadJsonWebKey(const json::object& k) {
  JsonWebKey key;
  key.Id = GetString(k, "kid").value_or("");
  key.KeyType = KeyVaultKeyType(GetString(k, "kty").value_or(""));
  if (auto crv = GetString(k, "crv")) key.CurveName = KeyCurveName(*crv);
  if (const json::array* ops = GetArray(k, "key_ops")) {
    std::vector<KeyOperation> operations;
    for (const auto& op : *ops) {
      if (op.is_string()) operations.emplace_back(std::string(op.get_string()));
    }
    key.SetKeyOperations(operations);
  }
  key.N = BytesOr(k, "n");
  key.E = BytesOr(k, "e");
  key.D = BytesOr(k, "d");
  key.DP = BytesOr(k, "dp");
  key.DQ = BytesOr(k, "dq");
  key.QI = BytesOr(k, "qi");
  key.P = BytesOr(k, "p");
  key.Q = BytesOr(k, "q");
  key.K = BytesOr(k, "k");
  key.T = BytesOr(k, "key_hsm");
  key.X = BytesOr(k, "x");
  key.Y = BytesOr(k, "y");
  return key;
}

void ReadKeyBundle(KeyVaultKey& key, const json::object& o) {
  if (const json::object* k = GetObject(o, "key")) key.Key = ReadJsonWebKey(*k);
  ReadIdentity(key.Properties, key.Key.Id);
  ReadAttributes(key.Properties, o);
}

void ReadDeletion(DeletedKey& key, const json::object& o) {
  key.RecoveryId = GetString(o, "recoveryId").value_or("");
  key.DeletedDate = DateTime::FromUnixSeconds(GetInt(o, "deletedDate").value_or(0));
  key.ScheduledPurgeDate = DateTime::FromUnixSeconds(GetInt(o, "scheduledPurgeDate").value_or(0));
}

KeyProperties ReadKeyItem(const json::object& o) {
  KeyProperties p;
  ReadIdentity(p, GetString(o, "kid").value_or(""));
  ReadAttributes(p, o);
  return p;
}

std::optional<std::string> NextLink(const json::object& o) {
  auto link = GetString(o, "nextLink");
  if (!link || link->empty()) return std::nullopt;
  return link;
}

void PutBytes(json::object& o, std::string_view name, const std::vector<uint8_t>& bytes) {
  if (!bytes.empty()) o[name] = Base64UrlEncode(bytes);
}

json::object ReleasePolicyJson(const KeyReleasePolicy& policy) {
  json::object o;
  if (policy.ContentType.HasValue()) o["contentType"] = policy.ContentType.Value();
  o["immutable"] = policy.Immutable;
  o["data"] = Base64UrlEncode(policy.EncodedPolicy);
  return o;
}

json::object AttributesJson(const Nullable<bool>& enabled, const Nullable<DateTime>& not_before,
                            const Nullable<DateTime>& expires_on,
                            const Nullable<bool>& exportable) {
  json::object a;
  if (enabled.HasValue()) a["enabled"] = enabled.Value();
  if (not_before.HasValue()) a["nbf"] = not_before.Value().ToUnixSeconds();
  if (expires_on.HasValue()) a["exp"] = expires_on.Value().ToUnixSeconds();
  if (exportable.HasValue()) a["exportable"] = exportable.Value();
  return a;
}

json::array OperationsJson(const std::vector<KeyOperation>& operations) {
  json::array ops;
  for (const auto& op : operations) ops.emplace_back(op.ToString());
  return ops;
}

json::object TagsJson(const std::unordered_map<std::string, std::string>& tags) {
  json::object o;
  for (const auto& [name, value] : tags) o[name] = value;
  return o;
}

}  // namespace

std::optional<KeyIdParts> ParseKeyId(std::string_view key_id) {
  auto parts = coffre::_detail::ParseVaultObjectId(key_id, "keys", "deletedkeys");
  if (!parts) return std::nullopt;
  return KeyIdParts{std::move(parts->vault_url), std::move(parts->name), std::move(parts->version)};
}

KeyVaultKey ParseKeyBundle(std::string_view body) {
  KeyVaultKey key;
  ReadKeyBundle(key, RequireObject(body, "key bundle"));
  return key;
}

DeletedKey ParseDeletedKeyBundle(std::string_view body) {
  json::object o = RequireObject(body, "deleted key bundle");
  DeletedKey key;
  ReadKeyBundle(key, o);
  ReadDeletion(key, o);
  return key;
}

KeyPropertiesPage ParseKeyListResult(std::string_view body) {
  json::object o = RequireObject(body, "key list");
  KeyPropertiesPage page;
  if (const json::array* items = GetArray(o, "value")) {
    for (const auto& item : *items) {
      if (item.is_object()) page.items.push_back(ReadKeyItem(item.get_object()));
    }
  }
  page.next_link = NextLink(o);
  return page;
}

DeletedKeysPage ParseDeletedKeyListResult(std::string_view body) {
  json::object o = RequireObject(body, "deleted key list");
  DeletedKeysPage page;
  if (const json::array* items = GetArray(o, "value")) {
    for (const auto& item : *items) {
      if (!item.is_object()) continue;
      DeletedKey key;
      key.Properties = ReadKeyItem(item.get_object());
      key.Key.Id = key.Properties.Id;
      ReadDeletion(key, item.get_object());
      page.items.push_back(std::move(key));
    }
  }
  page.next_link = NextLink(o);
  return page;
}

KeyRotationPolicy ParseRotationPolicy(std::string_view body) {
  json::object o = RequireObject(body, "rotation policy");
  KeyRotationPolicy policy;
  policy.Id = GetString(o, "id").value_or("");
  if (const json::array* actions = GetArray(o, "lifetimeActions")) {
    for (const auto& item : *actions) {
      if (!item.is_object()) continue;
      const json::object& a = item.get_object();
      LifetimeActionsType action;
      if (const json::object* trigger = GetObject(a, "trigger")) {
        if (auto v = GetString(*trigger, "timeAfterCreate")) action.Trigger.TimeAfterCreate = *v;
        if (auto v = GetString(*trigger, "timeBeforeExpiry")) action.Trigger.TimeBeforeExpiry = *v;
      }
      if (const json::object* type = GetObject(a, "action")) {
        // Vaults say "Rotate", Managed HSMs "rotate": normalise to the well-known spelling.
        std::string value = GetString(*type, "type").value_or("");
        if (coffre::_detail::EqualsIgnoreCase(value, "rotate")) {
          action.Action = LifetimeActionType::Rotate;
        } else if (coffre::_detail::EqualsIgnoreCase(value, "notify")) {
          action.Action = LifetimeActionType::Notify;
        } else {
          action.Action = LifetimeActionType(value);
        }
      }
      policy.LifetimeActions.push_back(std::move(action));
    }
  }
  if (const json::object* a = GetObject(o, "attributes")) {
    if (auto expiry = GetString(*a, "expiryTime")) policy.ExpiresIn = *expiry;
    policy.CreatedOn = OptionalTime(*a, "created");
    policy.UpdatedOn = OptionalTime(*a, "updated");
  }
  return policy;
}

std::vector<uint8_t> ParseBytesValue(std::string_view body) {
  json::object o = RequireObject(body, "response");
  auto value = GetBytes(o, "value");
  if (!value) throw std::invalid_argument("The service response has no base64url \"value\"");
  return std::move(*value);
}

std::string ParseStringValue(std::string_view body) {
  json::object o = RequireObject(body, "response");
  auto value = GetString(o, "value");
  if (!value) throw std::invalid_argument("The service response has no \"value\"");
  return std::move(*value);
}

std::string SerializeCreateKey(const KeyVaultKeyType& key_type, const CreateKeyOptions& options,
                               const Nullable<int64_t>& key_size,
                               const Nullable<int64_t>& public_exponent,
                               const Nullable<KeyCurveName>& curve) {
  json::object o;
  o["kty"] = key_type.ToString();
  if (key_size.HasValue()) o["key_size"] = key_size.Value();
  if (public_exponent.HasValue()) o["public_exponent"] = public_exponent.Value();
  if (curve.HasValue()) o["crv"] = curve.Value().ToString();
  if (!options.KeyOperations.empty()) o["key_ops"] = OperationsJson(options.KeyOperations);
  o["attributes"] =
      AttributesJson(options.Enabled, options.NotBefore, options.ExpiresOn, options.Exportable);
  if (!options.Tags.empty()) o["tags"] = TagsJson(options.Tags);
  if (options.ReleasePolicy.HasValue()) {
    o["release_policy"] = ReleasePolicyJson(options.ReleasePolicy.Value());
  }
  return json::serialize(o);
}

std::string SerializeImportKey(const ImportKeyOptions& options) {
  const JsonWebKey& key = options.Key;
  json::object k;
  if (!key.Id.empty()) k["kid"] = key.Id;
  k["kty"] = key.KeyType.ToString();
  if (!key.KeyOperations().empty()) k["key_ops"] = OperationsJson(key.KeyOperations());
  if (key.CurveName.HasValue()) k["crv"] = key.CurveName.Value().ToString();
  PutBytes(k, "n", key.N);
  PutBytes(k, "e", key.E);
  PutBytes(k, "d", key.D);
  PutBytes(k, "dp", key.DP);
  PutBytes(k, "dq", key.DQ);
  PutBytes(k, "qi", key.QI);
  PutBytes(k, "p", key.P);
  PutBytes(k, "q", key.Q);
  PutBytes(k, "k", key.K);
  PutBytes(k, "key_hsm", key.T);
  PutBytes(k, "x", key.X);
  PutBytes(k, "y", key.Y);
  json::object o;
  o["key"] = std::move(k);
  // Capital H: that is how the service spells it.
  if (options.HardwareProtected.HasValue()) o["Hsm"] = options.HardwareProtected.Value();
  const KeyProperties& p = options.Properties;
  o["attributes"] = AttributesJson(p.Enabled, p.NotBefore, p.ExpiresOn, p.Exportable);
  if (!p.Tags.empty()) o["tags"] = TagsJson(p.Tags);
  if (p.ReleasePolicy.HasValue()) o["release_policy"] = ReleasePolicyJson(p.ReleasePolicy.Value());
  return json::serialize(o);
}

std::string SerializeUpdateKey(const KeyProperties& p,
                               const Nullable<std::vector<KeyOperation>>& key_operations) {
  json::object o;
  if (key_operations.HasValue()) o["key_ops"] = OperationsJson(key_operations.Value());
  o["attributes"] = AttributesJson(p.Enabled, p.NotBefore, p.ExpiresOn, p.Exportable);
  if (!p.Tags.empty()) o["tags"] = TagsJson(p.Tags);
  if (p.ReleasePolicy.HasValue()) o["release_policy"] = ReleasePolicyJson(p.ReleasePolicy.Value());
  return json::serialize(o);
}

std::string SerializeRotationPolicy(const KeyRotationPolicy& policy) {
  json::array actions;
  for (const auto& a : policy.LifetimeActions) {
    json::object trigger;
    if (a.Trigger.TimeAfterCreate.HasValue()) {
      trigger["timeAfterCreate"] = a.Trigger.TimeAfterCreate.Value();
    }
    if (a.Trigger.TimeBeforeExpiry.HasValue()) {
      trigger["timeBeforeExpiry"] = a.Trigger.TimeBeforeExpiry.Value();
    }
    actions.push_back(json::object{{"trigger", std::move(trigger)},
                                   {"action", json::object{{"type", a.Action.ToString()}}}});
  }
  json::object attributes;
  if (policy.ExpiresIn.HasValue()) attributes["expiryTime"] = policy.ExpiresIn.Value();
  json::object o;
  o["lifetimeActions"] = std::move(actions);
  o["attributes"] = std::move(attributes);
  return json::serialize(o);
}

std::string SerializeRestore(const std::vector<uint8_t>& backup) {
  return json::serialize(json::object{{"value", Base64UrlEncode(backup)}});
}

std::string SerializeRandomBytes(int32_t count) {
  return json::serialize(json::object{{"count", count}});
}

std::string SerializeRelease(const KeyReleaseOptions& options) {
  json::object o;
  o["target"] = options.Target;
  if (options.Nonce.HasValue()) o["nonce"] = options.Nonce.Value();
  if (options.Encryption.HasValue()) o["enc"] = options.Encryption.Value().ToString();
  return json::serialize(o);
}

}  // namespace coffre::keys::_detail
