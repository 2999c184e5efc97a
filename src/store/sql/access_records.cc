// Vaults, their access policies and role assignments: the rules, written once for both engines.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "store/sql/record_codec.h"
#include "store/sql/sql_store.h"

namespace coffre::store::sql {
namespace {

using Mode = Engine::Mode;

constexpr char kPutVaultSql[] =
    "INSERT INTO vaults (name, retention_days, purge_protection, created, rbac_authorization, "
    "resource_group_key, resource_group, location, sku, tags, deleted_date, scheduled_purge_date) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (name) DO NOTHING";
#define COFFRE_VAULT_SELECT                                                                      \
  "SELECT name, retention_days, purge_protection, created, rbac_authorization, resource_group, " \
  "location, sku, tags, deleted_date, scheduled_purge_date FROM vaults "
constexpr char kGetVaultSql[] = COFFRE_VAULT_SELECT "WHERE name = $1";
constexpr char kListVaultsSql[] = COFFRE_VAULT_SELECT "ORDER BY name";
constexpr char kLockVaultRowSql[] = COFFRE_VAULT_SELECT "WHERE name = $1 FOR UPDATE";
#undef COFFRE_VAULT_SELECT
// Waits for writers that hold the vault (adding keys or policies), then keeps new ones out.
constexpr char kLockVaultSql[] = "SELECT 1 FROM vaults WHERE name = $1 FOR UPDATE";
// The columns of kPutVaultSql but created, which never changes.
constexpr char kUpdateVaultSql[] =
    "UPDATE vaults SET retention_days = $2, purge_protection = $3, rbac_authorization = $4, "
    "resource_group_key = $5, resource_group = $6, location = $7, sku = $8, tags = $9, "
    "deleted_date = $10, scheduled_purge_date = $11 WHERE name = $1";
constexpr char kResourceGroupExistsSql[] =
    "SELECT 1 FROM resource_groups WHERE name_key = $1 FOR UPDATE";
constexpr char kVaultHasKeysSql[] =
    "SELECT 1 FROM keys WHERE vault = $1 UNION ALL SELECT 1 FROM secrets WHERE vault = $1 "
    "UNION ALL SELECT 1 FROM certificates WHERE vault = $1 LIMIT 1";
constexpr char kDeleteVaultPoliciesSql[] = "DELETE FROM access_policies WHERE vault = $1";
constexpr char kDeleteVaultSql[] = "DELETE FROM vaults WHERE name = $1";
// Scopes are stored lowercase; $1 is "/vaults/NAME", $2 "/vaults/NAME/%" (vault names hold no
// LIKE wildcards), covering the vault and its keys, secrets and certificates.
constexpr char kDeleteVaultRoleAssignmentsSql[] =
    "DELETE FROM role_assignments WHERE scope = $1 OR scope LIKE $2";

constexpr char kPutAccessPolicySql[] =
    "INSERT INTO access_policies (vault, object_id, application_id, keys, secrets, certificates) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (vault, object_id, application_id) DO UPDATE "
    "SET keys = excluded.keys, secrets = excluded.secrets, certificates = excluded.certificates";
// $7..$9: whether the change replaces keys, secrets, certificates. One statement (the conflict
// locks the row), so two merges of one entry never lose each other's lists.
constexpr char kMergeAccessPolicySql[] =
    "INSERT INTO access_policies (vault, object_id, application_id, keys, secrets, certificates) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (vault, object_id, application_id) DO UPDATE "
    "SET keys = CASE WHEN CAST($7 AS BOOLEAN) THEN excluded.keys ELSE access_policies.keys END, "
    "secrets = CASE WHEN CAST($8 AS BOOLEAN) THEN excluded.secrets "
    "ELSE access_policies.secrets END, "
    "certificates = CASE WHEN CAST($9 AS BOOLEAN) THEN excluded.certificates "
    "ELSE access_policies.certificates END "
    "RETURNING vault, object_id, application_id, keys, secrets, certificates";
constexpr char kDeleteAccessPolicySql[] =
    "DELETE FROM access_policies WHERE vault = $1 AND object_id = $2 AND application_id = $3";
constexpr char kListAccessPoliciesSql[] =
    "SELECT vault, object_id, application_id, keys, secrets, certificates FROM access_policies "
    "WHERE vault = $1 ORDER BY object_id, application_id";

constexpr char kInsertRoleAssignmentSql[] =
    "INSERT INTO role_assignments (id, role, principal_id, scope, created) "
    "VALUES ($1, $2, $3, $4, $5)";
constexpr char kDeleteRoleAssignmentSql[] = "DELETE FROM role_assignments WHERE id = $1";
#define COFFRE_ASSIGNMENT_SELECT \
  "SELECT id, role, principal_id, scope, created FROM role_assignments "
constexpr char kListRoleAssignmentsSql[] = COFFRE_ASSIGNMENT_SELECT "ORDER BY created, id";
constexpr char kListRoleAssignmentsForSql[] =
    COFFRE_ASSIGNMENT_SELECT "WHERE principal_id = $1 ORDER BY created, id";
#undef COFFRE_ASSIGNMENT_SELECT

Status ReadVault(const Row& row, VaultRecord* vault) {
  if (!row.Text(0, &vault->name) || !row.Int(1, &vault->retention_days) ||
      !row.Bool(2, &vault->purge_protection) || !row.Int(3, &vault->created) ||
      !row.Bool(4, &vault->rbac_authorization) || !row.Text(5, &vault->resource_group) ||
      !row.Text(6, &vault->location) || !row.Text(7, &vault->sku)) {
    return Corrupt("vaults");
  }
  std::string tags;
  if (!row.Text(8, &tags) || !DecodeTags(tags, &vault->tags)) return Corrupt("vaults");
  for (int col : {9, 10}) {
    std::optional<int64_t>& field = col == 9 ? vault->deleted_date : vault->scheduled_purge_date;
    field.reset();
    if (!row.IsNull(col)) {
      int64_t value = 0;
      if (!row.Int(col, &value)) return Corrupt("vaults");
      field = value;
    }
  }
  return Status::Ok();
}

Status ReadAccessPolicy(const Row& row, AccessPolicyRecord* p) {
  std::string keys;
  std::string secrets;
  std::string certificates;
  if (!row.Text(0, &p->vault) || !row.Text(1, &p->object_id) || !row.Text(2, &p->application_id) ||
      !row.Document(3, &keys) || !row.Document(4, &secrets) || !row.Document(5, &certificates) ||
      !DecodeKeyOps(keys, &p->keys) || !DecodeKeyOps(secrets, &p->secrets) ||
      !DecodeKeyOps(certificates, &p->certificates)) {
    return Corrupt("access_policies");
  }
  return Status::Ok();
}

Status ReadRoleAssignment(const Row& row, RoleAssignmentRecord* a) {
  if (!row.Text(0, &a->id) || !row.Text(1, &a->role) || !row.Text(2, &a->principal_id) ||
      !row.Text(3, &a->scope) || !row.Int(4, &a->created)) {
    return Corrupt("role_assignments");
  }
  return Status::Ok();
}

// The columns of kPutVaultSql, or (for_update) of kUpdateVaultSql.
Params VaultParams(const VaultRecord& vault, bool for_update = false) {
  Params params;
  params.Text(AsciiLower(vault.name)).Int(vault.retention_days).Bool(vault.purge_protection);
  if (!for_update) params.Int(vault.created);
  params.Bool(vault.rbac_authorization)
      .Text(AsciiLower(vault.resource_group))
      .Text(vault.resource_group)
      .Text(vault.location)
      .Text(vault.sku)
      .Text(EncodeTags(vault.tags))
      .OptInt(vault.deleted_date)
      .OptInt(vault.scheduled_purge_date);
  return params;
}

}  // namespace

// ---- vaults

Status SqlStore::PutVault(const VaultRecord& vault) {
  if (vault.name.empty()) return Status::BadParameter("vault name is empty");
  // One idempotent statement: safe to repeat after a lost connection.
  return Run(Mode::kIdempotentWrite, [&](Transaction& txn) -> Status {
    return txn.Exec(kPutVaultSql, VaultParams(vault)).status();
  });
}

Status SqlStore::CreateVault(const VaultRecord& vault) {
  if (vault.name.empty()) return Status::BadParameter("vault name is empty");
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    if (!vault.resource_group.empty()) {
      // The group row stays locked until the vault is in: a group delete cannot slip between.
      COFFRE_ASSIGN_OR_RETURN(bool group, Exists(txn, kResourceGroupExistsSql,
                                                 Params().Text(AsciiLower(vault.resource_group))));
      if (!group) {
        return Status::NotFound("ResourceGroupNotFound",
                                "resource group '" + vault.resource_group + "' not found");
      }
    }
    COFFRE_ASSIGN_OR_RETURN(int64_t inserted, txn.Exec(kPutVaultSql, VaultParams(vault)));
    if (inserted == 0) {
      return Status::Conflict("vault '" + AsciiLower(vault.name) + "' exists",
                              std::string(reason::kExists));
    }
    return Status::Ok();
  });
}

