#include "cli/key_output.h"

#include "cli/vault_object.h"

namespace coffre::cli {
namespace {

json::value Bytes(const std::vector<uint8_t>& bytes) {
  return bytes.empty() ? json::value() : json::value(Base64Encode(bytes));
}

json::object Attributes(const keys::KeyProperties& p) {
  return json::object{{"created", TimeJson(p.CreatedOn)},
                      {"enabled", OptionalJson(p.Enabled)},
                      {"expires", TimeJson(p.ExpiresOn)},
                      {"exportable", OptionalJson(p.Exportable)},
                      {"hsmPlatform", StringJson(p.HsmPlatform)},
                      {"notBefore", TimeJson(p.NotBefore)},
                      {"recoverableDays", OptionalJson(p.RecoverableDays)},
                      {"recoveryLevel", StringJson(p.RecoveryLevel)},
                      {"updated", TimeJson(p.UpdatedOn)}};
}

json::value ReleasePolicy(const keys::KeyProperties& p) {
  if (!p.ReleasePolicy.HasValue()) return json::value();
  const keys::KeyReleasePolicy& policy = p.ReleasePolicy.Value();
  std::vector<uint8_t> encoded(policy.EncodedPolicy.begin(), policy.EncodedPolicy.end());
  return json::object{{"contentType", OptionalJson(policy.ContentType)},
                      {"encodedPolicy", Base64Encode(encoded)},
                      {"immutable", policy.Immutable}};
}

json::object JsonWebKey(const keys::JsonWebKey& k) {
  json::array ops;
  for (const auto& op : k.KeyOperations()) ops.emplace_back(op.ToString());
  return json::object{
      {"crv", k.CurveName.HasValue() ? json::value(k.CurveName.Value().ToString()) : json::value()},
      {"d", Bytes(k.D)},
      {"dp", Bytes(k.DP)},
      {"dq", Bytes(k.DQ)},
      {"e", Bytes(k.E)},
      {"k", Bytes(k.K)},
      {"keyOps", std::move(ops)},
      {"kid", StringJson(k.Id)},
      {"kty", StringJson(k.KeyType.ToString())},
      {"n", Bytes(k.N)},
      {"p", Bytes(k.P)},
      {"q", Bytes(k.Q)},
      {"qi", Bytes(k.QI)},
      {"t", Bytes(k.T)},
      {"x", Bytes(k.X)},
      {"y", Bytes(k.Y)}};
}

void AddDeletion(json::object& o, const keys::DeletedKey& key) {
  o["deletedDate"] = TimeJson(key.DeletedDate);
  o["recoveryId"] = StringJson(key.RecoveryId);
  o["scheduledPurgeDate"] = TimeJson(key.ScheduledPurgeDate);
}

}  // namespace

json::object KeyJson(const keys::KeyVaultKey& key) {
  const keys::KeyProperties& p = key.Properties;
  return json::object{{"attributes", Attributes(p)},
                      {"key", JsonWebKey(key.Key)},
                      {"managed", p.Managed ? json::value(true) : json::value()},
                      {"releasePolicy", ReleasePolicy(p)},
                      {"tags", TagsJson(p.Tags)}};
}

json::object DeletedKeyJson(const keys::DeletedKey& key) {
  json::object o = KeyJson(key);
  AddDeletion(o, key);
  return o;
}

json::object KeyItemJson(const keys::KeyProperties& p) {
  return json::object{{"attributes", Attributes(p)},
                      {"kid", StringJson(p.Id)},
                      {"managed", p.Managed ? json::value(true) : json::value()},
                      {"name", StringJson(p.Name)},
                      {"releasePolicy", ReleasePolicy(p)},
                      {"tags", TagsJson(p.Tags)}};
}

json::object DeletedKeyItemJson(const keys::DeletedKey& key) {
  json::object o = KeyItemJson(key.Properties);
  AddDeletion(o, key);
  return o;
}

json::object RotationPolicyJson(const keys::KeyRotationPolicy& policy) {
  json::array actions;
  for (const auto& a : policy.LifetimeActions) {
    actions.push_back(json::object{{"action", a.Action.ToString()},
                                   {"timeAfterCreate", OptionalJson(a.Trigger.TimeAfterCreate)},
                                   {"timeBeforeExpiry", OptionalJson(a.Trigger.TimeBeforeExpiry)}});
  }
  return json::object{{"createdOn", TimeJson(policy.CreatedOn)},
                      {"expiresIn", OptionalJson(policy.ExpiresIn)},
                      {"id", StringJson(policy.Id)},
                      {"lifetimeActions", std::move(actions)},
                      {"updatedOn", TimeJson(policy.UpdatedOn)}};
}

std::vector<std::pair<std::string, json::value>> KeyTableRow(const json::object& key) {
  auto [name, version] = NameAndVersion(JsonAt(key, {"key", "kid"}));
  std::vector<std::pair<std::string, json::value>> row = {
      {"Name", json::value(name)},
      {"Version", json::value(version)},
      {"Kty", JsonAt(key, {"key", "kty"})},
      {"Enabled", JsonAt(key, {"attributes", "enabled"})},
      {"Expires", JsonAt(key, {"attributes", "expires"})}};
  if (key.contains("deletedDate")) {
    row.emplace_back("DeletedDate", JsonAt(key, {"deletedDate"}));
    row.emplace_back("ScheduledPurgeDate", JsonAt(key, {"scheduledPurgeDate"}));
  }
  return row;
}

std::vector<std::pair<std::string, json::value>> KeyItemTableRow(const json::object& item) {
  auto [name, version] = NameAndVersion(JsonAt(item, {"kid"}));
  std::vector<std::pair<std::string, json::value>> row = {{"Name", json::value(name)}};
  if (!version.empty()) row.emplace_back("Version", json::value(version));
  row.emplace_back("Enabled", JsonAt(item, {"attributes", "enabled"}));
  row.emplace_back("Expires", JsonAt(item, {"attributes", "expires"}));
  row.emplace_back("Updated", JsonAt(item, {"attributes", "updated"}));
  return row;
}

std::vector<std::pair<std::string, json::value>> DeletedKeyTableRow(const json::object& key) {
  const json::value kid = key.contains("kid") ? JsonAt(key, {"kid"}) : JsonAt(key, {"key", "kid"});
  return {{"Name", json::value(NameAndVersion(kid).first)},
          {"DeletedDate", JsonAt(key, {"deletedDate"})},
          {"ScheduledPurgeDate", JsonAt(key, {"scheduledPurgeDate"})},
          {"RecoveryId", JsonAt(key, {"recoveryId"})}};
}

std::vector<std::pair<std::string, json::value>> RotationPolicyTableRow(const json::object& p) {
  std::string actions;
  if (const json::value* list = JsonPath(p, {"lifetimeActions"}); list && list->is_array()) {
    for (const auto& a : list->get_array()) {
      if (!a.is_object()) continue;
      const json::object& action = a.get_object();
      if (!actions.empty()) actions += ", ";
      json::value after = JsonAt(action, {"timeAfterCreate"});
      json::value before = JsonAt(action, {"timeBeforeExpiry"});
      actions += std::string(JsonAt(action, {"action"}).is_string()
                                 ? JsonAt(action, {"action"}).get_string().c_str()
                                 : "?");
      if (after.is_string()) actions += " " + std::string(after.get_string()) + " after create";
      if (before.is_string()) {
        actions += " " + std::string(before.get_string()) + " before expiry";
      }
    }
  }
  return {{"Id", JsonAt(p, {"id"})},
          {"ExpiresIn", JsonAt(p, {"expiresIn"})},
          {"LifetimeActions", json::value(actions)},
          {"UpdatedOn", JsonAt(p, {"updatedOn"})}};
}

}  // namespace coffre::cli
