// Keys and their versions, soft delete, recover, purge, restore, rotation policies and key
// events: the rules, written once for both engines (sql_store.h says how they stay safe under
// concurrency).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "store/sql/object_steps.h"
#include "store/sql/record_codec.h"
#include "store/sql/sql_store.h"

namespace coffre::store::sql {
namespace {

using Mode = Engine::Mode;

// Every key query selects the same columns so one decoder reads them all.
#define COFFRE_KEY_SELECT                                                                       \
  "SELECT k.vault, k.name, v.version, v.sequence, v.key_type, v.key_ops, v.enabled, "           \
  "v.not_before, v.expires, v.created, v.updated, v.tags, v.public_key, v.sealed_private_key, " \
  "k.name_key, k.deleted_date, k.scheduled_purge_date "                                         \
  "FROM keys k JOIN key_versions v ON v.vault = k.vault AND v.name_key = k.name_key "

constexpr char kGetVersionSql[] = COFFRE_KEY_SELECT
    "WHERE k.vault = $1 AND k.name_key = $2 AND k.deleted_date IS NULL AND v.version = $3";
// $3: true for a soft-deleted key, false for an active one.
constexpr char kGetLatestSql[] = COFFRE_KEY_SELECT
    "WHERE k.vault = $1 AND k.name_key = $2 AND (k.deleted_date IS NOT NULL) = $3 "
    "ORDER BY v.sequence DESC LIMIT 1";
constexpr char kListLatestSql[] = COFFRE_KEY_SELECT
    "WHERE k.vault = $1 AND (k.deleted_date IS NOT NULL) = $2 AND k.name_key > $3 "
    "AND v.sequence = (SELECT MAX(m.sequence) FROM key_versions m "
    "WHERE m.vault = k.vault AND m.name_key = k.name_key) "
    "ORDER BY k.name_key LIMIT $4";
constexpr char kListVersionsSql[] = COFFRE_KEY_SELECT
    "WHERE k.vault = $1 AND k.name_key = $2 AND k.deleted_date IS NULL AND v.sequence > $3 "
    "ORDER BY v.sequence LIMIT $4";
#undef COFFRE_KEY_SELECT

#define COFFRE_KEY_STATE "SELECT name, deleted_date, next_sequence FROM keys "
constexpr char kKeyStateSql[] = COFFRE_KEY_STATE "WHERE vault = $1 AND name_key = $2";
// Held until the transaction ends by every call that adds versions to the key or changes its row.
constexpr char kLockKeySql[] = COFFRE_KEY_STATE "WHERE vault = $1 AND name_key = $2 FOR UPDATE";
// Keeps the key's state (active or deleted) fixed while a call writes what belongs to it.
constexpr char kShareKeySql[] = COFFRE_KEY_STATE "WHERE vault = $1 AND name_key = $2 FOR SHARE";
#undef COFFRE_KEY_STATE
// $4: the next sequence (1 for a new key; n + 1 for a key restored with n versions). Waits for a
// concurrent creator of the same key (PostgreSQL) and then inserts nothing.
constexpr char kInsertKeySql[] =
    "INSERT INTO keys (vault, name_key, name, deleted_date, scheduled_purge_date, next_sequence) "
    "VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT (vault, name_key) DO NOTHING";
constexpr char kLatestSequenceSql[] =
    "SELECT COALESCE(MAX(sequence), 0) FROM key_versions WHERE vault = $1 AND name_key = $2";
constexpr char kBumpSequenceSql[] =
    "UPDATE keys SET next_sequence = next_sequence + 1 WHERE vault = $1 AND name_key = $2";
constexpr char kVersionExistsSql[] =
    "SELECT 1 FROM key_versions WHERE vault = $1 AND name_key = $2 AND version = $3";
constexpr char kInsertVersionSql[] =
    "INSERT INTO key_versions (vault, name_key, version, sequence, key_type, key_ops, enabled, "
    "not_before, expires, created, updated, tags, public_key, sealed_private_key) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
constexpr char kUpdateVersionSql[] =
    "UPDATE key_versions SET enabled = $1, not_before = $2, expires = $3, key_ops = $4, "
    "tags = $5, updated = $6 WHERE vault = $7 AND name_key = $8 AND version = $9";
constexpr char kSetVersionAttributesSql[] =
    "UPDATE key_versions SET enabled = $1, not_before = $2, expires = $3, updated = $4 "
    "WHERE vault = $5 AND name_key = $6 AND version = $7";
constexpr char kSetDeletedSql[] =
    "UPDATE keys SET deleted_date = $3, scheduled_purge_date = $4 "
    "WHERE vault = $1 AND name_key = $2";
// Versions, policy and events go by ON DELETE CASCADE (both engines enforce foreign keys).
constexpr char kDeleteKeySql[] = "DELETE FROM keys WHERE vault = $1 AND name_key = $2";
// Locks the expired keys in one order, so two replicas purging at once cannot deadlock; a key
// recovered meanwhile no longer matches once its lock is granted and stays.
constexpr char kPurgeExpiredKeysSql[] =
    "DELETE FROM keys WHERE (vault, name_key) IN (SELECT vault, name_key FROM keys "
    "WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= $1 AND NOT EXISTS (SELECT 1 "
    "FROM certificates c WHERE c.vault = keys.vault AND c.name_key = keys.name_key) "
    "ORDER BY vault, name_key FOR UPDATE)";

#define COFFRE_POLICY_SELECT                                                \
  "SELECT k.vault, k.name, p.actions, p.expiry_time, p.created, p.updated " \
  "FROM rotation_policies p JOIN keys k ON k.vault = p.vault AND k.name_key = p.name_key "
constexpr char kGetPolicySql[] = COFFRE_POLICY_SELECT "WHERE p.vault = $1 AND p.name_key = $2";
constexpr char kListPoliciesSql[] =
    COFFRE_POLICY_SELECT "WHERE k.deleted_date IS NULL ORDER BY p.vault, p.name_key";
#undef COFFRE_POLICY_SELECT
// On replace the stored `created` stays.
constexpr char kPutPolicySql[] =
    "INSERT INTO rotation_policies (vault, name_key, actions, expiry_time, created, updated) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (vault, name_key) DO UPDATE SET "
    "actions = excluded.actions, expiry_time = excluded.expiry_time, updated = excluded.updated";

// Only a duplicate event is ignored; any other constraint failure is still an error.
constexpr char kInsertEventSql[] =
    "INSERT INTO key_events (vault, name_key, version, kind, time) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT (vault, name_key, version, kind) DO NOTHING";
constexpr char kListEventsSql[] =
    "SELECT k.vault, k.name, e.version, e.kind, e.time "
    "FROM key_events e JOIN keys k ON k.vault = e.vault AND k.name_key = e.name_key "
    "WHERE e.vault = $1 AND e.name_key = $2 ORDER BY e.id";

struct KeyState {
  std::string name;  // display name
  bool deleted = false;
  int64_t next_sequence = 1;
};

// `sql`: kKeyStateSql, kLockKeySql or kShareKeySql.
Result<std::optional<KeyState>> LoadKeyState(Transaction& txn, const char* sql,
                                             std::string_view vault, std::string_view name_key) {
  std::optional<KeyState> state;
  COFFRE_RETURN_IF_ERROR(
      txn.Query(sql, Params().Text(vault).Text(name_key), [&](const Row& row) -> Status {
        KeyState s;
        std::optional<int64_t> deleted_date;
        if (!row.Text(0, &s.name) || !row.OptInt(1, &deleted_date) ||
            !row.Int(2, &s.next_sequence) || s.next_sequence < 1) {
          return Corrupt("keys");
        }
        s.deleted = deleted_date.has_value();
        state = std::move(s);
        return Status::Ok();
      }));
  return state;
}

Result<std::vector<KeyRow>> QueryKeyRows(Transaction& txn, const char* sql, const Params& params) {
  std::vector<KeyRow> rows;
  COFFRE_RETURN_IF_ERROR(txn.Query(sql, params, [&](const Row& row) -> Status {
    KeyRow key;
    COFFRE_RETURN_IF_ERROR(ReadKeyRow(row, &key));
    rows.push_back(std::move(key));
    return Status::Ok();
  }));
  return rows;
}

// Latest version of a key in the given state (active or deleted); kNotFound if there is none.
Result<KeyRow> LoadLatest(Transaction& txn, std::string_view vault, std::string_view name_key,
                          bool deleted, std::string_view display_name) {
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<KeyRow> rows,
      QueryKeyRows(txn, kGetLatestSql, Params().Text(vault).Text(name_key).Bool(deleted)));
  if (rows.empty()) return deleted ? DeletedKeyNotFound(display_name) : KeyNotFound(display_name);
  return std::move(rows.front());
}

// A version of an active key, or nullopt.
Result<std::optional<KeyRow>> LoadVersion(Transaction& txn, std::string_view vault,
                                          std::string_view name_key, std::string_view version) {
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<KeyRow> rows,
      QueryKeyRows(txn, kGetVersionSql, Params().Text(vault).Text(name_key).Text(version)));
  if (rows.empty()) return std::optional<KeyRow>();
  return std::optional<KeyRow>(std::move(rows.front()));
}

