#include "cli/key_output.h"

namespace coffre::cli {
namespace {

json::value Time(const Nullable<DateTime>& time) {
  return time.HasValue() ? json::value(FormatTime(time.Value().ToUnixSeconds())) : json::value();
}

// DeletedKey's dates are plain DateTimes: the epoch means "not sent".
json::value Time(const DateTime& time) {
  int64_t seconds = time.ToUnixSeconds();
  return seconds != 0 ? json::value(FormatTime(seconds)) : json::value();
}

json::value Bytes(const std::vector<uint8_t>& bytes) {
  return bytes.empty() ? json::value() : json::value(Base64Encode(bytes));
}

json::value String(const std::string& text) {
  return text.empty() ? json::value() : json::value(text);
}

template <class T>
json::value Optional(const Nullable<T>& value) {
  return value.HasValue() ? json::value(value.Value()) : json::value();
}

json::object Attributes(const keys::KeyProperties& p) {
  return json::object{{"created", Time(p.CreatedOn)},
                      {"enabled", Optional(p.Enabled)},
                      {"expires", Time(p.ExpiresOn)},
                      {"exportable", Optional(p.Exportable)},
                      {"hsmPlatform", String(p.HsmPlatform)},
                      {"notBefore", Time(p.NotBefore)},
                      {"recoverableDays", Optional(p.RecoverableDays)},
                      {"recoveryLevel", String(p.RecoveryLevel)},
                      {"updated", Time(p.UpdatedOn)}};
}

json::value Tags(const keys::KeyProperties& p) {
  if (p.Tags.empty()) return json::value();
  json::object tags;
  for (const auto& [name, value] : p.Tags) tags[name] = value;
  return tags;
}

json::value ReleasePolicy(const keys::KeyProperties& p) {
  if (!p.ReleasePolicy.HasValue()) return json::value();
  const keys::KeyReleasePolicy& policy = p.ReleasePolicy.Value();
  std::vector<uint8_t> encoded(policy.EncodedPolicy.begin(), policy.EncodedPolicy.end());
  return json::object{{"contentType", Optional(policy.ContentType)},
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
      {"kid", String(k.Id)},
      {"kty", String(k.KeyType.ToString())},
      {"n", Bytes(k.N)},
      {"p", Bytes(k.P)},
      {"q", Bytes(k.Q)},
      {"qi", Bytes(k.QI)},
      {"t", Bytes(k.T)},
      {"x", Bytes(k.X)},
      {"y", Bytes(k.Y)}};
}

void AddDeletion(json::object& o, const keys::DeletedKey& key) {
  o["deletedDate"] = Time(key.DeletedDate);
  o["recoveryId"] = String(key.RecoveryId);
  o["scheduledPurgeDate"] = Time(key.ScheduledPurgeDate);
}

const json::value* Path(const json::object& o, std::initializer_list<const char*> names) {
  const json::object* current = &o;
  const json::value* found = nullptr;
  for (const char* name : names) {
    if (current == nullptr) return nullptr;
    found = current->if_contains(name);
    if (found == nullptr) return nullptr;
    current = found->is_object() ? &found->get_object() : nullptr;
  }
  return found;
}

json::value At(const json::object& o, std::initializer_list<const char*> names) {
  const json::value* v = Path(o, names);
  return v != nullptr ? *v : json::value();
}

// Name and version from a key id: https://HOST/keys/NAME[/VERSION].
std::pair<std::string, std::string> NameAndVersion(const json::value& kid) {
  if (!kid.is_string()) return {};
  std::string id(kid.get_string());
  size_t scheme = id.find("://");
  size_t path = id.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return {};
  std::vector<std::string> segments;
  for (size_t start = path + 1;;) {
    size_t end = id.find('/', start);
    segments.push_back(id.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (segments.size() < 2) return {};
  return {segments[1], segments.size() > 2 ? segments[2] : ""};
}

}  // namespace

json::object KeyJson(const keys::KeyVaultKey& key) {
  const keys::KeyProperties& p = key.Properties;
  return json::object{{"attributes", Attributes(p)},
                      {"key", JsonWebKey(key.Key)},
                      {"managed", p.Managed ? json::value(true) : json::value()},
                      {"releasePolicy", ReleasePolicy(p)},
                      {"tags", Tags(p)}};
}

json::object DeletedKeyJson(const keys::DeletedKey& key) {
  json::object o = KeyJson(key);
  AddDeletion(o, key);
  return o;
}

json::object KeyItemJson(const keys::KeyProperties& p) {
  return json::object{{"attributes", Attributes(p)},
                      {"kid", String(p.Id)},
                      {"managed", p.Managed ? json::value(true) : json::value()},
                      {"name", String(p.Name)},
                      {"releasePolicy", ReleasePolicy(p)},
                      {"tags", Tags(p)}};
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
                                   {"timeAfterCreate", Optional(a.Trigger.TimeAfterCreate)},
                                   {"timeBeforeExpiry", Optional(a.Trigger.TimeBeforeExpiry)}});
  }
  return json::object{{"createdOn", Time(policy.CreatedOn)},
                      {"expiresIn", Optional(policy.ExpiresIn)},
                      {"id", String(policy.Id)},
                      {"lifetimeActions", std::move(actions)},
                      {"updatedOn", Time(policy.UpdatedOn)}};
}

