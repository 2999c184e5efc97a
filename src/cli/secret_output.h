// Secret results in the shapes `az keyvault secret ...` prints (field names, nulls, "+00:00"
// times), and the columns of their `-o table` form.
#pragma once

#include "cli/cli.h"
#include "coffre/secrets/secret_client_models.h"

namespace coffre::cli {

// az keyvault secret show/set: {"attributes","contentType","id","kid","managed","name","tags",
// "value"}.
json::object SecretJson(const secrets::KeyVaultSecret& secret);
// az keyvault secret set-attributes/recover/restore: SecretJson without "value".
json::object SecretPropertiesJson(const secrets::SecretProperties& properties);
// az keyvault secret delete/show-deleted: SecretPropertiesJson plus deletedDate, recoveryId,
// scheduledPurgeDate.
json::object DeletedSecretJson(const secrets::DeletedSecret& secret);
// az keyvault secret list/list-versions items: {"attributes","contentType","id","managed",
// "name","tags"} (never a value).
json::object SecretItemJson(const secrets::SecretProperties& properties);
// az keyvault secret list-deleted items: SecretItemJson plus the deletion fields.
json::object DeletedSecretItemJson(const secrets::DeletedSecret& secret);

// Table columns.
std::vector<std::pair<std::string, json::value>> SecretTableRow(const json::object& secret);
std::vector<std::pair<std::string, json::value>> SecretItemTableRow(const json::object& item);
std::vector<std::pair<std::string, json::value>> DeletedSecretTableRow(const json::object& secret);

}  // namespace coffre::cli
