// Principals (client-credential identities), server settings and background-job leases: the
// rules, written once for both engines.
#include <limits>
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

constexpr char kPrincipalNameTakenSql[] = "SELECT 1 FROM principals WHERE name_key = $1";
// Racing creators never fail on a unique violation: the loser inserts nothing and then finds
// out which name was taken.
constexpr char kInsertPrincipalSql[] =
    "INSERT INTO principals (name_key, name, client_id_key, client_id, object_id, secret_hash, "
    "created) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
#define COFFRE_PRINCIPAL_SELECT \
  "SELECT name, client_id, object_id, secret_hash, created FROM principals "
constexpr char kGetPrincipalByClientSql[] = COFFRE_PRINCIPAL_SELECT "WHERE client_id_key = $1";
constexpr char kListPrincipalsSql[] = COFFRE_PRINCIPAL_SELECT "ORDER BY name_key";
#undef COFFRE_PRINCIPAL_SELECT
constexpr char kDeletePrincipalSql[] = "DELETE FROM principals WHERE name_key = $1";

// Waits for a concurrent inserter of the same key; the SELECT after it (a new snapshot) then sees
// the winner's value.
constexpr char kInsertSettingSql[] =
    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
constexpr char kGetSettingSql[] = "SELECT value FROM settings WHERE key = $1";
constexpr char kPutSettingSql[] =
    "INSERT INTO settings (key, value) VALUES ($1, $2) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

// One atomic statement: inserts the lease, or takes over an expired or own one; returns no row
// while another holder's lease runs. $3: now, $4: now + ttl.
constexpr char kAcquireLeaseSql[] =
    "INSERT INTO job_leases (job, holder, expires) VALUES ($1, $2, $4) "
    "ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires = excluded.expires "
    "WHERE job_leases.holder = excluded.holder OR job_leases.expires <= CAST($3 AS BIGINT) "
    "RETURNING holder";

Status ReadPrincipal(const Row& row, PrincipalRecord* p) {
  if (!row.Text(0, &p->name) || !row.Text(1, &p->client_id) || !row.Text(2, &p->object_id) ||
      !row.Text(3, &p->secret_hash) || !row.Int(4, &p->created)) {
    return Corrupt("principals");
  }
  return Status::Ok();
}

}  // namespace

// ---- principals

Status SqlStore::AddPrincipal(const PrincipalRecord& principal) {
  if (principal.name.empty() || principal.client_id.empty()) {
    return Status::BadParameter("principal name and client id must not be empty");
  }
  const std::string name_key = AsciiLower(principal.name);
  // Client ids compare case-insensitively (ASCII).
  const std::string client_key = AsciiLower(principal.client_id);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    Params params;
    params.Text(name_key)
        .Text(principal.name)
        .Text(client_key)
        .Text(principal.client_id)
        .Text(principal.object_id)
        .Text(principal.secret_hash)
        .Int(principal.created);
    COFFRE_ASSIGN_OR_RETURN(int64_t inserted, txn.Exec(kInsertPrincipalSql, params));
    if (inserted == 1) return Status::Ok();
    COFFRE_ASSIGN_OR_RETURN(bool name_taken,
                            Exists(txn, kPrincipalNameTakenSql, Params().Text(name_key)));
    if (name_taken) {
      return Status::Conflict("principal name '" + principal.name + "' is taken",
                              std::string(reason::kNameTaken));
    }
    return Status::Conflict("client id " + principal.client_id + " is taken",
                            std::string(reason::kClientIdTaken));
  });
}

Result<PrincipalRecord> SqlStore::GetPrincipalByClientId(std::string_view client_id) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<PrincipalRecord> {
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<PrincipalRecord> found,
        QueryAll<PrincipalRecord>(txn, kGetPrincipalByClientSql,
                                  Params().Text(AsciiLower(client_id)), ReadPrincipal));
    if (found.empty()) {
      return Status::NotFound("NotFound", "no principal with client id " + std::string(client_id));
    }
    return std::move(found.front());
  });
}

Result<std::vector<PrincipalRecord>> SqlStore::ListPrincipals() {
  return Run(Mode::kRead, [&](Transaction& txn) {
    return QueryAll<PrincipalRecord>(txn, kListPrincipalsSql, Params(), ReadPrincipal);
  });
}

Status SqlStore::DeletePrincipal(std::string_view name) {
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(int64_t deleted,
                            txn.Exec(kDeletePrincipalSql, Params().Text(AsciiLower(name))));
    if (deleted == 0) {
      return Status::NotFound("NotFound", "principal '" + std::string(name) + "' not found");
    }
    return Status::Ok();
  });
}

// ---- settings

namespace {

Result<std::optional<std::string>> ReadSetting(Transaction& txn, std::string_view key) {
  std::optional<std::string> stored;
  COFFRE_RETURN_IF_ERROR(
      txn.Query(kGetSettingSql, Params().Text(key), [&](const Row& row) -> Status {
        std::string text;
        if (!row.Text(0, &text)) return Corrupt("settings");
        stored = std::move(text);
        return Status::Ok();
      }));
  return stored;
}

}  // namespace

Result<std::string> SqlStore::GetOrPutSetting(std::string_view key, std::string_view value) {
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<std::string> {
    COFFRE_RETURN_IF_ERROR(txn.Exec(kInsertSettingSql, Params().Text(key).Text(value)).status());
    COFFRE_ASSIGN_OR_RETURN(std::optional<std::string> stored, ReadSetting(txn, key));
    if (!stored.has_value()) return Corrupt("settings");
    return std::move(*stored);
  });
}

Result<std::optional<std::string>> SqlStore::GetSetting(std::string_view key) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<std::optional<std::string>> {
    return ReadSetting(txn, key);
  });
}

Status SqlStore::PutSetting(std::string_view key, std::string_view value) {
  // One statement: repeating it stores the same value.
  return Run(Mode::kIdempotentWrite, [&](Transaction& txn) -> Status {
    return txn.Exec(kPutSettingSql, Params().Text(key).Text(value)).status();
  });
}

// ---- background-job leases

Result<bool> SqlStore::TryAcquireJobLease(std::string_view job, std::string_view holder,
                                          int64_t now, int64_t ttl_seconds) {
  if (job.empty() || holder.empty()) {
    return Status::BadParameter("job lease name and holder must not be empty");
  }
  if (ttl_seconds < 1 || now > std::numeric_limits<int64_t>::max() - ttl_seconds) {
    return Status::BadParameter("job lease ttl out of range");
  }
  // One statement, and repeating it for the same holder gives the same answer.
  return Run(Mode::kIdempotentWrite, [&](Transaction& txn) -> Result<bool> {
    Params params;
    params.Text(job).Text(holder).Int(now).Int(now + ttl_seconds);
    return Exists(txn, kAcquireLeaseSql, params);
  });
}

}  // namespace coffre::store::sql
