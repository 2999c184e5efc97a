// Secrets and their versions, soft delete, recover, purge, restore and secret events: the rules,
// written once for both engines, the same way key_records.cc keeps keys (sql_store.h says how
// they stay safe under concurrency).
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

// Every secret query selects the same columns so one decoder reads them all.
#define COFFRE_SECRET_SELECT                                                                   \
  "SELECT s.vault, s.name, v.version, v.sequence, v.content_type, v.enabled, v.not_before, "   \
  "v.expires, v.created, v.updated, v.tags, v.managed, v.key_id, v.sealed_value, s.name_key, " \
  "s.deleted_date, s.scheduled_purge_date "                                                    \
  "FROM secrets s JOIN secret_versions v ON v.vault = s.vault AND v.name_key = s.name_key "

constexpr char kGetVersionSql[] = COFFRE_SECRET_SELECT
    "WHERE s.vault = $1 AND s.name_key = $2 AND s.deleted_date IS NULL AND v.version = $3";
// $3: true for a soft-deleted secret, false for an active one.
constexpr char kGetLatestSql[] = COFFRE_SECRET_SELECT
    "WHERE s.vault = $1 AND s.name_key = $2 AND (s.deleted_date IS NOT NULL) = $3 "
    "ORDER BY v.sequence DESC LIMIT 1";
constexpr char kListLatestSql[] = COFFRE_SECRET_SELECT
    "WHERE s.vault = $1 AND (s.deleted_date IS NOT NULL) = $2 AND s.name_key > $3 "
    "AND v.sequence = (SELECT MAX(m.sequence) FROM secret_versions m "
    "WHERE m.vault = s.vault AND m.name_key = s.name_key) "
    "ORDER BY s.name_key LIMIT $4";
constexpr char kListVersionsSql[] = COFFRE_SECRET_SELECT
    "WHERE s.vault = $1 AND s.name_key = $2 AND s.deleted_date IS NULL AND v.sequence > $3 "
    "ORDER BY v.sequence LIMIT $4";
#undef COFFRE_SECRET_SELECT

#define COFFRE_SECRET_STATE "SELECT name, deleted_date, next_sequence FROM secrets "
constexpr char kStateSql[] = COFFRE_SECRET_STATE "WHERE vault = $1 AND name_key = $2";
// Held until the transaction ends by every call that adds versions or changes the secret's row.
constexpr char kLockSql[] = COFFRE_SECRET_STATE "WHERE vault = $1 AND name_key = $2 FOR UPDATE";
// Keeps the secret's state (active or deleted) fixed while a call writes what belongs to it.
constexpr char kShareSql[] = COFFRE_SECRET_STATE "WHERE vault = $1 AND name_key = $2 FOR SHARE";
#undef COFFRE_SECRET_STATE
// $4: the next sequence. Waits for a concurrent creator (PostgreSQL) and then inserts nothing.
constexpr char kInsertSecretSql[] =
    "INSERT INTO secrets (vault, name_key, name, deleted_date, scheduled_purge_date, "
    "next_sequence) VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT (vault, name_key) DO NOTHING";
constexpr char kBumpSequenceSql[] =
    "UPDATE secrets SET next_sequence = next_sequence + 1 WHERE vault = $1 AND name_key = $2";
constexpr char kVersionExistsSql[] =
    "SELECT 1 FROM secret_versions WHERE vault = $1 AND name_key = $2 AND version = $3";
constexpr char kLatestManagedSql[] =
    "SELECT managed FROM secret_versions WHERE vault = $1 AND name_key = $2 "
    "ORDER BY sequence DESC LIMIT 1";
constexpr char kInsertVersionSql[] =
    "INSERT INTO secret_versions (vault, name_key, version, sequence, content_type, enabled, "
    "not_before, expires, created, updated, tags, managed, key_id, sealed_value) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
constexpr char kUpdateVersionSql[] =
    "UPDATE secret_versions SET content_type = $1, enabled = $2, not_before = $3, expires = $4, "
    "tags = $5, updated = $6 WHERE vault = $7 AND name_key = $8 AND version = $9";
constexpr char kSetVersionAttributesSql[] =
    "UPDATE secret_versions SET enabled = $1, not_before = $2, expires = $3, updated = $4 "
    "WHERE vault = $5 AND name_key = $6 AND version = $7";
constexpr char kSetDeletedSql[] =
    "UPDATE secrets SET deleted_date = $3, scheduled_purge_date = $4 "
    "WHERE vault = $1 AND name_key = $2";