// Sequence of the key's latest version; 0 if it has none.
Result<int64_t> LoadLatestSequence(Transaction& txn, std::string_view vault,
                                   std::string_view name_key) {
  std::optional<int64_t> latest;
  COFFRE_RETURN_IF_ERROR(txn.Query(kLatestSequenceSql, Params().Text(vault).Text(name_key),
                                   [&](const Row& row) -> Status {
                                     int64_t value = 0;
                                     if (!row.Int(0, &value)) return Corrupt("key_versions");
                                     latest = value;
                                     return Status::Ok();
                                   }));
  if (!latest.has_value()) return Corrupt("key_versions");
  return *latest;
}

Result<bool> VersionExists(Transaction& txn, const std::string& vault, const std::string& name_key,
                           const std::string& version) {
  return Exists(txn, kVersionExistsSql, Params().Text(vault).Text(name_key).Text(version));
}

// A version's row, with `version`, `key_ops` and `tags` already normalized and encoded.
struct EncodedVersion {
  std::string version;
  std::string key_ops;
  std::string tags;
};

EncodedVersion Encode(const KeyVersionRecord& record) {
  return {AsciiLower(record.version), EncodeKeyOps(record.key_ops), EncodeTags(record.tags)};
}

// Callers check VersionExists first, to answer a duplicate with their own inner code.
Status InsertVersion(Transaction& txn, const std::string& vault, const std::string& name_key,
                     const EncodedVersion& encoded, int64_t sequence,
                     const KeyVersionRecord& record) {
  Params params;
  params.Text(vault)
      .Text(name_key)
      .Text(encoded.version)
      .Int(sequence)
      .Text(record.key_type)
      .Document(encoded.key_ops)
      .Bool(record.enabled)
      .OptInt(record.not_before)
      .OptInt(record.expires)
      .Int(record.created)
      .Int(record.updated)
      .Document(encoded.tags)
      .Blob(record.public_key)
      .Blob(record.sealed_private_key);
  return txn.Exec(kInsertVersionSql, params).status();
}

