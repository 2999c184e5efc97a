#include "service/vault_admin.h"

#include <utility>
#include <vector>

#include "common/strings.h"
#include "crypto/random.h"

namespace coffre::service {
namespace {

Status VaultNotFound(std::string_view name) {
  return Status::NotFound("VaultNotFound", "Vault not found: " + std::string(name.substr(0, 64)));
}

// The store's kNotFound for a vault-scoped call, as the admin API words it.
Status VaultError(const Status& status, std::string_view vault) {
  return status.kind() == ErrorKind::kNotFound ? VaultNotFound(vault) : status;
}

}  // namespace

void VaultAdmin::AccessChanged() const {
  if (hooks_.access_changed) hooks_.access_changed();
}

// ---- vaults

Result<std::vector<Vault>> VaultAdmin::ListVaults() {
  COFFRE_ASSIGN_OR_RETURN(auto all, store_.ListVaults());
  std::erase_if(all, [](const Vault& v) { return v.deleted_date.has_value(); });
  return all;
}

Result<Vault> VaultAdmin::GetVault(std::string_view name) {
  COFFRE_ASSIGN_OR_RETURN(auto vault, vaults_.Find(name));
  if (!vault) return VaultNotFound(AsciiLower(name));
  return *std::move(vault);
}

Result<Vault> VaultAdmin::CreateVault(std::string_view name, const VaultSettings& settings) {
  store::VaultRecord vault;
  vault.name = AsciiLower(name);
  const int64_t retention = settings.retention_days.value_or(kMaxRetentionDays);
  if (retention < kMinRetentionDays || retention > kMaxRetentionDays) {
    return Status::BadParameter("retentionDays must be from 7 to 90.");
  }
  vault.retention_days = static_cast<int>(retention);
  vault.purge_protection = settings.purge_protection.value_or(false);
  vault.rbac_authorization = settings.rbac_authorization.value_or(false);
  vault.created = clock_.NowSeconds();
  vault.resource_group = settings.resource_group.value_or("");
  vault.location = settings.location.value_or("");
  vault.tags = settings.tags.value_or(store::Tags{});
  if (settings.sku) {
    if (*settings.sku != "standard" && *settings.sku != "premium") {
      return Status::BadParameter("The sku name must be standard or premium.");
    }
    vault.sku = *settings.sku;
  }
  if (!IsValidVaultName(vault.name)) {
    return Status::BadParameter(
        "Invalid vault name: " + vault.name.substr(0, 64) +
        ". Vault names are 3-24 letters, digits and hyphens, starting with a letter.");
  }
  Status created = store_.CreateVault(vault);
  if (store::HasReason(created, store::reason::kExists)) {
    return Status::Conflict("A vault named " + vault.name + " already exists.");
  }
  if (created.kind() == ErrorKind::kNotFound) {
    return Status::NotFound(
        "ResourceGroupNotFound",
        "Resource group '" + vault.resource_group.substr(0, 90) + "' could not be found.");
  }
  COFFRE_RETURN_IF_ERROR(created);
  vaults_.Forget(vault.name);
  Status hooked = hooks_.vault_created ? hooks_.vault_created(vault) : Status::Ok();
  // The hook may have granted access in the new vault (--dev).
  AccessChanged();
  COFFRE_RETURN_IF_ERROR(hooked);
  return vault;
}

Result<Vault> VaultAdmin::UpdateVault(std::string_view name, const VaultSettings& settings) {
  const std::string key = AsciiLower(name);
  // The rules compare with the stored settings, read and written in one transaction, so two
  // updates at once cannot undo each other's checks.
  auto updated = store_.ModifyVault(key, [&](store::VaultRecord& vault) -> Status {
    if (settings.retention_days) {
      // A retention period protects deleted keys: it may grow, never shrink.
      if (*settings.retention_days < vault.retention_days ||
          *settings.retention_days > kMaxRetentionDays) {
        return Status::BadParameter("retentionDays can only be raised (now " +
                                    std::to_string(vault.retention_days) + ", at most 90).");
      }
      vault.retention_days = static_cast<int>(*settings.retention_days);
    }
    if (settings.purge_protection) {
      if (!*settings.purge_protection && vault.purge_protection) {
        return Status::BadParameter("Purge protection cannot be turned off once it is on.");
      }
      vault.purge_protection = *settings.purge_protection;
    }
    if (settings.rbac_authorization) vault.rbac_authorization = *settings.rbac_authorization;
    if (settings.sku) {
      if (*settings.sku != "standard" && *settings.sku != "premium") {
        return Status::BadParameter("The sku name must be standard or premium.");
      }
      vault.sku = *settings.sku;
    }
    if (settings.location && vault.location.empty()) vault.location = *settings.location;
    if (settings.tags) vault.tags = *settings.tags;
    // A soft-deleted vault is changed only by recovering or purging it.
    if (vault.deleted_date) return VaultNotFound(vault.name);
    return Status::Ok();
  });
  vaults_.Forget(key);
  if (!updated.ok()) return VaultError(updated.status(), key);
  // The permission model may have changed.
  AccessChanged();
  return *std::move(updated);
}

Status VaultAdmin::DeleteVault(std::string_view name) {
  const std::string key = AsciiLower(name);
  Status deleted = store_.DeleteVault(key);
  vaults_.Forget(key);
  if (deleted.kind() == ErrorKind::kConflict) {
    return Status::Conflict("The vault " + key +
                            " still holds keys or secrets (active or deleted); delete and purge "
                            "them first.");
  }
  COFFRE_RETURN_IF_ERROR(deleted);
  // Its access policies and the role assignments scoped to it went with it.
  AccessChanged();
  return Status::Ok();
}

// ---- soft-deleted vaults

namespace {
constexpr int64_t kSecondsPerDay = 86400;

Status DeletedVaultNotFound(std::string_view name) {
  return Status::NotFound("DeletedVaultNotFound",
                          "Deleted vault not found: " + std::string(name.substr(0, 64)));
}
}  // namespace

Result<Vault> VaultAdmin::SoftDeleteVault(std::string_view name) {
  const std::string key = AsciiLower(name);
  const int64_t now = clock_.NowSeconds();
  auto deleted = store_.ModifyVault(key, [&](store::VaultRecord& vault) -> Status {
    if (vault.deleted_date) return VaultNotFound(vault.name);
    vault.deleted_date = now;
    vault.scheduled_purge_date = now + int64_t{vault.retention_days} * kSecondsPerDay;
    return Status::Ok();
  });
  vaults_.Forget(key);
  if (!deleted.ok()) return VaultError(deleted.status(), key);
  AccessChanged();
  return *std::move(deleted);
}

Result<std::vector<Vault>> VaultAdmin::ListDeletedVaults() {
  COFFRE_ASSIGN_OR_RETURN(auto all, store_.ListVaults());
  std::erase_if(all, [](const Vault& v) { return !v.deleted_date.has_value(); });
  return all;
}

Result<Vault> VaultAdmin::GetDeletedVault(std::string_view name) {
  auto vault = store_.GetVault(AsciiLower(name));
  if (!vault.ok()) {
    return vault.status().kind() == ErrorKind::kNotFound ? DeletedVaultNotFound(name)
                                                         : vault.status();
  }
  if (!vault->deleted_date) return DeletedVaultNotFound(name);
  return *std::move(vault);
}

Status VaultAdmin::PurgeDeletedVault(std::string_view name) {
  COFFRE_ASSIGN_OR_RETURN(Vault vault, GetDeletedVault(name));
  if (vault.purge_protection && vault.scheduled_purge_date &&
      clock_.NowSeconds() < *vault.scheduled_purge_date) {
    return Status::Conflict("The vault " + vault.name +
                            " has purge protection: it can only be purged after its scheduled "
                            "purge date.");
  }
  Status purged = store_.PurgeVault(vault.name);
  vaults_.Forget(vault.name);
  if (purged.kind() == ErrorKind::kNotFound) return DeletedVaultNotFound(name);
  COFFRE_RETURN_IF_ERROR(purged);
  AccessChanged();
  return Status::Ok();
}

// ---- access policies

Result<std::vector<AccessPolicy>> VaultAdmin::ListAccessPolicies(std::string_view vault) {
  COFFRE_ASSIGN_OR_RETURN(auto found, GetVault(vault));
  return store_.ListAccessPolicies(found.name);
}

Result<AccessPolicy> VaultAdmin::SetAccessPolicy(AccessPolicyChange change) {
  change.vault = AsciiLower(change.vault);
  change.object_id = AsciiLower(change.object_id);
  change.application_id = AsciiLower(change.application_id);
  // One atomic merge: two set-policy calls naming different kinds for one entry both apply.
  auto merged = store_.MergeAccessPolicy(change);
  if (!merged.ok()) return VaultError(merged.status(), change.vault);
  AccessChanged();
  return merged;
}

Status VaultAdmin::DeleteAccessPolicy(std::string_view vault, std::string_view object_id,
                                      std::string_view application_id) {
  Status deleted = store_.DeleteAccessPolicy(AsciiLower(vault), AsciiLower(object_id),
                                             AsciiLower(application_id));
  if (deleted.kind() == ErrorKind::kNotFound) {
    return Status::NotFound("AccessPolicyNotFound", "No access policy for that object id.");
  }
  COFFRE_RETURN_IF_ERROR(deleted);
  AccessChanged();
  return Status::Ok();
}

// ---- role assignments

Result<std::vector<RoleAssignment>> VaultAdmin::ListRoleAssignments(
    const std::optional<std::string>& scope) {
  COFFRE_ASSIGN_OR_RETURN(auto all, store_.ListRoleAssignments());
  if (!scope) return all;
  std::vector<RoleAssignment> at_scope;
  for (auto& a : all) {
    if (a.scope == *scope) at_scope.push_back(std::move(a));
  }
  return at_scope;
}

Result<RoleAssignment> VaultAdmin::AddRoleAssignment(std::string_view role,
                                                     std::string_view principal_id,
                                                     std::string_view scope) {
  constexpr std::string_view kVaultsPrefix = "/vaults/";
  if (scope.starts_with(kVaultsPrefix)) {
    std::string_view rest = scope.substr(kVaultsPrefix.size());
    COFFRE_RETURN_IF_ERROR(GetVault(rest.substr(0, rest.find('/'))).status());
  }
  store::RoleAssignmentRecord record{crypto::RandomUuid(), std::string(role),
                                     AsciiLower(principal_id), std::string(scope),
                                     clock_.NowSeconds()};
  COFFRE_RETURN_IF_ERROR(store_.AddRoleAssignment(record));
  AccessChanged();
  return record;
}

Status VaultAdmin::DeleteRoleAssignment(std::string_view id) {
  Status deleted = store_.DeleteRoleAssignment(AsciiLower(id));
  if (deleted.kind() == ErrorKind::kNotFound) {
    return Status::NotFound("RoleAssignmentNotFound", "No such role assignment.");
  }
  COFFRE_RETURN_IF_ERROR(deleted);
  AccessChanged();
  return Status::Ok();
}

// ---- principals

Result<std::vector<Principal>> VaultAdmin::ListPrincipals() { return store_.ListPrincipals(); }

Status VaultAdmin::AddPrincipal(const Principal& principal) {
  return store_.AddPrincipal(principal);
}

Result<Principal> VaultAdmin::FindPrincipal(std::string_view name_or_client_id) {
  if (auto by_id = store_.GetPrincipalByClientId(name_or_client_id); by_id.ok()) return *by_id;
  COFFRE_ASSIGN_OR_RETURN(auto all, store_.ListPrincipals());
  const std::string wanted = AsciiLower(name_or_client_id);
  for (auto& p : all) {
    if (AsciiLower(p.name) == wanted) return std::move(p);
  }
  return Status::NotFound(
      "PrincipalNotFound",
      "No principal is called " + std::string(name_or_client_id.substr(0, 128)) + ".");
}

Status VaultAdmin::DeletePrincipal(const Principal& principal) {
  Status deleted = store_.DeletePrincipal(principal.name);
  if (deleted.kind() == ErrorKind::kNotFound) {
    return Status::NotFound("PrincipalNotFound", "Principal not found: " + principal.name);
  }
  return deleted;
}

// ---- users

Result<std::vector<User>> VaultAdmin::ListUsers() { return store_.ListUsers(); }

Result<User> VaultAdmin::FindUser(std::string_view upn_or_object_id) {
  auto user = upn_or_object_id.find('@') != std::string_view::npos
                  ? store_.GetUserByUpn(upn_or_object_id)
                  : store_.GetUserByObjectId(upn_or_object_id);
  if (!user.ok() && user.status().kind() == ErrorKind::kNotFound) {
    return Status::NotFound("UserNotFound",
                            "No user " + std::string(upn_or_object_id.substr(0, 256)) + ".");
  }
  return user;
}

}  // namespace coffre::service