// Versions and events go by ON DELETE CASCADE.
constexpr char kDeleteSecretSql[] = "DELETE FROM secrets WHERE vault = $1 AND name_key = $2";
// Locks the expired secrets in one order, so two replicas purging at once cannot deadlock.
constexpr char kPurgeExpiredSql[] =
    "DELETE FROM secrets WHERE (vault, name_key) IN (SELECT vault, name_key FROM secrets "
    "WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= $1 AND NOT EXISTS (SELECT 1 "
    "FROM certificates c WHERE c.vault = secrets.vault AND c.name_key = secrets.name_key) "
    "ORDER BY vault, name_key FOR UPDATE)";

constexpr char kInsertEventSql[] =
    "INSERT INTO secret_events (vault, name_key, version, kind, time) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (vault, name_key, version, kind) DO NOTHING";
constexpr char kListEventsSql[] =
    "SELECT s.vault, s.name, e.version, e.kind, e.time "
    "FROM secret_events e JOIN secrets s ON s.vault = e.vault AND s.name_key = e.name_key "
    "WHERE e.vault = $1 AND e.name_key = $2 ORDER BY e.id";

Status SecretNotFound(std::string_view name) {
  return Status::NotFound("NotFound", "secret '" + std::string(name) + "' not found");
}

Status SecretVersionNotFound(std::string_view name, std::string_view version) {
  return Status::NotFound("NotFound", "secret '" + std::string(name) + "' version " +
                                          std::string(version) + " not found");
}

Status DeletedSecretNotFound(std::string_view name) {
  return Status::NotFound("NotFound", "deleted secret '" + std::string(name) + "' not found");
}

struct SecretState {
  std::string name;  // display name
  bool deleted = false;
  int64_t next_sequence = 1;
};

// `sql`: kStateSql, kLockSql or kShareSql.
Result<std::optional<SecretState>> LoadState(Transaction& txn, const char* sql,
                                             std::string_view vault, std::string_view name_key) {
  std::optional<SecretState> state;
  COFFRE_RETURN_IF_ERROR(
      txn.Query(sql, Params().Text(vault).Text(name_key), [&](const Row& row) -> Status {
        SecretState s;
        std::optional<int64_t> deleted_date;
        if (!row.Text(0, &s.name) || !row.OptInt(1, &deleted_date) ||
            !row.Int(2, &s.next_sequence) || s.next_sequence < 1) {
          return Corrupt("secrets");
        }
        s.deleted = deleted_date.has_value();
        state = std::move(s);
        return Status::Ok();
      }));
  return state;
}

Result<std::vector<SecretRow>> QueryRows(Transaction& txn, const char* sql, const Params& params) {
  return QueryAll<SecretRow>(txn, sql, params, ReadSecretRow);
}

// Latest version of a secret in the given state; kNotFound if there is none.
Result<SecretRow> LoadLatest(Transaction& txn, std::string_view vault, std::string_view name_key,
                             bool deleted, std::string_view display_name) {
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<SecretRow> rows,
      QueryRows(txn, kGetLatestSql, Params().Text(vault).Text(name_key).Bool(deleted)));
  if (rows.empty()) {
    return deleted ? DeletedSecretNotFound(display_name) : SecretNotFound(display_name);
  }
  return std::move(rows.front());
}

// A version of an active secret, or nullopt.
Result<std::optional<SecretRow>> LoadVersion(Transaction& txn, std::string_view vault,
                                             std::string_view name_key, std::string_view version) {
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<SecretRow> rows,
      QueryRows(txn, kGetVersionSql, Params().Text(vault).Text(name_key).Text(version)));
  if (rows.empty()) return std::optional<SecretRow>();
  return std::optional<SecretRow>(std::move(rows.front()));
}

Result<bool> VersionExists(Transaction& txn, const std::string& vault, const std::string& name_key,
                           const std::string& version) {
  return Exists(txn, kVersionExistsSql, Params().Text(vault).Text(name_key).Text(version));
}

