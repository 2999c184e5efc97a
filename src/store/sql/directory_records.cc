// Users, Resource Manager resource groups and vault purge: the rules, written once for both
// engines.
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

// ---- users
// Racing creators never fail on a unique violation: the loser inserts nothing and then finds
// out which of the two unique values was taken.
constexpr char kInsertUserSql[] =
    "INSERT INTO users (upn_key, upn, object_id, display_name, password_hash, created) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
constexpr char kUpnTakenSql[] = "SELECT 1 FROM users WHERE upn_key = $1";
#define COFFRE_USER_SELECT "SELECT upn, object_id, display_name, password_hash, created FROM users "
constexpr char kGetUserByUpnSql[] = COFFRE_USER_SELECT "WHERE upn_key = $1";
constexpr char kGetUserByObjectIdSql[] = COFFRE_USER_SELECT "WHERE object_id = $1";
constexpr char kListUsersSql[] = COFFRE_USER_SELECT "ORDER BY upn_key";
#undef COFFRE_USER_SELECT
constexpr char kDeleteUserSql[] = "DELETE FROM users WHERE upn_key = $1";

// ---- resource groups
constexpr char kInsertGroupSql[] =
    "INSERT INTO resource_groups (name_key, name, location, tags, created) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name_key) DO NOTHING";
constexpr char kUpdateGroupSql[] =
    "UPDATE resource_groups SET location = $2, tags = $3 WHERE name_key = $1";
#define COFFRE_GROUP_SELECT "SELECT name, location, tags, created FROM resource_groups "
constexpr char kGetGroupSql[] = COFFRE_GROUP_SELECT "WHERE name_key = $1";
constexpr char kLockGroupSql[] = COFFRE_GROUP_SELECT "WHERE name_key = $1 FOR UPDATE";
constexpr char kListGroupsSql[] = COFFRE_GROUP_SELECT "ORDER BY name_key";
#undef COFFRE_GROUP_SELECT
// Soft-deleted vaults do not hold a group: deleting a group soft-deletes its vaults first.
constexpr char kGroupHasVaultsSql[] =
    "SELECT 1 FROM vaults WHERE resource_group_key = $1 AND deleted_date IS NULL LIMIT 1";
constexpr char kDeleteGroupSql[] = "DELETE FROM resource_groups WHERE name_key = $1";

// ---- vault purge: everything that names the vault, children first. Versions, rotation
// policies, events and certificate operations go with their key, secret or certificate row
// (ON DELETE CASCADE).
constexpr char kLockVaultSql[] = "SELECT 1 FROM vaults WHERE name = $1 FOR UPDATE";
constexpr const char* kPurgeVaultSql[] = {
    "DELETE FROM certificates WHERE vault = $1",
    "DELETE FROM certificate_settings WHERE vault = $1",
    "DELETE FROM keys WHERE vault = $1",
    "DELETE FROM secrets WHERE vault = $1",
    "DELETE FROM access_policies WHERE vault = $1",
    "DELETE FROM vaults WHERE name = $1",
};
constexpr char kDeleteVaultRoleAssignmentsSql[] =
    "DELETE FROM role_assignments WHERE scope = $1 OR scope LIKE $2";

Status ReadUser(const Row& row, UserRecord* u) {
  if (!row.Text(0, &u->upn) || !row.Text(1, &u->object_id) || !row.Text(2, &u->display_name) ||
      !row.Text(3, &u->password_hash) || !row.Int(4, &u->created)) {
    return Corrupt("users");
  }
  return Status::Ok();
}

Status ReadGroup(const Row& row, ResourceGroupRecord* g) {
  std::string tags;
  if (!row.Text(0, &g->name) || !row.Text(1, &g->location) || !row.Document(2, &tags) ||
      !DecodeTags(tags, &g->tags) || !row.Int(3, &g->created)) {
    return Corrupt("resource_groups");
  }
  return Status::Ok();
}

Status UserNotFound(std::string_view what) {
  return Status::NotFound("NotFound", "user " + std::string(what) + " not found");
}

Status GroupNotFound(std::string_view name) {
  return Status::NotFound("ResourceGroupNotFound",
                          "resource group '" + std::string(name) + "' not found");
}

}  // namespace

// ---- users

Status SqlStore::AddUser(const UserRecord& user) {
  if (user.upn.empty() || user.object_id.empty()) {
    return Status::BadParameter("user principal name and object id must not be empty");
  }
  const std::string upn_key = AsciiLower(user.upn);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    Params params;
    params.Text(upn_key)
        .Text(user.upn)
        .Text(AsciiLower(user.object_id))
        .Text(user.display_name)
        .Text(user.password_hash)
        .Int(user.created);
    COFFRE_ASSIGN_OR_RETURN(int64_t inserted, txn.Exec(kInsertUserSql, params));
    if (inserted == 1) return Status::Ok();
    COFFRE_ASSIGN_OR_RETURN(bool upn_taken, Exists(txn, kUpnTakenSql, Params().Text(upn_key)));
    if (upn_taken) {
      return Status::Conflict("user '" + user.upn + "' exists", std::string(reason::kUpnTaken));
    }
    return Status::Conflict("object id " + user.object_id + " is taken");
  });
}

