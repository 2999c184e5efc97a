#include "cli/secret_output.h"

#include "cli/vault_object.h"

namespace coffre::cli {
namespace {

json::object Attributes(const secrets::SecretProperties& p) {
  return json::object{{"created", TimeJson(p.CreatedOn)},
                      {"enabled", OptionalJson(p.Enabled)},
                      {"expires", TimeJson(p.ExpiresOn)},
                      {"notBefore", TimeJson(p.NotBefore)},
                      {"recoverableDays", OptionalJson(p.RecoverableDays)},
                      {"recoveryLevel", OptionalJson(p.RecoveryLevel)},
                      {"updated", TimeJson(p.UpdatedOn)}};
}

json::value Managed(const secrets::SecretProperties& p) {
  return p.Managed ? json::value(true) : json::value();
}

void AddDeletion(json::object& o, const secrets::DeletedSecret& secret) {
  o["deletedDate"] = TimeJson(secret.DeletedOn);
  o["recoveryId"] = StringJson(secret.RecoveryId);
  o["scheduledPurgeDate"] = TimeJson(secret.ScheduledPurgeDate);
}

}  // namespace

json::object SecretPropertiesJson(const secrets::SecretProperties& p) {
  return json::object{{"attributes", Attributes(p)}, {"contentType", OptionalJson(p.ContentType)},
                      {"id", StringJson(p.Id)},      {"kid", OptionalJson(p.KeyId)},
                      {"managed", Managed(p)},       {"name", StringJson(p.Name)},
                      {"tags", TagsJson(p.Tags)}};
}

json::object SecretJson(const secrets::KeyVaultSecret& secret) {
  json::object o = SecretPropertiesJson(secret.Properties);
  o["value"] = OptionalJson(secret.Value);
  return o;
}

json::object DeletedSecretJson(const secrets::DeletedSecret& secret) {
  json::object o = SecretPropertiesJson(secret.Properties);
  AddDeletion(o, secret);
  return o;
}

json::object SecretItemJson(const secrets::SecretProperties& p) {
  return json::object{{"attributes", Attributes(p)}, {"contentType", OptionalJson(p.ContentType)},
                      {"id", StringJson(p.Id)},      {"managed", Managed(p)},
                      {"name", StringJson(p.Name)},  {"tags", TagsJson(p.Tags)}};
}

json::object DeletedSecretItemJson(const secrets::DeletedSecret& secret) {
  json::object o = SecretItemJson(secret.Properties);
  AddDeletion(o, secret);
  return o;
}

std::vector<std::pair<std::string, json::value>> SecretTableRow(const json::object& secret) {
  auto [name, version] = NameAndVersion(JsonAt(secret, {"id"}));
  std::vector<std::pair<std::string, json::value>> row = {
      {"Name", json::value(name)},
      {"Version", json::value(version)},
      {"ContentType", JsonAt(secret, {"contentType"})},
      {"Enabled", JsonAt(secret, {"attributes", "enabled"})},
      {"Expires", JsonAt(secret, {"attributes", "expires"})}};
  if (secret.contains("value")) row.emplace_back("Value", JsonAt(secret, {"value"}));
  return row;
}

std::vector<std::pair<std::string, json::value>> SecretItemTableRow(const json::object& item) {
  auto [name, version] = NameAndVersion(JsonAt(item, {"id"}));
  std::vector<std::pair<std::string, json::value>> row = {{"Name", json::value(name)}};
  if (!version.empty()) row.emplace_back("Version", json::value(version));
  row.emplace_back("ContentType", JsonAt(item, {"contentType"}));
  row.emplace_back("Enabled", JsonAt(item, {"attributes", "enabled"}));
  row.emplace_back("Expires", JsonAt(item, {"attributes", "expires"}));
  row.emplace_back("Updated", JsonAt(item, {"attributes", "updated"}));
  return row;
}

std::vector<std::pair<std::string, json::value>> DeletedSecretTableRow(const json::object& secret) {
  return {{"Name", JsonAt(secret, {"name"})},
          {"DeletedDate", JsonAt(secret, {"deletedDate"})},
          {"ScheduledPurgeDate", JsonAt(secret, {"scheduledPurgeDate"})},
          {"RecoveryId", JsonAt(secret, {"recoveryId"})}};
}

}  // namespace coffre::cli