Status UpsertPolicy(Transaction& txn, const std::string& vault, const std::string& name_key,
                    const RotationPolicyRecord& policy) {
  Params params;
  params.Text(vault)
      .Text(name_key)
      .Document(EncodeActions(policy.actions))
      .OptText(policy.expiry_time)
      .Int(policy.created)
      .Int(policy.updated);
  return txn.Exec(kPutPolicySql, params).status();
}

Status ReadPolicy(const Row& row, RotationPolicyRecord* p) {
  std::string actions;
  if (!row.Text(0, &p->vault) || !row.Text(1, &p->name) || !row.Document(2, &actions) ||
      !row.OptText(3, &p->expiry_time) || !row.Int(4, &p->created) || !row.Int(5, &p->updated) ||
      !DecodeActions(actions, &p->actions)) {
    return Corrupt("rotation_policies");
  }
  return Status::Ok();
}

Result<std::optional<RotationPolicyRecord>> LoadPolicy(Transaction& txn, std::string_view vault,
                                                       std::string_view name_key) {
  std::optional<RotationPolicyRecord> policy;
  COFFRE_RETURN_IF_ERROR(
      txn.Query(kGetPolicySql, Params().Text(vault).Text(name_key), [&](const Row& row) -> Status {
        RotationPolicyRecord p;
        COFFRE_RETURN_IF_ERROR(ReadPolicy(row, &p));
        policy = std::move(p);
        return Status::Ok();
      }));
  return policy;
}