Result<VaultRecord> SqlStore::GetVault(std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<VaultRecord> {
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<VaultRecord> vaults,
        QueryAll<VaultRecord>(txn, kGetVaultSql, Params().Text(AsciiLower(name)), ReadVault));
    if (vaults.empty()) return VaultNotFound(name);
    return std::move(vaults.front());
  });
}

Result<std::vector<VaultRecord>> SqlStore::ListVaults() {
  return Run(Mode::kRead, [&](Transaction& txn) {
    return QueryAll<VaultRecord>(txn, kListVaultsSql, Params(), ReadVault);
  });
}

Status SqlStore::UpdateVault(const VaultRecord& vault) {
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(int64_t updated,
                            txn.Exec(kUpdateVaultSql, VaultParams(vault, /*for_update=*/true)));
    if (updated == 0) return VaultNotFound(vault.name);
    return Status::Ok();
  });
}

Result<VaultRecord> SqlStore::ModifyVault(std::string_view name,
                                          const std::function<Status(VaultRecord&)>& change) {
  const std::string vault = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<VaultRecord> {
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<VaultRecord> found,
        QueryAll<VaultRecord>(txn, kLockVaultRowSql, Params().Text(vault), ReadVault));
    if (found.empty()) return VaultNotFound(vault);
    VaultRecord stored = found.front();
    VaultRecord changed = stored;
    COFFRE_RETURN_IF_ERROR(change(changed));
    changed.name = stored.name;
    changed.created = stored.created;
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(kUpdateVaultSql, VaultParams(changed, /*for_update=*/true)).status());
    return changed;
  });
}