// Callers check VersionExists first, to answer a duplicate with their own inner code.
Status InsertVersion(Transaction& txn, const std::string& vault, const std::string& name_key,
                     const std::string& version, const std::string& tags, int64_t sequence,
                     const SecretVersionRecord& record) {
  Params params;
  params.Text(vault)
      .Text(name_key)
      .Text(version)
      .Int(sequence)
      .OptText(record.content_type)
      .Bool(record.enabled)
      .OptInt(record.not_before)
      .OptInt(record.expires)
      .Int(record.created)
      .Int(record.updated)
      .Document(tags)
      .Bool(record.managed)
      .OptText(record.key_id)
      .Blob(record.sealed_value);
  return txn.Exec(kInsertVersionSql, params).status();
}

Result<std::vector<SecretRow>> ListLatest(Transaction& txn, std::string_view vault, bool deleted,
                                          std::string_view cursor, int limit,
                                          std::string* next_cursor) {
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<SecretRow> rows,
      QueryRows(txn, kListLatestSql,
                Params().Text(vault).Bool(deleted).Text(cursor).Int(int64_t{limit} + 1)));
  if (rows.size() > static_cast<size_t>(limit)) {
    rows.resize(static_cast<size_t>(limit));
    *next_cursor = rows.back().name_key;
  }
  return rows;
}

}  // namespace

Status ReadSecretRow(const Row& row, SecretRow* out) {
  SecretVersionRecord& v = out->record.latest;
  std::string tags;
  std::optional<int64_t> deleted_date;
  std::optional<int64_t> purge_date;
  if (!row.Text(0, &v.vault) || !row.Text(1, &v.name) || !row.Text(2, &v.version) ||
      !row.Int(3, &v.sequence) || !row.OptText(4, &v.content_type) || !row.Bool(5, &v.enabled) ||
      !row.OptInt(6, &v.not_before) || !row.OptInt(7, &v.expires) || !row.Int(8, &v.created) ||
      !row.Int(9, &v.updated) || !row.Document(10, &tags) || !row.Bool(11, &v.managed) ||
      !row.OptText(12, &v.key_id) || !row.Blob(13, &v.sealed_value) ||
      !row.Text(14, &out->name_key) || !row.OptInt(15, &deleted_date) ||
      !row.OptInt(16, &purge_date) || !DecodeTags(tags, &v.tags)) {
    return Corrupt("secret_versions");
  }
  out->record.deleted_date = deleted_date.value_or(0);
  out->record.scheduled_purge_date = purge_date.value_or(0);
  return Status::Ok();
}

// ---- secrets

Result<AddedVersion> AddSecretVersionStep(Transaction& txn, const SecretVersionRecord& record,
                                          bool for_certificate) {
  if (record.name.empty() || record.version.empty()) {
    return Status::BadParameter("secret name and version must not be empty");
  }
  const std::string vault = AsciiLower(record.vault);
  const std::string name_key = AsciiLower(record.name);
  const std::string version = AsciiLower(record.version);
  const std::string tags = EncodeTags(record.tags);
  COFFRE_RETURN_IF_ERROR(CheckVaultExists(txn, vault));
  if (!for_certificate && record.managed) {
    return Status::BadParameter("only a certificate adds managed secret versions");
  }
  // The secret row's lock orders every writer of its versions, in any process.
  COFFRE_ASSIGN_OR_RETURN(std::optional<SecretState> state,
                          LoadState(txn, kLockSql, vault, name_key));
  bool new_secret = false;
  if (!state.has_value()) {
    COFFRE_ASSIGN_OR_RETURN(
        int64_t inserted,
        txn.Exec(kInsertSecretSql, Params().Text(vault).Text(name_key).Text(record.name).Int(1)));
    if (inserted == 1) {
      state = SecretState{record.name, false, 1};
      new_secret = true;
    } else {
      COFFRE_ASSIGN_OR_RETURN(state, LoadState(txn, kLockSql, vault, name_key));
      // Created and purged again by others in between: start over.
      if (!state.has_value()) return txn.RunAgain("secret '" + record.name + "' changed");
    }
  }
  if (state->deleted) {
    return Status::Conflict("secret '" + record.name + "' is deleted",
                            std::string(reason::kDeleted));
  }
  if (!for_certificate) {
    COFFRE_RETURN_IF_ERROR(RefuseIfCertificateOwns(txn, vault, name_key, "secret"));
  }
  if (!new_secret) {
    if (!record.managed) {
      bool latest_managed = false;
      COFFRE_RETURN_IF_ERROR(txn.Query(kLatestManagedSql, Params().Text(vault).Text(name_key),
                                       [&](const Row& row) -> Status {
                                         if (!row.Bool(0, &latest_managed)) {
                                           return Corrupt("secret_versions");
                                         }
                                         return Status::Ok();
                                       }));
      if (latest_managed) {
        return Status::Conflict("secret '" + record.name + "' is managed",
                                std::string(reason::kManaged));
      }
    }
    COFFRE_ASSIGN_OR_RETURN(bool exists, VersionExists(txn, vault, name_key, version));
    if (exists) {
      return Status::Conflict("secret '" + record.name + "' already has version " + version,
                              std::string(reason::kVersionExists));
    }
  }
  AddedVersion added;
  added.sequence = state->next_sequence;
  added.display_name = state->name;
  added.version = version;
  COFFRE_RETURN_IF_ERROR(
      InsertVersion(txn, vault, name_key, version, tags, added.sequence, record));
  COFFRE_RETURN_IF_ERROR(txn.Exec(kBumpSequenceSql, Params().Text(vault).Text(name_key)).status());
  return added;
}