// One page of latest versions of active or deleted keys of a vault after `cursor`; one extra
// row tells whether another page exists.
Result<std::vector<KeyRow>> ListLatest(Transaction& txn, std::string_view vault, bool deleted,
                                       std::string_view cursor, int limit,
                                       std::string* next_cursor) {
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<KeyRow> rows,
      QueryKeyRows(txn, kListLatestSql,
                   Params().Text(vault).Bool(deleted).Text(cursor).Int(int64_t{limit} + 1)));
  if (rows.size() > static_cast<size_t>(limit)) {
    rows.resize(static_cast<size_t>(limit));
    *next_cursor = rows.back().name_key;
  }
  return rows;
}

}  // namespace

Status ReadKeyRow(const Row& row, KeyRow* out) {
  KeyVersionRecord& v = out->record.latest;
  std::string key_ops;
  std::string tags;
  std::optional<int64_t> deleted_date;
  std::optional<int64_t> purge_date;
  if (!row.Text(0, &v.vault) || !row.Text(1, &v.name) || !row.Text(2, &v.version) ||
      !row.Int(3, &v.sequence) || !row.Text(4, &v.key_type) || !row.Document(5, &key_ops) ||
      !row.Bool(6, &v.enabled) || !row.OptInt(7, &v.not_before) || !row.OptInt(8, &v.expires) ||
      !row.Int(9, &v.created) || !row.Int(10, &v.updated) || !row.Document(11, &tags) ||
      !row.Blob(12, &v.public_key) || !row.Blob(13, &v.sealed_private_key) ||
      !row.Text(14, &out->name_key) || !row.OptInt(15, &deleted_date) ||
      !row.OptInt(16, &purge_date) || !DecodeKeyOps(key_ops, &v.key_ops) ||
      !DecodeTags(tags, &v.tags)) {
    return Corrupt("key_versions");
  }
  out->record.deleted_date = deleted_date.value_or(0);
  out->record.scheduled_purge_date = purge_date.value_or(0);
  return Status::Ok();
}

Result<AddedVersion> AddKeyVersionStep(Transaction& txn, const KeyVersionRecord& record,
                                       std::optional<int64_t> expected_latest_sequence,
                                       bool for_certificate) {
  if (record.name.empty() || record.version.empty()) {
    return Status::BadParameter("key name and version must not be empty");
  }
  const std::string vault = AsciiLower(record.vault);
  const std::string name_key = AsciiLower(record.name);
  const EncodedVersion encoded = Encode(record);
  COFFRE_RETURN_IF_ERROR(CheckVaultExists(txn, vault));
  if (!for_certificate)
    COFFRE_RETURN_IF_ERROR(RefuseIfCertificateOwns(txn, vault, name_key, "key"));
  // The key row's lock orders every writer of this key's versions, in any process.
  COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                          LoadKeyState(txn, kLockKeySql, vault, name_key));
  bool new_key = false;
  if (!state.has_value() && !expected_latest_sequence.has_value()) {
    // A new key. A concurrent creator makes our insert wait and then do nothing; either way
    // the row exists afterwards, and the second read locks it.
    COFFRE_ASSIGN_OR_RETURN(
        int64_t inserted,
        txn.Exec(kInsertKeySql, Params().Text(vault).Text(name_key).Text(record.name).Int(1)));
    if (inserted == 1) {
      state = KeyState{record.name, false, 1};
      new_key = true;
    } else {
      COFFRE_ASSIGN_OR_RETURN(state, LoadKeyState(txn, kLockKeySql, vault, name_key));
      // Created and purged again by others in between: start over.
      if (!state.has_value()) return txn.RunAgain("key '" + record.name + "' changed");
    }
  }
  if (state.has_value() && state->deleted) {
    return Status::Conflict("key '" + record.name + "' is deleted", std::string(reason::kDeleted));
  }
  if (expected_latest_sequence.has_value()) {
    // Checked under the key's lock, so no other version can slip in before ours.
    int64_t latest = 0;
    if (state.has_value()) {
      COFFRE_ASSIGN_OR_RETURN(latest, LoadLatestSequence(txn, vault, name_key));
    }
    if (!state.has_value() || latest != *expected_latest_sequence) {
      return Status::Conflict("key '" + record.name + "' latest version is sequence " +
                                  std::to_string(latest) + ", expected " +
                                  std::to_string(*expected_latest_sequence),
                              std::string(reason::kStale));
    }
  }
  if (!new_key) {
    COFFRE_ASSIGN_OR_RETURN(bool exists, VersionExists(txn, vault, name_key, encoded.version));
    if (exists) {
      return Status::Conflict("key '" + record.name + "' already has version " + encoded.version,
                              std::string(reason::kVersionExists));
    }
  }
  AddedVersion added;
  added.sequence = state->next_sequence;
  // The first writer of a key chose its display name; later versions keep it.
  added.display_name = state->name;
  added.version = encoded.version;
  COFFRE_RETURN_IF_ERROR(InsertVersion(txn, vault, name_key, encoded, added.sequence, record));
  COFFRE_RETURN_IF_ERROR(txn.Exec(kBumpSequenceSql, Params().Text(vault).Text(name_key)).status());
  return added;
}