std::vector<std::pair<std::string, json::value>> KeyTableRow(const json::object& key) {
  auto [name, version] = NameAndVersion(At(key, {"key", "kid"}));
  std::vector<std::pair<std::string, json::value>> row = {
      {"Name", json::value(name)},
      {"Version", json::value(version)},
      {"Kty", At(key, {"key", "kty"})},
      {"Enabled", At(key, {"attributes", "enabled"})},
      {"Expires", At(key, {"attributes", "expires"})}};
  if (key.contains("deletedDate")) {
    row.emplace_back("DeletedDate", At(key, {"deletedDate"}));
    row.emplace_back("ScheduledPurgeDate", At(key, {"scheduledPurgeDate"}));
  }
  return row;
}

std::vector<std::pair<std::string, json::value>> KeyItemTableRow(const json::object& item) {
  auto [name, version] = NameAndVersion(At(item, {"kid"}));
  std::vector<std::pair<std::string, json::value>> row = {{"Name", json::value(name)}};
  if (!version.empty()) row.emplace_back("Version", json::value(version));
  row.emplace_back("Enabled", At(item, {"attributes", "enabled"}));
  row.emplace_back("Expires", At(item, {"attributes", "expires"}));
  row.emplace_back("Updated", At(item, {"attributes", "updated"}));
  return row;
}

std::vector<std::pair<std::string, json::value>> DeletedKeyTableRow(const json::object& key) {
  const json::value kid = key.contains("kid") ? At(key, {"kid"}) : At(key, {"key", "kid"});
  return {{"Name", json::value(NameAndVersion(kid).first)},
          {"DeletedDate", At(key, {"deletedDate"})},
          {"ScheduledPurgeDate", At(key, {"scheduledPurgeDate"})},
          {"RecoveryId", At(key, {"recoveryId"})}};
}

std::vector<std::pair<std::string, json::value>> RotationPolicyTableRow(const json::object& p) {
  std::string actions;
  if (const json::value* list = Path(p, {"lifetimeActions"}); list && list->is_array()) {
    for (const auto& a : list->get_array()) {
      if (!a.is_object()) continue;
      const json::object& action = a.get_object();
      if (!actions.empty()) actions += ", ";
      json::value after = At(action, {"timeAfterCreate"});
      json::value before = At(action, {"timeBeforeExpiry"});
      actions += std::string(
          At(action, {"action"}).is_string() ? At(action, {"action"}).get_string().c_str() : "?");
      if (after.is_string()) actions += " " + std::string(after.get_string()) + " after create";
      if (before.is_string()) {
        actions += " " + std::string(before.get_string()) + " before expiry";
      }
    }
  }
  return {{"Id", At(p, {"id"})},
          {"ExpiresIn", At(p, {"expiresIn"})},
          {"LifetimeActions", json::value(actions)},
          {"UpdatedOn", At(p, {"updatedOn"})}};
}

}  // namespace coffre::cli