Result<bool> SetSecretDeletedStep(Transaction& txn, std::string_view vault_key,
                                  std::string_view name_key, std::optional<int64_t> deleted_date,
                                  std::optional<int64_t> scheduled_purge_date) {
  COFFRE_ASSIGN_OR_RETURN(std::optional<SecretState> state,
                          LoadState(txn, kLockSql, vault_key, name_key));
  if (!state.has_value()) return false;
  COFFRE_RETURN_IF_ERROR(txn.Exec(kSetDeletedSql, Params()
                                                      .Text(vault_key)
                                                      .Text(name_key)
                                                      .OptInt(deleted_date)
                                                      .OptInt(scheduled_purge_date))
                             .status());
  return true;
}

Status RemoveSecretStep(Transaction& txn, std::string_view vault_key, std::string_view name_key) {
  return txn.Exec(kDeleteSecretSql, Params().Text(vault_key).Text(name_key)).status();
}

Status SetSecretVersionAttributesStep(Transaction& txn, std::string_view vault_key,
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

Status SqlStore::AddSecretVersion(SecretVersionRecord& record) {
  AddedVersion added;
  Status status = Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(added, AddSecretVersionStep(txn, record, record.managed));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  record.vault = AsciiLower(record.vault);
  record.name = std::move(added.display_name);
  record.version = std::move(added.version);
  record.sequence = added.sequence;
  return Status::Ok();
}

Status SqlStore::RestoreSecret(std::vector<SecretVersionRecord>& versions) {
  if (versions.empty()) {
    return Status::BadParameter("a restored secret needs at least one version");
  }
  const std::string vault = AsciiLower(versions.front().vault);
  const std::string name_key = AsciiLower(versions.front().name);
  const std::string display_name = versions.front().name;
  if (name_key.empty()) return Status::BadParameter("secret name must not be empty");
  std::vector<std::pair<std::string, std::string>> encoded;  // version, tags
  encoded.reserve(versions.size());
  for (const SecretVersionRecord& record : versions) {
    if (AsciiLower(record.vault) != vault || AsciiLower(record.name) != name_key) {
      return Status::BadParameter("restored versions must all belong to one secret");
    }
    if (record.version.empty()) return Status::BadParameter("secret version must not be empty");
    encoded.emplace_back(AsciiLower(record.version), EncodeTags(record.tags));
  }
  const int64_t count = static_cast<int64_t>(versions.size());
  Status status = Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_RETURN_IF_ERROR(CheckVaultExists(txn, vault));
    COFFRE_ASSIGN_OR_RETURN(
        int64_t inserted,
        txn.Exec(kInsertSecretSql,
                 Params().Text(vault).Text(name_key).Text(display_name).Int(count + 1)));
    if (inserted == 0) {
      COFFRE_ASSIGN_OR_RETURN(std::optional<SecretState> state,
                              LoadState(txn, kStateSql, vault, name_key));
      const bool deleted = state.has_value() && state->deleted;
      return Status::Conflict("secret '" + (state.has_value() ? state->name : display_name) +
                                  "' already exists" + (deleted ? " (deleted)" : ""),
                              std::string(reason::kExists));
    }
    for (int64_t i = 0; i < count; ++i) {
      const auto& [version, tags] = encoded[static_cast<size_t>(i)];
      COFFRE_ASSIGN_OR_RETURN(bool exists, VersionExists(txn, vault, name_key, version));
      if (exists) {
        return Status::BadParameter("restored secret lists version " + version + " twice",
                                    std::string(reason::kDuplicateVersion));
      }
      COFFRE_RETURN_IF_ERROR(InsertVersion(txn, vault, name_key, version, tags, i + 1,
                                           versions[static_cast<size_t>(i)]));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  for (size_t i = 0; i < versions.size(); ++i) {
    versions[i].vault = vault;
    versions[i].name = display_name;
    versions[i].version = std::move(encoded[i].first);
    versions[i].sequence = static_cast<int64_t>(i) + 1;
  }
  return Status::Ok();
}

Result<SecretVersionRecord> SqlStore::GetSecretVersion(std::string_view vault,
                                                       std::string_view name,
                                                       std::string_view version) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<SecretVersionRecord> {
    if (version.empty()) {
      COFFRE_ASSIGN_OR_RETURN(SecretRow row,
                              LoadLatest(txn, AsciiLower(vault), AsciiLower(name), false, name));
      return std::move(row.record.latest);
    }
    COFFRE_ASSIGN_OR_RETURN(
        std::optional<SecretRow> row,
        LoadVersion(txn, AsciiLower(vault), AsciiLower(name), AsciiLower(version)));
    if (!row.has_value()) return SecretVersionNotFound(name, version);
    return std::move(row->record.latest);
  });
}