Result<bool> SetKeyDeletedStep(Transaction& txn, std::string_view vault_key,
                               std::string_view name_key, std::optional<int64_t> deleted_date,
                               std::optional<int64_t> scheduled_purge_date) {
  COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                          LoadKeyState(txn, kLockKeySql, vault_key, name_key));
  if (!state.has_value()) return false;
  COFFRE_RETURN_IF_ERROR(txn.Exec(kSetDeletedSql, Params()
                                                      .Text(vault_key)
                                                      .Text(name_key)
                                                      .OptInt(deleted_date)
                                                      .OptInt(scheduled_purge_date))
                             .status());
  return true;
}

Status RemoveKeyStep(Transaction& txn, std::string_view vault_key, std::string_view name_key) {
  return txn.Exec(kDeleteKeySql, Params().Text(vault_key).Text(name_key)).status();
}

Status SetKeyVersionAttributesStep(Transaction& txn, std::string_view vault_key,
                                   std::string_view name_key, std::string_view version,
                                   bool enabled, std::optional<int64_t> not_before,
                                   std::optional<int64_t> expires, int64_t updated) {
  return txn
      .Exec(kSetVersionAttributesSql, Params()
                                          .Bool(enabled)
                                          .OptInt(not_before)
                                          .OptInt(expires)
                                          .Int(updated)
                                          .Text(vault_key)
                                          .Text(name_key)
                                          .Text(version))
      .status();
}

// ---- keys

Status SqlStore::AddKeyVersion(KeyVersionRecord& record,
                               std::optional<int64_t> expected_latest_sequence) {
  AddedVersion added;
  Status status = Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(added, AddKeyVersionStep(txn, record, expected_latest_sequence, false));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  // Leave the caller holding what GetKeyVersion would now return.
  record.vault = AsciiLower(record.vault);
  record.name = std::move(added.display_name);
  record.version = std::move(added.version);
  record.sequence = added.sequence;
  return Status::Ok();
}