Status SqlStore::DeleteVault(std::string_view name) {
  const std::string vault = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(bool exists, Exists(txn, kLockVaultSql, Params().Text(vault)));
    if (!exists) return VaultNotFound(vault);
    COFFRE_ASSIGN_OR_RETURN(bool has_keys, Exists(txn, kVaultHasKeysSql, Params().Text(vault)));
    if (has_keys)
      return Status::Conflict("vault '" + vault + "' still holds keys or secrets",
                              std::string(reason::kNotEmpty));
    for (const char* sql : {kDeleteVaultPoliciesSql, kDeleteVaultSql}) {
      COFFRE_RETURN_IF_ERROR(txn.Exec(sql, Params().Text(vault)).status());
    }
    // Role assignments go with the vault: one made again under the name starts with none.
    const std::string scope = "/vaults/" + vault;
    return txn.Exec(kDeleteVaultRoleAssignmentsSql, Params().Text(scope).Text(scope + "/%"))
        .status();
  });
}

// ---- access policies

Status SqlStore::PutAccessPolicy(const AccessPolicyRecord& policy) {
  const std::string vault = AsciiLower(policy.vault);
  if (policy.object_id.empty()) return Status::BadParameter("object id is empty");
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_RETURN_IF_ERROR(CheckVaultExists(txn, vault));
    Params params;
    params.Text(vault)
        .Text(AsciiLower(policy.object_id))
        .Text(AsciiLower(policy.application_id))
        .Document(EncodeKeyOps(policy.keys))
        .Document(EncodeKeyOps(policy.secrets))
        .Document(EncodeKeyOps(policy.certificates));
    return txn.Exec(kPutAccessPolicySql, params).status();
  });
}