Result<Page<SecretVersionRecord>> SqlStore::ListSecrets(std::string_view vault,
                                                        std::string_view cursor, int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<Page<SecretVersionRecord>> {
    Page<SecretVersionRecord> page;
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<SecretRow> rows,
        ListLatest(txn, AsciiLower(vault), false, cursor, limit, &page.next_cursor));
    for (SecretRow& row : rows) page.items.push_back(std::move(row.record.latest));
    return page;
  });
}

Result<Page<SecretVersionRecord>> SqlStore::ListSecretVersions(std::string_view vault,
                                                               std::string_view name,
                                                               std::string_view cursor, int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_ASSIGN_OR_RETURN(int64_t after, ParseSequenceCursor(cursor));
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  // A snapshot, so the secret cannot be deleted between the state check and the listing.
  return Run(Mode::kSnapshot, [&](Transaction& txn) -> Result<Page<SecretVersionRecord>> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<SecretState> state,
                            LoadState(txn, kStateSql, vault_key, name_key));
    if (!state.has_value() || state->deleted) return SecretNotFound(name);
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<SecretRow> rows,
        QueryRows(txn, kListVersionsSql,
                  Params().Text(vault_key).Text(name_key).Int(after).Int(int64_t{limit} + 1)));
    Page<SecretVersionRecord> page;
    if (rows.size() > static_cast<size_t>(limit)) {
      rows.resize(static_cast<size_t>(limit));
      page.next_cursor = std::to_string(rows.back().record.latest.sequence);
    }
    for (SecretRow& row : rows) page.items.push_back(std::move(row.record.latest));
    return page;
  });
}

Result<SecretVersionRecord> SqlStore::UpdateSecretVersion(const SecretVersionRecord& record) {
  const std::string vault = AsciiLower(record.vault);
  const std::string name_key = AsciiLower(record.name);
  const std::string tags = EncodeTags(record.tags);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<SecretVersionRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<SecretState> state,
                            LoadState(txn, kShareSql, vault, name_key));
    if (!state.has_value() || state->deleted) return SecretNotFound(record.name);
    std::string version = AsciiLower(record.version);
    if (version.empty()) {
      COFFRE_ASSIGN_OR_RETURN(SecretRow latest,
                              LoadLatest(txn, vault, name_key, false, record.name));
      version = latest.record.latest.version;
    }
    Params params;
    params.OptText(record.content_type)
        .Bool(record.enabled)
        .OptInt(record.not_before)
        .OptInt(record.expires)
        .Document(tags)
        .Int(record.updated)
        .Text(vault)
        .Text(name_key)
        .Text(version);
    COFFRE_ASSIGN_OR_RETURN(int64_t updated, txn.Exec(kUpdateVersionSql, params));
    if (updated == 0) return SecretVersionNotFound(record.name, version);
    COFFRE_ASSIGN_OR_RETURN(std::optional<SecretRow> row,
                            LoadVersion(txn, vault, name_key, version));
    if (!row.has_value()) return Status::Internal("store: updated secret version vanished");
    return std::move(row->record.latest);
  });
}