Status SqlStore::RestoreKey(std::vector<KeyVersionRecord>& versions,
                            const std::optional<RotationPolicyRecord>& policy) {
  if (versions.empty()) return Status::BadParameter("a restored key needs at least one version");
  const std::string vault = AsciiLower(versions.front().vault);
  const std::string name_key = AsciiLower(versions.front().name);
  const std::string display_name = versions.front().name;
  if (name_key.empty()) return Status::BadParameter("key name must not be empty");
  std::vector<EncodedVersion> encoded;
  encoded.reserve(versions.size());
  for (const KeyVersionRecord& record : versions) {
    if (AsciiLower(record.vault) != vault || AsciiLower(record.name) != name_key) {
      return Status::BadParameter("restored versions must all belong to one key");
    }
    if (record.version.empty()) return Status::BadParameter("key version must not be empty");
    encoded.push_back(Encode(record));
  }
  // The policy belongs to the restored key; a policy naming another key is a caller bug.
  if (policy.has_value() && ((!policy->vault.empty() && AsciiLower(policy->vault) != vault) ||
                             (!policy->name.empty() && AsciiLower(policy->name) != name_key))) {
    return Status::BadParameter("restored rotation policy belongs to another key");
  }
  const int64_t count = static_cast<int64_t>(versions.size());
  Status status = Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_RETURN_IF_ERROR(CheckVaultExists(txn, vault));
    COFFRE_ASSIGN_OR_RETURN(
        int64_t inserted,
        txn.Exec(kInsertKeySql,
                 Params().Text(vault).Text(name_key).Text(display_name).Int(count + 1)));
    if (inserted == 0) {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(txn, kKeyStateSql, vault, name_key));
      const bool deleted = state.has_value() && state->deleted;
      return Status::Conflict("key '" + (state.has_value() ? state->name : display_name) +
                                  "' already exists" + (deleted ? " (deleted)" : ""),
                              std::string(reason::kExists));
    }
    // The new row stays locked by our insert until we commit.
    for (int64_t i = 0; i < count; ++i) {
      const EncodedVersion& e = encoded[static_cast<size_t>(i)];
      // Rolls back everything written so far.
      COFFRE_ASSIGN_OR_RETURN(bool exists, VersionExists(txn, vault, name_key, e.version));
      if (exists) {
        return Status::BadParameter("restored key lists version " + e.version + " twice",
                                    std::string(reason::kDuplicateVersion));
      }
      COFFRE_RETURN_IF_ERROR(
          InsertVersion(txn, vault, name_key, e, i + 1, versions[static_cast<size_t>(i)]));
    }
    if (policy.has_value()) COFFRE_RETURN_IF_ERROR(UpsertPolicy(txn, vault, name_key, *policy));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  for (size_t i = 0; i < versions.size(); ++i) {
    versions[i].vault = vault;
    versions[i].name = display_name;
    versions[i].version = std::move(encoded[i].version);
    versions[i].sequence = static_cast<int64_t>(i) + 1;
  }
  return Status::Ok();
}

Result<KeyVersionRecord> SqlStore::GetKeyVersion(std::string_view vault, std::string_view name,
                                                 std::string_view version) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<KeyVersionRecord> {
    if (version.empty()) {
      COFFRE_ASSIGN_OR_RETURN(KeyRow row,
                              LoadLatest(txn, AsciiLower(vault), AsciiLower(name), false, name));
      return std::move(row.record.latest);
    }
    COFFRE_ASSIGN_OR_RETURN(
        std::optional<KeyRow> row,
        LoadVersion(txn, AsciiLower(vault), AsciiLower(name), AsciiLower(version)));
    if (!row.has_value()) return KeyVersionNotFound(name, version);
    return std::move(row->record.latest);
  });
}

Result<Page<KeyVersionRecord>> SqlStore::ListKeys(std::string_view vault, std::string_view cursor,
                                                  int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<Page<KeyVersionRecord>> {
    Page<KeyVersionRecord> page;
    COFFRE_ASSIGN_OR_RETURN(std::vector<KeyRow> rows, ListLatest(txn, AsciiLower(vault), false,
                                                                 cursor, limit, &page.next_cursor));
    for (KeyRow& row : rows) page.items.push_back(std::move(row.record.latest));
    return page;
  });
}

Result<Page<KeyVersionRecord>> SqlStore::ListKeyVersions(std::string_view vault,
                                                         std::string_view name,
                                                         std::string_view cursor, int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_ASSIGN_OR_RETURN(int64_t after, ParseSequenceCursor(cursor));
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  // A snapshot, so the key cannot be deleted between the state check and the listing.
  return Run(Mode::kSnapshot, [&](Transaction& txn) -> Result<Page<KeyVersionRecord>> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                            LoadKeyState(txn, kKeyStateSql, vault_key, name_key));
    if (!state.has_value() || state->deleted) return KeyNotFound(name);
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<KeyRow> rows,
        QueryKeyRows(txn, kListVersionsSql,
                     Params().Text(vault_key).Text(name_key).Int(after).Int(int64_t{limit} + 1)));
    Page<KeyVersionRecord> page;
    if (rows.size() > static_cast<size_t>(limit)) {
      rows.resize(static_cast<size_t>(limit));
      page.next_cursor = std::to_string(rows.back().record.latest.sequence);
    }
    for (KeyRow& row : rows) page.items.push_back(std::move(row.record.latest));
    return page;
  });
}