Result<AccessPolicyRecord> SqlStore::MergeAccessPolicy(const AccessPolicyChange& change) {
  const std::string vault = AsciiLower(change.vault);
  if (change.object_id.empty()) return Status::BadParameter("object id is empty");
  const std::vector<std::string> none;
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<AccessPolicyRecord> {
    COFFRE_RETURN_IF_ERROR(CheckVaultExists(txn, vault));
    Params params;
    params.Text(vault)
        .Text(AsciiLower(change.object_id))
        .Text(AsciiLower(change.application_id))
        .Document(EncodeKeyOps(change.keys.value_or(none)))
        .Document(EncodeKeyOps(change.secrets.value_or(none)))
        .Document(EncodeKeyOps(change.certificates.value_or(none)))
        .Bool(change.keys.has_value())
        .Bool(change.secrets.has_value())
        .Bool(change.certificates.has_value());
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<AccessPolicyRecord> stored,
        QueryAll<AccessPolicyRecord>(txn, kMergeAccessPolicySql, params, ReadAccessPolicy));
    if (stored.size() != 1) return Status::Internal("store: access policy merge returned no row");
    return std::move(stored.front());
  });
}

Status SqlStore::DeleteAccessPolicy(std::string_view vault, std::string_view object_id,
                                    std::string_view application_id) {
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    Params params;
    params.Text(AsciiLower(vault)).Text(AsciiLower(object_id)).Text(AsciiLower(application_id));
    COFFRE_ASSIGN_OR_RETURN(int64_t deleted, txn.Exec(kDeleteAccessPolicySql, params));
    if (deleted == 0) {
      return Status::NotFound("NotFound", "no access policy for that object id");
    }
    return Status::Ok();
  });
}

Result<std::vector<AccessPolicyRecord>> SqlStore::ListAccessPolicies(std::string_view vault) {
  return Run(Mode::kRead, [&](Transaction& txn) {
    return QueryAll<AccessPolicyRecord>(txn, kListAccessPoliciesSql,
                                        Params().Text(AsciiLower(vault)), ReadAccessPolicy);
  });
}

// ---- role assignments

Status SqlStore::AddRoleAssignment(const RoleAssignmentRecord& a) {
  if (a.id.empty() || a.principal_id.empty()) {
    return Status::BadParameter("role assignment id and principal must not be empty");
  }
  // A taken id fails the insert: kConflict.
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    Params params;
    params.Text(AsciiLower(a.id))
        .Text(a.role)
        .Text(AsciiLower(a.principal_id))
        .Text(AsciiLower(a.scope))
        .Int(a.created);
    return txn.Exec(kInsertRoleAssignmentSql, params).status();
  });
}

Status SqlStore::DeleteRoleAssignment(std::string_view id) {
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(int64_t deleted,
                            txn.Exec(kDeleteRoleAssignmentSql, Params().Text(AsciiLower(id))));
    if (deleted == 0) return Status::NotFound("NotFound", "no such role assignment");
    return Status::Ok();
  });
}

Result<std::vector<RoleAssignmentRecord>> SqlStore::ListRoleAssignments() {
  return Run(Mode::kRead, [&](Transaction& txn) {
    return QueryAll<RoleAssignmentRecord>(txn, kListRoleAssignmentsSql, Params(),
                                          ReadRoleAssignment);
  });
}

Result<std::vector<RoleAssignmentRecord>> SqlStore::ListRoleAssignmentsFor(
    std::string_view principal_id) {
  return Run(Mode::kRead, [&](Transaction& txn) {
    return QueryAll<RoleAssignmentRecord>(txn, kListRoleAssignmentsForSql,
                                          Params().Text(AsciiLower(principal_id)),
                                          ReadRoleAssignment);
  });
}

}  // namespace coffre::store::sql