Result<DeletedSecretRecord> SqlStore::DeleteSecret(std::string_view vault, std::string_view name,
                                                   int64_t deleted_date,
                                                   int64_t scheduled_purge_date) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<DeletedSecretRecord> {
    COFFRE_RETURN_IF_ERROR(RefuseIfCertificateOwns(txn, vault_key, name_key, "secret"));
    COFFRE_ASSIGN_OR_RETURN(std::optional<SecretState> state,
                            LoadState(txn, kLockSql, vault_key, name_key));
    if (!state.has_value() || state->deleted) return SecretNotFound(name);
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(
               kSetDeletedSql,
               Params().Text(vault_key).Text(name_key).Int(deleted_date).Int(scheduled_purge_date))
            .status());
    COFFRE_ASSIGN_OR_RETURN(SecretRow row, LoadLatest(txn, vault_key, name_key, true, name));
    return std::move(row.record);
  });
}

Result<DeletedSecretRecord> SqlStore::GetDeletedSecret(std::string_view vault,
                                                       std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<DeletedSecretRecord> {
    COFFRE_ASSIGN_OR_RETURN(SecretRow row,
                            LoadLatest(txn, AsciiLower(vault), AsciiLower(name), true, name));
    return std::move(row.record);
  });
}

Result<Page<DeletedSecretRecord>> SqlStore::ListDeletedSecrets(std::string_view vault,
                                                               std::string_view cursor, int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<Page<DeletedSecretRecord>> {
    Page<DeletedSecretRecord> page;
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<SecretRow> rows,
        ListLatest(txn, AsciiLower(vault), true, cursor, limit, &page.next_cursor));
    for (SecretRow& row : rows) page.items.push_back(std::move(row.record));
    return page;
  });
}

Result<SecretVersionRecord> SqlStore::RecoverSecret(std::string_view vault, std::string_view name) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<SecretVersionRecord> {
    COFFRE_RETURN_IF_ERROR(RefuseIfCertificateOwns(txn, vault_key, name_key, "secret"));
    COFFRE_ASSIGN_OR_RETURN(std::optional<SecretState> state,
                            LoadState(txn, kLockSql, vault_key, name_key));
    if (!state.has_value() || !state->deleted) return DeletedSecretNotFound(name);
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(kSetDeletedSql, Params().Text(vault_key).Text(name_key).Null().Null()).status());
    COFFRE_ASSIGN_OR_RETURN(SecretRow row, LoadLatest(txn, vault_key, name_key, false, name));
    return std::move(row.record.latest);
  });
}

Status SqlStore::PurgeSecret(std::string_view vault, std::string_view name) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_RETURN_IF_ERROR(RefuseIfCertificateOwns(txn, vault_key, name_key, "secret"));
    COFFRE_ASSIGN_OR_RETURN(std::optional<SecretState> state,
                            LoadState(txn, kLockSql, vault_key, name_key));
    if (!state.has_value() || !state->deleted) return DeletedSecretNotFound(name);
    return txn.Exec(kDeleteSecretSql, Params().Text(vault_key).Text(name_key)).status();
  });
}

Result<int> SqlStore::PurgeExpiredSecrets(int64_t now) {
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<int> {
    COFFRE_ASSIGN_OR_RETURN(int64_t purged, txn.Exec(kPurgeExpiredSql, Params().Int(now)));
    return static_cast<int>(purged);
  });
}

// ---- secret events

Result<bool> SqlStore::RecordSecretEvent(const SecretEventRecord& event) {
  if (event.kind.empty()) return Status::BadParameter("secret event kind must not be empty");
  const std::string vault = AsciiLower(event.vault);
  const std::string name_key = AsciiLower(event.name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<bool> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<SecretState> state,
                            LoadState(txn, kShareSql, vault, name_key));
    if (!state.has_value() || state->deleted) return SecretNotFound(event.name);
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

Result<std::vector<SecretEventRecord>> SqlStore::ListSecretEvents(std::string_view vault,
                                                                  std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<std::vector<SecretEventRecord>> {
    return QueryAll<SecretEventRecord>(
        txn, kListEventsSql, Params().Text(AsciiLower(vault)).Text(AsciiLower(name)),
        [](const Row& row, SecretEventRecord* e) -> Status {
          if (!row.Text(0, &e->vault) || !row.Text(1, &e->name) || !row.Text(2, &e->version) ||
              !row.Text(3, &e->kind) || !row.Int(4, &e->time)) {
            return Corrupt("secret_events");
          }
          return Status::Ok();
        });
  });
}

}  // namespace coffre::store::sql