Result<KeyVersionRecord> SqlStore::UpdateKeyVersion(const KeyVersionRecord& record) {
  const std::string vault = AsciiLower(record.vault);
  const std::string name_key = AsciiLower(record.name);
  const std::string key_ops = EncodeKeyOps(record.key_ops);
  const std::string tags = EncodeTags(record.tags);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<KeyVersionRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                            LoadKeyState(txn, kShareKeySql, vault, name_key));
    if (!state.has_value() || state->deleted) return KeyNotFound(record.name);
    std::string version = AsciiLower(record.version);
    if (version.empty()) {
      // Like GetKeyVersion: no version means the latest.
      COFFRE_ASSIGN_OR_RETURN(KeyRow latest, LoadLatest(txn, vault, name_key, false, record.name));
      version = latest.record.latest.version;
    }
    Params params;
    params.Bool(record.enabled)
        .OptInt(record.not_before)
        .OptInt(record.expires)
        .Document(key_ops)
        .Document(tags)
        .Int(record.updated)
        .Text(vault)
        .Text(name_key)
        .Text(version);
    COFFRE_ASSIGN_OR_RETURN(int64_t updated, txn.Exec(kUpdateVersionSql, params));
    if (updated == 0) return KeyVersionNotFound(record.name, version);
    COFFRE_ASSIGN_OR_RETURN(std::optional<KeyRow> row, LoadVersion(txn, vault, name_key, version));
    if (!row.has_value()) return Status::Internal("store: updated key version vanished");
    return std::move(row->record.latest);
  });
}

Result<DeletedKeyRecord> SqlStore::DeleteKey(std::string_view vault, std::string_view name,
                                             int64_t deleted_date, int64_t scheduled_purge_date) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<DeletedKeyRecord> {
    COFFRE_RETURN_IF_ERROR(RefuseIfCertificateOwns(txn, vault_key, name_key, "key"));
    COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                            LoadKeyState(txn, kLockKeySql, vault_key, name_key));
    if (!state.has_value() || state->deleted) return KeyNotFound(name);
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(
               kSetDeletedSql,
               Params().Text(vault_key).Text(name_key).Int(deleted_date).Int(scheduled_purge_date))
            .status());
    COFFRE_ASSIGN_OR_RETURN(KeyRow row, LoadLatest(txn, vault_key, name_key, true, name));
    return std::move(row.record);
  });
}

Result<DeletedKeyRecord> SqlStore::GetDeletedKey(std::string_view vault, std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<DeletedKeyRecord> {
    COFFRE_ASSIGN_OR_RETURN(KeyRow row,
                            LoadLatest(txn, AsciiLower(vault), AsciiLower(name), true, name));
    return std::move(row.record);
  });
}

Result<Page<DeletedKeyRecord>> SqlStore::ListDeletedKeys(std::string_view vault,
                                                         std::string_view cursor, int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<Page<DeletedKeyRecord>> {
    Page<DeletedKeyRecord> page;
    COFFRE_ASSIGN_OR_RETURN(std::vector<KeyRow> rows, ListLatest(txn, AsciiLower(vault), true,
                                                                 cursor, limit, &page.next_cursor));
    for (KeyRow& row : rows) page.items.push_back(std::move(row.record));
    return page;
  });
}

Result<KeyVersionRecord> SqlStore::RecoverKey(std::string_view vault, std::string_view name) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<KeyVersionRecord> {
    COFFRE_RETURN_IF_ERROR(RefuseIfCertificateOwns(txn, vault_key, name_key, "key"));
    COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                            LoadKeyState(txn, kLockKeySql, vault_key, name_key));
    if (!state.has_value() || !state->deleted) return DeletedKeyNotFound(name);
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(kSetDeletedSql, Params().Text(vault_key).Text(name_key).Null().Null()).status());
    COFFRE_ASSIGN_OR_RETURN(KeyRow row, LoadLatest(txn, vault_key, name_key, false, name));
    return std::move(row.record.latest);
  });
}

