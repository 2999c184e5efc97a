// Who may do what in a vault: Azure Key Vault's two permission models, as pure functions.
//
// - Access policies: per vault, a list of (object id [+ application id]) -> permission names per
//   object kind (keys: get, list, create, ...).
// - RBAC (when the vault enables it): role assignments (role, principal object id, scope) with
//   the built-in Key Vault data-plane roles and their data actions; scopes are "/" (all vaults),
//   "/vaults/V", "/vaults/V/keys/K" and "/vaults/V/secrets/S".
// Denials carry Key Vault's 403 code, inner code and message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"

namespace coffre::auth {

enum class PermissionKind { kKeys, kSecrets, kCertificates };

// The canonical spelling of a permission name ("unwrapkey" -> "unwrapKey"), or nullopt if the
// kind has no such permission. "all" expands to every permission of the kind (Expand).
std::optional<std::string> CanonicalPermission(PermissionKind kind, std::string_view name);
std::vector<std::string> AllPermissions(PermissionKind kind);

struct AccessPolicyEntry {
  std::string object_id;
  std::string application_id;  // empty: any application signed in as object_id
  std::vector<std::string> keys;
  std::vector<std::string> secrets;
  std::vector<std::string> certificates;
};

struct RoleAssignment {
  std::string id;
  std::string role;          // built-in role name
  std::string principal_id;  // object id
  std::string scope;         // a NormalizeScope form (lowercase)
};

struct BuiltInRole {
  std::string_view name;
  std::string_view id;  // Azure's role definition GUID
  std::vector<std::string_view> data_actions;
};
const std::vector<BuiltInRole>& BuiltInRoles();
// By name (case-insensitive) or role definition id.
const BuiltInRole* FindBuiltInRole(std::string_view name_or_id);
// Azure action matching: '*' stands for any run of characters ("Microsoft.KeyVault/vaults/*",
// "Microsoft.KeyVault/vaults/*/read"); case-insensitive.
bool DataActionMatches(std::string_view pattern, std::string_view action);
// Lowercases and checks a scope; nullopt if it is not one of the forms: "/" (the server, which is
// Resource Manager's one subscription), "/resourcegroups/RG", "/vaults/V", "/vaults/V/keys/K",
// "/vaults/V/secrets/S".
std::optional<std::string> NormalizeScope(std::string_view scope);

struct Caller {
  std::string object_id;
  std::string app_id;
  std::string issuer;
};

// Access-policy check: OK if an entry for the caller grants `permission` in the list of `kind`
// (key permissions by default).
Status CheckAccessPolicies(const std::vector<AccessPolicyEntry>& policies, const Caller& caller,
                           std::string_view vault, std::string_view permission,
                           PermissionKind kind = PermissionKind::kKeys);

// RBAC check: OK if an assignment of the caller whose scope covers the vault (and the object of
// `kind`, if any) has a role granting `data_action`. `object_name` is empty for vault-level
// operations (listing).
Status CheckRoleAssignments(const std::vector<RoleAssignment>& assignments, const Caller& caller,
                            std::string_view vault, std::string_view object_name,
                            std::string_view data_action,
                            PermissionKind kind = PermissionKind::kKeys);

}  // namespace coffre::auth
