// Key results in the shapes `az keyvault key ...` prints (field names, nesting, nulls, base64
// key material, "+00:00" times), and the columns of their `-o table` form.
#pragma once

#include "cli/cli.h"
#include "coffre/keys/key_client_models.h"

namespace coffre::cli {

// az keyvault key show/create/import/rotate/recover/restore/set-attributes:
// {"attributes","key","managed","releasePolicy","tags"}.
json::object KeyJson(const keys::KeyVaultKey& key);
// az keyvault key delete/show-deleted: KeyJson plus deletedDate, recoveryId, scheduledPurgeDate.
json::object DeletedKeyJson(const keys::DeletedKey& key);
// az keyvault key list/list-versions items: {"attributes","kid","managed","name",
// "releasePolicy","tags"}.
json::object KeyItemJson(const keys::KeyProperties& properties);
// az keyvault key list-deleted items: KeyItemJson plus the deletion fields.
json::object DeletedKeyItemJson(const keys::DeletedKey& key);
// az keyvault key rotation-policy show: {"createdOn","expiresIn","id","lifetimeActions":[
// {"action","timeAfterCreate","timeBeforeExpiry"}],"updatedOn"}.
json::object RotationPolicyJson(const keys::KeyRotationPolicy& policy);

// Table columns.
std::vector<std::pair<std::string, json::value>> KeyTableRow(const json::object& key);
std::vector<std::pair<std::string, json::value>> KeyItemTableRow(const json::object& item);
std::vector<std::pair<std::string, json::value>> DeletedKeyTableRow(const json::object& key);
std::vector<std::pair<std::string, json::value>> RotationPolicyTableRow(const json::object& p);

}  // namespace coffre::cli
