// Whole-store scans and consistency checks (`coffre store check`), written once for both
// engines; each engine adds its own integrity checks (Engine::CheckIntegrity).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "store/sql/consistency_checks.h"
#include "store/sql/record_codec.h"
#include "store/sql/sql_store.h"

namespace coffre::store::sql {
namespace {

// Every version of every key, active or deleted, after the cursor's (vault, name_key, sequence).
// The last column tells a soft-deleted key (its dates may be any value, 0 included).
constexpr char kScanVersionsSql[] =
    "SELECT k.vault, k.name, v.version, v.sequence, v.key_type, v.key_ops, v.enabled, "
    "v.not_before, v.expires, v.created, v.updated, v.tags, v.public_key, v.sealed_private_key, "
    "k.name_key, k.deleted_date, k.scheduled_purge_date, k.deleted_date IS NOT NULL "
    "FROM keys k JOIN key_versions v ON v.vault = k.vault AND v.name_key = k.name_key "
    "WHERE (k.vault, k.name_key, v.sequence) > "
    "(CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS BIGINT)) "
    "ORDER BY k.vault, k.name_key, v.sequence LIMIT $4";

// The same for secrets (the columns of COFFRE_SECRET_SELECT in secret_records.cc, then the
// deletion flag).
constexpr char kScanSecretVersionsSql[] =
    "SELECT s.vault, s.name, v.version, v.sequence, v.content_type, v.enabled, v.not_before, "
    "v.expires, v.created, v.updated, v.tags, v.managed, v.key_id, v.sealed_value, s.name_key, "
    "s.deleted_date, s.scheduled_purge_date, s.deleted_date IS NOT NULL "
    "FROM secrets s JOIN secret_versions v ON v.vault = s.vault AND v.name_key = s.name_key "
    "WHERE (s.vault, s.name_key, v.sequence) > "
    "(CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS BIGINT)) "
    "ORDER BY s.vault, s.name_key, v.sequence LIMIT $4";

// ScanKeyVersions and ScanSecretVersions cursors: "vault/name_key/sequence". Vault names hold no
// '/', so the first '/' ends the vault and the last one starts the sequence, whatever the key name
// holds.
struct ScanPosition {
  std::string vault;
  std::string name_key;
  int64_t sequence = 0;
};

std::string ScanCursor(const std::string& vault, const std::string& name_key, int64_t sequence) {
  return vault + "/" + name_key + "/" + std::to_string(sequence);
}

Result<ScanPosition> ParseScanCursor(std::string_view cursor) {
  ScanPosition position;
  if (cursor.empty()) return position;
  const size_t first = cursor.find('/');
  const size_t last = cursor.rfind('/');
  if (first == std::string_view::npos || first == last || last + 1 == cursor.size()) {
    return Status::BadParameter("malformed key scan cursor");
  }
  position.vault.assign(cursor.substr(0, first));
  position.name_key.assign(cursor.substr(first + 1, last - first - 1));
  COFFRE_ASSIGN_OR_RETURN(position.sequence, ParseSequenceCursor(cursor.substr(last + 1)));
  if (AsciiLower(position.vault) != position.vault ||
      AsciiLower(position.name_key) != position.name_key) {
    return Status::BadParameter("malformed key scan cursor");
  }
  return position;
}

}  // namespace

Result<Page<StoredKeyVersion>> SqlStore::ScanKeyVersions(std::string_view cursor, int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_ASSIGN_OR_RETURN(ScanPosition after, ParseScanCursor(cursor));
  return Run(Engine::Mode::kRead, [&](Transaction& txn) -> Result<Page<StoredKeyVersion>> {
    Params params;
    params.Text(after.vault).Text(after.name_key).Int(after.sequence).Int(int64_t{limit} + 1);
    Page<StoredKeyVersion> page;
    std::string last_name_key;
    COFFRE_RETURN_IF_ERROR(txn.Query(kScanVersionsSql, params, [&](const Row& row) -> Status {
      if (page.items.size() == static_cast<size_t>(limit)) {
        const KeyVersionRecord& last = page.items.back().record;
        page.next_cursor = ScanCursor(last.vault, last_name_key, last.sequence);
        return Status::Ok();
      }
      KeyRow key;
      COFFRE_RETURN_IF_ERROR(ReadKeyRow(row, &key));
      StoredKeyVersion item;
      if (!row.Bool(17, &item.deleted)) return Corrupt("keys");
      item.record = std::move(key.record.latest);
      last_name_key = std::move(key.name_key);
      page.items.push_back(std::move(item));
      return Status::Ok();
    }));
    return page;
  });
}

Result<Page<StoredSecretVersion>> SqlStore::ScanSecretVersions(std::string_view cursor, int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_ASSIGN_OR_RETURN(ScanPosition after, ParseScanCursor(cursor));
  return Run(Engine::Mode::kRead, [&](Transaction& txn) -> Result<Page<StoredSecretVersion>> {
    Params params;
    params.Text(after.vault).Text(after.name_key).Int(after.sequence).Int(int64_t{limit} + 1);
    Page<StoredSecretVersion> page;
    std::string last_name_key;
    COFFRE_RETURN_IF_ERROR(txn.Query(kScanSecretVersionsSql, params, [&](const Row& row) -> Status {
      if (page.items.size() == static_cast<size_t>(limit)) {
        const SecretVersionRecord& last = page.items.back().record;
        page.next_cursor = ScanCursor(last.vault, last_name_key, last.sequence);
        return Status::Ok();
      }
      SecretRow secret;
      COFFRE_RETURN_IF_ERROR(ReadSecretRow(row, &secret));
      StoredSecretVersion item;
      if (!row.Bool(17, &item.deleted)) return Corrupt("secrets");
      item.record = std::move(secret.record.latest);
      last_name_key = std::move(secret.name_key);
      page.items.push_back(std::move(item));
      return Status::Ok();
    }));
    return page;
  });
}

Result<std::vector<std::string>> SqlStore::CheckConsistency() {
  // One snapshot: every check sees the same state.
  return Run(Engine::Mode::kSnapshot, [&](Transaction& txn) -> Result<std::vector<std::string>> {
    std::vector<std::string> problems;
    COFFRE_RETURN_IF_ERROR(engine_->CheckIntegrity(txn, &problems));
    for (const char* sql : kConsistencyChecks) {
      COFFRE_ASSIGN_OR_RETURN(auto rows, txn.QueryText(sql));
      for (size_t i = 0; i < rows.size(); ++i) {
        if (i == static_cast<size_t>(kMaxProblemsPerCheck)) {
          problems.push_back("(more problems of this kind not shown)");
          break;
        }
        problems.push_back(rows[i].empty() ? "?" : rows[i][0]);
      }
    }
    return problems;
  });
}

}  // namespace coffre::store::sql
