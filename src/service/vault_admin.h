// VaultAdmin: the rules of administration (the admin API's resources): vaults, their access
// policies, role assignments and principals.
//
// Every change is one store transaction. After it, VaultAdmin tells what serves the data plane
// from caches (the vault directory itself; the access checker and, in --dev, the TLS certificate
// through Hooks), so a change made through this server applies to its next request.
//
// Callers hand in requests already parsed: permission names canonical, role names and scopes
// checked (auth/access_control.h owns those vocabularies). Errors are ready for the wire.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "common/clock.h"
#include "service/vault_directory.h"
#include "store/store.h"

namespace coffre::service {

// The records administration deals in.
using Vault = store::VaultRecord;
using AccessPolicy = store::AccessPolicyRecord;
using AccessPolicyChange = store::AccessPolicyChange;
using RoleAssignment = store::RoleAssignmentRecord;
using Principal = store::PrincipalRecord;
using User = store::UserRecord;

// A vault's settings as a request gives them: absent ones take their default (create) or stay
// as they are (update).
struct VaultSettings {
  std::optional<int64_t> retention_days = std::nullopt;
  std::optional<bool> purge_protection = std::nullopt;
  std::optional<bool> rbac_authorization = std::nullopt;
  // Resource Manager's view of the vault. The group is set at creation only (it must exist);
  // location, sku and tags may change.
  std::optional<std::string> resource_group = std::nullopt;
  std::optional<std::string> location = std::nullopt;
  std::optional<std::string> sku = std::nullopt;  // "standard" or "premium"
  std::optional<store::Tags> tags = std::nullopt;
};

class VaultAdmin {
 public:
  static constexpr int kMinRetentionDays = 7;
  static constexpr int kMaxRetentionDays = 90;

  struct Hooks {
    // Access policies, role assignments or a vault's permission model may have changed: whatever
    // caches access decisions must drop them. May be empty.
    std::function<void()> access_changed;
    // Runs after a vault is created (in --dev: cover NAME.localhost in the TLS certificate and
    // give the dev identity full rights); its error is the request's. May be empty.
    std::function<Status(const Vault&)> vault_created;
  };

  VaultAdmin(store::Store& store, VaultDirectory& vaults, const Clock& clock, Hooks hooks = {})
      : store_(store), vaults_(vaults), clock_(clock), hooks_(std::move(hooks)) {}

  // Sets the vault_created hook; call before the first request (the hook may need objects that
  // exist only after this one, such as the server whose certificate it reissues).
  void OnVaultCreated(std::function<Status(const Vault&)> hook) {
    hooks_.vault_created = std::move(hook);
  }

  // ---- vaults
  Result<std::vector<Vault>> ListVaults();
  // kNotFound "VaultNotFound" if there is no such vault.
  Result<Vault> GetVault(std::string_view name);
  // kConflict if the name is taken.
  Result<Vault> CreateVault(std::string_view name, const VaultSettings& settings);
  // As on Azure, retention may only grow and purge protection, once on, stays on.
  Result<Vault> UpdateVault(std::string_view name, const VaultSettings& settings);
  // kConflict while the vault holds keys, active or soft-deleted.
  Status DeleteVault(std::string_view name);

  // ---- soft-deleted vaults (Resource Manager's delete: the vault and everything in it are kept
  // for its retention period, serve nothing, and its name stays taken)
  // Returns the vault as deleted. kNotFound "VaultNotFound" for no (active) vault.
  Result<Vault> SoftDeleteVault(std::string_view name);
  Result<std::vector<Vault>> ListDeletedVaults();
  // kNotFound "DeletedVaultNotFound" unless the vault is soft-deleted.
  Result<Vault> GetDeletedVault(std::string_view name);
  // Removes a soft-deleted vault and everything in it for good. As on Azure, a vault with purge
  // protection cannot be purged before its scheduled purge date.
  Status PurgeDeletedVault(std::string_view name);

  // ---- access policies
  Result<std::vector<AccessPolicy>> ListAccessPolicies(std::string_view vault);
  // Like `az keyvault set-policy`: the permission kinds the change names replace what the entry
  // had, the rest stay (a new entry starts with none). Returns the entry as stored.
  Result<AccessPolicy> SetAccessPolicy(AccessPolicyChange change);
  Status DeleteAccessPolicy(std::string_view vault, std::string_view object_id,
                            std::string_view application_id);

  // ---- role assignments
  // All of them, or those at exactly `scope` (normalized, auth::NormalizeScope).
  Result<std::vector<RoleAssignment>> ListRoleAssignments(const std::optional<std::string>& scope);
  // `role`: a built-in role's name; `scope`: normalized. A scope naming a vault needs the vault
  // to exist, as an Azure resource scope does.
  Result<RoleAssignment> AddRoleAssignment(std::string_view role, std::string_view principal_id,
                                           std::string_view scope);
  Status DeleteRoleAssignment(std::string_view id);

  // ---- principals
  Result<std::vector<Principal>> ListPrincipals();
  // Stores a principal made by auth::NewPrincipal (which owns the secret and its hash).
  Status AddPrincipal(const Principal& principal);
  // By client id, or by display name (case-insensitive). kNotFound "PrincipalNotFound".
  Result<Principal> FindPrincipal(std::string_view name_or_client_id);
  Status DeletePrincipal(const Principal& principal);

  // ---- users (made offline by `coffre user create`; looked up for Graph and access policies)
  Result<std::vector<User>> ListUsers();
  // By UPN (case-insensitive) or object id. kNotFound "UserNotFound".
  Result<User> FindUser(std::string_view upn_or_object_id);

 private:
  void AccessChanged() const;

  store::Store& store_;
  VaultDirectory& vaults_;
  const Clock& clock_;
  Hooks hooks_;
};

}  // namespace coffre::service