Result<UserRecord> SqlStore::GetUserByUpn(std::string_view upn) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<UserRecord> {
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<UserRecord> found,
        QueryAll<UserRecord>(txn, kGetUserByUpnSql, Params().Text(AsciiLower(upn)), ReadUser));
    if (found.empty()) return UserNotFound(upn);
    return std::move(found.front());
  });
}

Result<UserRecord> SqlStore::GetUserByObjectId(std::string_view object_id) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<UserRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::vector<UserRecord> found,
                            QueryAll<UserRecord>(txn, kGetUserByObjectIdSql,
                                                 Params().Text(AsciiLower(object_id)), ReadUser));
    if (found.empty()) return UserNotFound(object_id);
    return std::move(found.front());
  });
}

Result<std::vector<UserRecord>> SqlStore::ListUsers() {
  return Run(Mode::kRead, [&](Transaction& txn) {
    return QueryAll<UserRecord>(txn, kListUsersSql, Params(), ReadUser);
  });
}

Status SqlStore::DeleteUser(std::string_view upn) {
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(int64_t deleted,
                            txn.Exec(kDeleteUserSql, Params().Text(AsciiLower(upn))));
    if (deleted == 0) return UserNotFound(upn);
    return Status::Ok();
  });
}

// ---- resource groups

Result<std::pair<ResourceGroupRecord, bool>> SqlStore::PutResourceGroup(
    const ResourceGroupRecord& group) {
  if (group.name.empty()) return Status::BadParameter("resource group name is empty");
  const std::string key = AsciiLower(group.name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<std::pair<ResourceGroupRecord, bool>> {
    Params insert;
    insert.Text(key)
        .Text(group.name)
        .Text(group.location)
        .Document(EncodeTags(group.tags))
        .Int(group.created);
    COFFRE_ASSIGN_OR_RETURN(int64_t inserted, txn.Exec(kInsertGroupSql, insert));
    if (inserted == 0) {
      Params update;
      update.Text(key).Text(group.location).Document(EncodeTags(group.tags));
      COFFRE_RETURN_IF_ERROR(txn.Exec(kUpdateGroupSql, update).status());
    }
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<ResourceGroupRecord> found,
        QueryAll<ResourceGroupRecord>(txn, kGetGroupSql, Params().Text(key), ReadGroup));
    if (found.empty()) return Corrupt("resource_groups");
    return std::make_pair(std::move(found.front()), inserted == 1);
  });
}

Result<ResourceGroupRecord> SqlStore::GetResourceGroup(std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<ResourceGroupRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::vector<ResourceGroupRecord> found,
                            QueryAll<ResourceGroupRecord>(
                                txn, kGetGroupSql, Params().Text(AsciiLower(name)), ReadGroup));
    if (found.empty()) return GroupNotFound(name);
    return std::move(found.front());
  });
}

Result<std::vector<ResourceGroupRecord>> SqlStore::ListResourceGroups() {
  return Run(Mode::kRead, [&](Transaction& txn) {
    return QueryAll<ResourceGroupRecord>(txn, kListGroupsSql, Params(), ReadGroup);
  });
}

Status SqlStore::DeleteResourceGroup(std::string_view name) {
  const std::string key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<ResourceGroupRecord> found,
        QueryAll<ResourceGroupRecord>(txn, kLockGroupSql, Params().Text(key), ReadGroup));
    if (found.empty()) return GroupNotFound(name);
    COFFRE_ASSIGN_OR_RETURN(bool has_vaults, Exists(txn, kGroupHasVaultsSql, Params().Text(key)));
    if (has_vaults) {
      return Status::Conflict("resource group '" + key + "' still holds vaults",
                              std::string(reason::kGroupNotEmpty));
    }
    return txn.Exec(kDeleteGroupSql, Params().Text(key)).status();
  });
}

// ---- vault purge

Status SqlStore::PurgeVault(std::string_view name) {
  const std::string vault = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(bool exists, Exists(txn, kLockVaultSql, Params().Text(vault)));
    if (!exists) return VaultNotFound(vault);
    for (const char* sql : kPurgeVaultSql) {
      COFFRE_RETURN_IF_ERROR(txn.Exec(sql, Params().Text(vault)).status());
    }
    const std::string scope = "/vaults/" + vault;
    return txn.Exec(kDeleteVaultRoleAssignmentsSql, Params().Text(scope).Text(scope + "/%"))
        .status();
  });
}

}  // namespace coffre::store::sql