Status SqlStore::PurgeKey(std::string_view vault, std::string_view name) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_RETURN_IF_ERROR(RefuseIfCertificateOwns(txn, vault_key, name_key, "key"));
    COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                            LoadKeyState(txn, kLockKeySql, vault_key, name_key));
    if (!state.has_value() || !state->deleted) return DeletedKeyNotFound(name);
    return txn.Exec(kDeleteKeySql, Params().Text(vault_key).Text(name_key)).status();
  });
}

Result<int> SqlStore::PurgeExpiredKeys(int64_t now) {
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<int> {
    COFFRE_ASSIGN_OR_RETURN(int64_t purged, txn.Exec(kPurgeExpiredKeysSql, Params().Int(now)));
    return static_cast<int>(purged);
  });
}

// ---- rotation policies

Result<std::optional<RotationPolicyRecord>> SqlStore::GetRotationPolicy(std::string_view vault,
                                                                        std::string_view name) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  // A snapshot, so the key cannot be deleted between the state check and the read.
  return Run(Mode::kSnapshot, [&](Transaction& txn) -> Result<std::optional<RotationPolicyRecord>> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                            LoadKeyState(txn, kKeyStateSql, vault_key, name_key));
    if (!state.has_value() || state->deleted) return KeyNotFound(name);
    return LoadPolicy(txn, vault_key, name_key);
  });
}

Result<RotationPolicyRecord> SqlStore::PutRotationPolicy(const RotationPolicyRecord& policy) {
  const std::string vault = AsciiLower(policy.vault);
  const std::string name_key = AsciiLower(policy.name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<RotationPolicyRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                            LoadKeyState(txn, kShareKeySql, vault, name_key));
    if (!state.has_value() || state->deleted) return KeyNotFound(policy.name);
    COFFRE_RETURN_IF_ERROR(UpsertPolicy(txn, vault, name_key, policy));
    COFFRE_ASSIGN_OR_RETURN(std::optional<RotationPolicyRecord> stored,
                            LoadPolicy(txn, vault, name_key));
    if (!stored.has_value()) return Status::Internal("store: stored rotation policy vanished");
    return std::move(*stored);
  });
}

Result<std::vector<RotationPolicyRecord>> SqlStore::ListRotationPolicies() {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<std::vector<RotationPolicyRecord>> {
    std::vector<RotationPolicyRecord> policies;
    COFFRE_RETURN_IF_ERROR(txn.Query(kListPoliciesSql, Params(), [&](const Row& row) -> Status {
      RotationPolicyRecord policy;
      COFFRE_RETURN_IF_ERROR(ReadPolicy(row, &policy));
      policies.push_back(std::move(policy));
      return Status::Ok();
    }));
    return policies;
  });
}

// ---- key events

Result<bool> SqlStore::RecordKeyEvent(const KeyEventRecord& event) {
  if (event.kind.empty()) return Status::BadParameter("key event kind must not be empty");
  const std::string vault = AsciiLower(event.vault);
  const std::string name_key = AsciiLower(event.name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<bool> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                            LoadKeyState(txn, kShareKeySql, vault, name_key));
    if (!state.has_value() || state->deleted) return KeyNotFound(event.name);
    Params params;
    params.Text(vault)
        .Text(name_key)
        .Text(AsciiLower(event.version))
        .Text(event.kind)
        .Int(event.time);
    COFFRE_ASSIGN_OR_RETURN(int64_t inserted, txn.Exec(kInsertEventSql, params));
    return inserted > 0;
  });
}

Result<std::vector<KeyEventRecord>> SqlStore::ListKeyEvents(std::string_view vault,
                                                            std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<std::vector<KeyEventRecord>> {
    std::vector<KeyEventRecord> events;
    COFFRE_RETURN_IF_ERROR(
        txn.Query(kListEventsSql, Params().Text(AsciiLower(vault)).Text(AsciiLower(name)),
                  [&](const Row& row) -> Status {
                    KeyEventRecord e;
                    if (!row.Text(0, &e.vault) || !row.Text(1, &e.name) ||
                        !row.Text(2, &e.version) || !row.Text(3, &e.kind) || !row.Int(4, &e.time)) {
                      return Corrupt("key_events");
                    }
                    events.push_back(std::move(e));
                    return Status::Ok();
                  }));
    return events;
  });
}

}  // namespace coffre::store::sql
