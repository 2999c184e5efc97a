// SQLite implementation of Store.
//
// Concurrency: one writer connection behind a mutex (SQLite serializes writers anyway) and a small
// pool of reader connections. In WAL mode readers see the last committed snapshot and never block
// the writer, so reads scale with the pool while writes queue on the mutex. Each connection is
// opened NOMUTEX and used by one thread at a time under our own locking, and keeps its prepared
// statements for its lifetime.
//
// Another process (the `coffre principal create` CLI) may open the same file while the server
// runs: write transactions start with BEGIN IMMEDIATE and every connection has a busy timeout, so
// the two simply take turns.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "store/consistency_checks.h"
#include "store/record_codec.h"
#include "store/store.h"

namespace coffre::store {
namespace {

constexpr int kBusyTimeoutMs = 10'000;
constexpr int kReaderCount = 4;

// ---------------------------------------------------------------------------------------------
// Schema. Migrations are applied in order at open, each database remembering how many it has in
// PRAGMA user_version. Never edit a released migration: append a new one.

constexpr const char* kMigrations[] = {
    // 1: initial schema.
    R"sql(
CREATE TABLE vaults (
  name TEXT PRIMARY KEY,
  retention_days INTEGER NOT NULL,
  purge_protection INTEGER NOT NULL,
  created INTEGER NOT NULL
) STRICT;

CREATE TABLE keys (
  vault TEXT NOT NULL REFERENCES vaults (name),
  name_key TEXT NOT NULL,
  name TEXT NOT NULL,
  deleted_date INTEGER,
  scheduled_purge_date INTEGER,
  next_sequence INTEGER NOT NULL,
  PRIMARY KEY (vault, name_key),
  CHECK ((deleted_date IS NULL) = (scheduled_purge_date IS NULL))
) STRICT;
CREATE INDEX keys_by_purge_date ON keys (scheduled_purge_date) WHERE deleted_date IS NOT NULL;

CREATE TABLE key_versions (
  vault TEXT NOT NULL,
  name_key TEXT NOT NULL,
  version TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  key_type TEXT NOT NULL,
  key_ops TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  not_before INTEGER,
  expires INTEGER,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  tags TEXT NOT NULL,
  public_key BLOB NOT NULL,
  sealed_private_key BLOB NOT NULL,
  PRIMARY KEY (vault, name_key, version),
  UNIQUE (vault, name_key, sequence),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
) STRICT;

CREATE TABLE principals (
  name_key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  client_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
  object_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
)sql",
    // 2: rotation policies and once-only key events. Both belong to a key row (active or
    // soft-deleted) and go with it when it is purged.
    R"sql(
CREATE TABLE rotation_policies (
  vault TEXT NOT NULL,
  name_key TEXT NOT NULL,
  actions TEXT NOT NULL,
  expiry_time TEXT,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (vault, name_key),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
) STRICT;

CREATE TABLE key_events (
  id INTEGER PRIMARY KEY,
  vault TEXT NOT NULL,
  name_key TEXT NOT NULL,
  version TEXT NOT NULL,
  kind TEXT NOT NULL,
  time INTEGER NOT NULL,
  UNIQUE (vault, name_key, version, kind),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
) STRICT;
)sql",
    // 3: background-job leases (Store::TryAcquireJobLease).
    R"sql(
CREATE TABLE job_leases (
  job TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires INTEGER NOT NULL
) STRICT;
)sql",
    // 4: permission models: RBAC switch per vault, access policies, role assignments.
    R"sql(
ALTER TABLE vaults ADD COLUMN rbac_authorization INTEGER NOT NULL DEFAULT 0;

CREATE TABLE access_policies (
  vault TEXT NOT NULL REFERENCES vaults (name) ON DELETE CASCADE,
  object_id TEXT NOT NULL,
  application_id TEXT NOT NULL,
  keys TEXT NOT NULL,
  secrets TEXT NOT NULL,
  certificates TEXT NOT NULL,
  PRIMARY KEY (vault, object_id, application_id)
) STRICT;

CREATE TABLE role_assignments (
  id TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  created INTEGER NOT NULL
) STRICT;
CREATE INDEX role_assignments_by_principal ON role_assignments (principal_id);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

// ---------------------------------------------------------------------------------------------
// SQL. Every key query selects the same columns so one decoder reads them all.

#define COFFRE_KEY_SELECT                                                                       \
  "SELECT k.vault, k.name, v.version, v.sequence, v.key_type, v.key_ops, v.enabled, "           \
  "v.not_before, v.expires, v.created, v.updated, v.tags, v.public_key, v.sealed_private_key, " \
  "k.name_key, k.deleted_date, k.scheduled_purge_date "                                         \
  "FROM keys k JOIN key_versions v ON v.vault = k.vault AND v.name_key = k.name_key "

constexpr char kGetVersionSql[] = COFFRE_KEY_SELECT
    "WHERE k.vault = ?1 AND k.name_key = ?2 AND k.deleted_date IS NULL AND v.version = ?3";
// ?3: 1 for a soft-deleted key, 0 for an active one.
constexpr char kGetLatestSql[] = COFFRE_KEY_SELECT
    "WHERE k.vault = ?1 AND k.name_key = ?2 AND (k.deleted_date IS NOT NULL) = ?3 "
    "ORDER BY v.sequence DESC LIMIT 1";
constexpr char kListLatestSql[] = COFFRE_KEY_SELECT
    "WHERE k.vault = ?1 AND (k.deleted_date IS NOT NULL) = ?2 AND k.name_key > ?3 "
    "AND v.sequence = (SELECT MAX(m.sequence) FROM key_versions m "
    "WHERE m.vault = k.vault AND m.name_key = k.name_key) "
    "ORDER BY k.name_key LIMIT ?4";
constexpr char kListVersionsSql[] = COFFRE_KEY_SELECT
    "WHERE k.vault = ?1 AND k.name_key = ?2 AND k.deleted_date IS NULL AND v.sequence > ?3 "
    "ORDER BY v.sequence LIMIT ?4";
#undef COFFRE_KEY_SELECT

constexpr char kKeyStateSql[] =
    "SELECT name, deleted_date, next_sequence FROM keys WHERE vault = ?1 AND name_key = ?2";
constexpr char kInsertKeySql[] =
    "INSERT INTO keys (vault, name_key, name, deleted_date, scheduled_purge_date, next_sequence) "
    "VALUES (?1, ?2, ?3, NULL, NULL, 1)";
// A restored key: its sequences 1..n are taken by the restored versions.
constexpr char kInsertRestoredKeySql[] =
    "INSERT INTO keys (vault, name_key, name, deleted_date, scheduled_purge_date, next_sequence) "
    "VALUES (?1, ?2, ?3, NULL, NULL, ?4)";
constexpr char kLatestSequenceSql[] =
    "SELECT MAX(sequence) FROM key_versions WHERE vault = ?1 AND name_key = ?2";
constexpr char kBumpSequenceSql[] =
    "UPDATE keys SET next_sequence = next_sequence + 1 WHERE vault = ?1 AND name_key = ?2";
constexpr char kVersionExistsSql[] =
    "SELECT 1 FROM key_versions WHERE vault = ?1 AND name_key = ?2 AND version = ?3";
constexpr char kInsertVersionSql[] =
    "INSERT INTO key_versions (vault, name_key, version, sequence, key_type, key_ops, enabled, "
    "not_before, expires, created, updated, tags, public_key, sealed_private_key) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
constexpr char kUpdateVersionSql[] =
    "UPDATE key_versions SET enabled = ?1, not_before = ?2, expires = ?3, key_ops = ?4, "
    "tags = ?5, updated = ?6 WHERE vault = ?7 AND name_key = ?8 AND version = ?9";
constexpr char kSetDeletedSql[] =
    "UPDATE keys SET deleted_date = ?3, scheduled_purge_date = ?4 "
    "WHERE vault = ?1 AND name_key = ?2";
constexpr char kDeletePolicySql[] =
    "DELETE FROM rotation_policies WHERE vault = ?1 AND name_key = ?2";
constexpr char kDeleteEventsSql[] = "DELETE FROM key_events WHERE vault = ?1 AND name_key = ?2";
constexpr char kDeleteVersionsSql[] = "DELETE FROM key_versions WHERE vault = ?1 AND name_key = ?2";
constexpr char kDeleteKeySql[] = "DELETE FROM keys WHERE vault = ?1 AND name_key = ?2";
constexpr char kPurgeExpiredPoliciesSql[] =
    "DELETE FROM rotation_policies WHERE (vault, name_key) IN (SELECT vault, name_key FROM keys "
    "WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?1)";
constexpr char kPurgeExpiredEventsSql[] =
    "DELETE FROM key_events WHERE (vault, name_key) IN (SELECT vault, name_key FROM keys "
    "WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?1)";
constexpr char kPurgeExpiredVersionsSql[] =
    "DELETE FROM key_versions WHERE (vault, name_key) IN (SELECT vault, name_key FROM keys "
    "WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?1)";
constexpr char kPurgeExpiredKeysSql[] =
    "DELETE FROM keys WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?1";

#define COFFRE_POLICY_SELECT                                                \
  "SELECT k.vault, k.name, p.actions, p.expiry_time, p.created, p.updated " \
  "FROM rotation_policies p JOIN keys k ON k.vault = p.vault AND k.name_key = p.name_key "
constexpr char kGetPolicySql[] = COFFRE_POLICY_SELECT "WHERE p.vault = ?1 AND p.name_key = ?2";
constexpr char kListPoliciesSql[] =
    COFFRE_POLICY_SELECT "WHERE k.deleted_date IS NULL ORDER BY p.vault, p.name_key";
#undef COFFRE_POLICY_SELECT
// On replace the stored `created` stays.
constexpr char kPutPolicySql[] =
    "INSERT INTO rotation_policies (vault, name_key, actions, expiry_time, created, updated) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (vault, name_key) DO UPDATE SET "
    "actions = excluded.actions, expiry_time = excluded.expiry_time, updated = excluded.updated";

// Only a duplicate event is ignored; any other constraint failure is still an error.
constexpr char kInsertEventSql[] =
    "INSERT INTO key_events (vault, name_key, version, kind, time) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (vault, name_key, version, kind) DO NOTHING";
constexpr char kListEventsSql[] =
    "SELECT k.vault, k.name, e.version, e.kind, e.time "
    "FROM key_events e JOIN keys k ON k.vault = e.vault AND k.name_key = e.name_key "
    "WHERE e.vault = ?1 AND e.name_key = ?2 ORDER BY e.id";

constexpr char kPutVaultSql[] =
    "INSERT OR IGNORE INTO vaults (name, retention_days, purge_protection, created, "
    "rbac_authorization) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char kGetVaultSql[] =
    "SELECT name, retention_days, purge_protection, created, rbac_authorization FROM vaults "
    "WHERE name = ?1";
constexpr char kListVaultsSql[] =
    "SELECT name, retention_days, purge_protection, created, rbac_authorization FROM vaults "
    "ORDER BY name";
constexpr char kUpdateVaultSql[] =
    "UPDATE vaults SET retention_days = ?2, purge_protection = ?3, rbac_authorization = ?4 "
    "WHERE name = ?1";
constexpr char kVaultHasKeysSql[] = "SELECT 1 FROM keys WHERE vault = ?1 LIMIT 1";
constexpr char kDeleteVaultPoliciesSql[] = "DELETE FROM access_policies WHERE vault = ?1";
constexpr char kDeleteVaultSql[] = "DELETE FROM vaults WHERE name = ?1";
constexpr char kPutAccessPolicySql[] =
    "INSERT INTO access_policies (vault, object_id, application_id, keys, secrets, certificates) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (vault, object_id, application_id) DO UPDATE "
    "SET keys = excluded.keys, secrets = excluded.secrets, certificates = excluded.certificates";
// ?7..?9: whether the change replaces keys, secrets, certificates. One statement, so two merges
// of one entry never lose each other's lists.
constexpr char kMergeAccessPolicySql[] =
    "INSERT INTO access_policies (vault, object_id, application_id, keys, secrets, certificates) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (vault, object_id, application_id) DO UPDATE "
    "SET keys = CASE WHEN ?7 THEN excluded.keys ELSE access_policies.keys END, "
    "secrets = CASE WHEN ?8 THEN excluded.secrets ELSE access_policies.secrets END, "
    "certificates = CASE WHEN ?9 THEN excluded.certificates ELSE access_policies.certificates END "
    "RETURNING vault, object_id, application_id, keys, secrets, certificates";
constexpr char kDeleteAccessPolicySql[] =
    "DELETE FROM access_policies WHERE vault = ?1 AND object_id = ?2 AND application_id = ?3";
constexpr char kListAccessPoliciesSql[] =
    "SELECT vault, object_id, application_id, keys, secrets, certificates FROM access_policies "
    "WHERE vault = ?1 ORDER BY object_id, application_id";
constexpr char kInsertRoleAssignmentSql[] =
    "INSERT INTO role_assignments (id, role, principal_id, scope, created) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char kDeleteRoleAssignmentSql[] = "DELETE FROM role_assignments WHERE id = ?1";
constexpr char kListRoleAssignmentsSql[] =
    "SELECT id, role, principal_id, scope, created FROM role_assignments ORDER BY created, id";
constexpr char kListRoleAssignmentsForSql[] =
    "SELECT id, role, principal_id, scope, created FROM role_assignments "
    "WHERE principal_id = ?1 ORDER BY created, id";

constexpr char kPrincipalNameTakenSql[] = "SELECT 1 FROM principals WHERE name_key = ?1";
constexpr char kPrincipalClientTakenSql[] = "SELECT 1 FROM principals WHERE client_id = ?1";
constexpr char kInsertPrincipalSql[] =
    "INSERT INTO principals (name_key, name, client_id, object_id, secret_hash, created) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kGetPrincipalByClientSql[] =
    "SELECT name, client_id, object_id, secret_hash, created FROM principals "
    "WHERE client_id = ?1";
constexpr char kListPrincipalsSql[] =
    "SELECT name, client_id, object_id, secret_hash, created FROM principals ORDER BY name_key";
constexpr char kDeletePrincipalSql[] = "DELETE FROM principals WHERE name_key = ?1";

constexpr char kInsertSettingSql[] = "INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)";
constexpr char kGetSettingSql[] = "SELECT value FROM settings WHERE key = ?1";

// Takes the lease if free, expired or already ours; changes no row otherwise.
constexpr char kAcquireLeaseSql[] =
    "INSERT INTO job_leases (job, holder, expires) VALUES (?1, ?2, ?4) "
    "ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires = excluded.expires "
    "WHERE job_leases.holder = excluded.holder OR job_leases.expires <= ?3";

// ---- whole-store checks (ScanKeyVersions, CheckConsistency)

// Every version of every key, active or deleted, after the cursor's (vault, name_key, sequence).
// The last column tells a soft-deleted key (its dates may be any value, 0 included).
constexpr char kScanVersionsSql[] =
    "SELECT k.vault, k.name, v.version, v.sequence, v.key_type, v.key_ops, v.enabled, "
    "v.not_before, v.expires, v.created, v.updated, v.tags, v.public_key, v.sealed_private_key, "
    "k.name_key, k.deleted_date, k.scheduled_purge_date, k.deleted_date IS NOT NULL "
    "FROM keys k JOIN key_versions v ON v.vault = k.vault AND v.name_key = k.name_key "
    "WHERE (k.vault, k.name_key, v.sequence) > (?1, ?2, ?3) "
    "ORDER BY k.vault, k.name_key, v.sequence LIMIT ?4";

constexpr char kIntegrityCheckSql[] = "PRAGMA integrity_check";
constexpr char kForeignKeyCheckSql[] = "PRAGMA foreign_key_check";

// ---------------------------------------------------------------------------------------------
// Helpers.

// Names compare case-insensitively in ASCII.
std::string Lower(std::string_view s) { return AsciiLower(s); }

// sqlite3_errmsg names tables and constraints, never bound values, so it is safe to log.
Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: " + std::string(what) + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      // Another process held the database past the busy timeout: worth a retry, not a bug.
      return Status::Unavailable(std::move(message));
    case SQLITE_CONSTRAINT:
      return Status::Conflict(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

Status Corrupt(std::string_view table) {
  return Status::Internal("sqlite: malformed row in table " + std::string(table));
}

// ---------------------------------------------------------------------------------------------
// Statement: a cached prepared statement in use. Binds by position in call order and resets the
// statement (dropping its bindings) when it goes out of scope, so the cache can hand it out again.

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept
      : db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        index_(other.index_),
        bind_rc_(other.bind_rc_) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // Values are copied (SQLITE_TRANSIENT) so callers may bind temporaries.
  Statement& Bind(std::string_view text) {
    Check(sqlite3_bind_text64(stmt_, ++index_, text.data(), text.size(), SQLITE_TRANSIENT,
                              SQLITE_UTF8));
    return *this;
  }
  Statement& Bind(const std::string& text) { return Bind(std::string_view(text)); }
  Statement& Bind(const char* text) { return Bind(std::string_view(text)); }
  Statement& Bind(int64_t value) {
    Check(sqlite3_bind_int64(stmt_, ++index_, value));
    return *this;
  }
  Statement& Bind(int value) { return Bind(static_cast<int64_t>(value)); }
  Statement& Bind(bool value) { return Bind(static_cast<int64_t>(value ? 1 : 0)); }
  Statement& Bind(const std::optional<int64_t>& value) {
    if (value.has_value()) return Bind(*value);
    Check(sqlite3_bind_null(stmt_, ++index_));
    return *this;
  }
  Statement& Bind(const std::optional<std::string>& value) {
    if (value.has_value()) return Bind(std::string_view(*value));
    Check(sqlite3_bind_null(stmt_, ++index_));
    return *this;
  }
  Statement& Bind(const Bytes& blob) {
    // A null pointer would bind SQL NULL; an empty value must stay an (empty) BLOB.
    if (blob.empty()) {
      Check(sqlite3_bind_zeroblob(stmt_, ++index_, 0));
    } else {
      Check(sqlite3_bind_blob64(stmt_, ++index_, blob.data(), blob.size(), SQLITE_TRANSIENT));
    }
    return *this;
  }

  // True for a row, false when done.
  Result<bool> Step() {
    if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, "bind");
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, "step");
  }
  // Runs a statement that returns no rows.
  Status Run() {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    return Status::Ok();
  }
  int64_t Changes() const { return sqlite3_changes64(db_); }

  // Column readers check the storage class so an odd row yields an error, not garbage.
  bool Int(int col, int64_t* out) const {
    if (sqlite3_column_type(stmt_, col) != SQLITE_INTEGER) return false;
    *out = sqlite3_column_int64(stmt_, col);
    return true;
  }
  bool Int(int col, int* out) const {
    int64_t value = 0;
    if (!Int(col, &value) || value < std::numeric_limits<int>::min() ||
        value > std::numeric_limits<int>::max()) {
      return false;
    }
    *out = static_cast<int>(value);
    return true;
  }
  bool Bool(int col, bool* out) const {
    int64_t value = 0;
    if (!Int(col, &value) || (value != 0 && value != 1)) return false;
    *out = value == 1;
    return true;
  }
  bool OptInt(int col, std::optional<int64_t>* out) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) {
      out->reset();
      return true;
    }
    int64_t value = 0;
    if (!Int(col, &value)) return false;
    *out = value;
    return true;
  }
  bool Text(int col, std::string* out) const {
    if (sqlite3_column_type(stmt_, col) != SQLITE_TEXT) return false;
    const unsigned char* data = sqlite3_column_text(stmt_, col);
    int size = sqlite3_column_bytes(stmt_, col);
    if (data == nullptr && size != 0) return false;
    out->assign(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
    return true;
  }
  bool OptText(int col, std::optional<std::string>* out) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) {
      out->reset();
      return true;
    }
    std::string value;
    if (!Text(col, &value)) return false;
    *out = std::move(value);
    return true;
  }
  bool Blob(int col, Bytes* out) const {
    if (sqlite3_column_type(stmt_, col) != SQLITE_BLOB) return false;
    const void* data = sqlite3_column_blob(stmt_, col);
    int size = sqlite3_column_bytes(stmt_, col);
    if (size == 0) {
      out->clear();
      return true;
    }
    if (data == nullptr) return false;
    const auto* bytes = static_cast<const uint8_t*>(data);
    out->assign(bytes, bytes + size);
    return true;
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int index_ = 0;
  int bind_rc_ = SQLITE_OK;
};

// ---------------------------------------------------------------------------------------------
// Connection: one sqlite3 handle and its statement cache. Not thread-safe; the store lends each
// connection to one thread at a time.

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool writer) {
    sqlite3* db = nullptr;
    // No SQLITE_OPEN_CREATE: OpenSqliteStore creates the file itself to control its mode.
    int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<Connection> conn(new Connection(db));
    if (rc != SQLITE_OK) return SqliteError(db, rc, "open " + path);
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    // Hardening: the schema is ours, so refuse tricks a crafted database file could play.
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    if (writer) {
      // journal_mode answers with the mode in effect; anything but WAL means it did not stick.
      Result<std::string> mode = conn->QueryText("PRAGMA journal_mode=WAL");
      if (!mode.ok()) return mode.status();
      if (Lower(*mode) != "wal") {
        return Status::Internal("sqlite: could not enable WAL mode (got '" + *mode + "')");
      }
    }
    COFFRE_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=FULL"));
    COFFRE_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys=ON"));
    // Readers must never write: a bug there would bypass the writer mutex.
    if (!writer) COFFRE_RETURN_IF_ERROR(conn->Exec("PRAGMA query_only=ON"));
    return conn;
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  sqlite3* db() const { return db_; }

  // `sql` must be a string with static storage: it is the cache key.
  Result<Statement> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return SqliteError(db_, rc, "prepare");
      }
      it = cache_.emplace(sql, stmt).first;
    }
    return Statement(db_, it->second);
  }

  Status Exec(const char* sql) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "exec");
    return Status::Ok();
  }

  // First column of the first row of an uncached query, as text.
  Result<std::string> QueryText(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return SqliteError(db_, rc, "prepare");
    }
    rc = sqlite3_step(stmt);
    std::string text;
    if (rc == SQLITE_ROW) {
      const unsigned char* data = sqlite3_column_text(stmt, 0);
      if (data != nullptr) text = reinterpret_cast<const char*>(data);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "query");
    return text;
  }

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// Rolls back on scope exit unless committed, so every early error return leaves no transaction
// open on a pooled connection.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (conn_.InTransaction()) sqlite3_exec(conn_.db(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Status Begin(bool immediate) { return conn_.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"); }
  Status Commit() { return conn_.Exec("COMMIT"); }

 private:
  Connection& conn_;
};

// ---------------------------------------------------------------------------------------------
// Row decoding.

struct KeyRow {
  DeletedKeyRecord record;  // dates are 0 for an active key
  std::string name_key;
};

// Reads the columns of the key queries above.
Result<KeyRow> ReadKeyRow(const Statement& st) {
  KeyRow row;
  KeyVersionRecord& v = row.record.latest;
  std::string key_ops;
  std::string tags;
  std::optional<int64_t> deleted_date;
  std::optional<int64_t> purge_date;
  if (!st.Text(0, &v.vault) || !st.Text(1, &v.name) || !st.Text(2, &v.version) ||
      !st.Int(3, &v.sequence) || !st.Text(4, &v.key_type) || !st.Text(5, &key_ops) ||
      !st.Bool(6, &v.enabled) || !st.OptInt(7, &v.not_before) || !st.OptInt(8, &v.expires) ||
      !st.Int(9, &v.created) || !st.Int(10, &v.updated) || !st.Text(11, &tags) ||
      !st.Blob(12, &v.public_key) || !st.Blob(13, &v.sealed_private_key) ||
      !st.Text(14, &row.name_key) || !st.OptInt(15, &deleted_date) || !st.OptInt(16, &purge_date) ||
      !DecodeKeyOps(key_ops, &v.key_ops) || !DecodeTags(tags, &v.tags)) {
    return Corrupt("key_versions");
  }
  row.record.deleted_date = deleted_date.value_or(0);
  row.record.scheduled_purge_date = purge_date.value_or(0);
  return row;
}

// Runs a key query expected to yield at most one row.
Result<std::optional<KeyRow>> QueryOneKey(Statement& st) {
  COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
  if (!has_row) return std::optional<KeyRow>();
  COFFRE_ASSIGN_OR_RETURN(KeyRow row, ReadKeyRow(st));
  return std::optional<KeyRow>(std::move(row));
}

Result<VaultRecord> ReadVault(const Statement& st) {
  VaultRecord vault;
  if (!st.Text(0, &vault.name) || !st.Int(1, &vault.retention_days) ||
      !st.Bool(2, &vault.purge_protection) || !st.Int(3, &vault.created) ||
      !st.Bool(4, &vault.rbac_authorization)) {
    return Corrupt("vaults");
  }
  return vault;
}

Result<AccessPolicyRecord> ReadAccessPolicy(const Statement& st) {
  AccessPolicyRecord p;
  std::string keys, secrets, certificates;
  if (!st.Text(0, &p.vault) || !st.Text(1, &p.object_id) || !st.Text(2, &p.application_id) ||
      !st.Text(3, &keys) || !st.Text(4, &secrets) || !st.Text(5, &certificates) ||
      !DecodeKeyOps(keys, &p.keys) || !DecodeKeyOps(secrets, &p.secrets) ||
      !DecodeKeyOps(certificates, &p.certificates)) {
    return Corrupt("access_policies");
  }
  return p;
}

Result<RoleAssignmentRecord> ReadRoleAssignment(const Statement& st) {
  RoleAssignmentRecord a;
  if (!st.Text(0, &a.id) || !st.Text(1, &a.role) || !st.Text(2, &a.principal_id) ||
      !st.Text(3, &a.scope) || !st.Int(4, &a.created)) {
    return Corrupt("role_assignments");
  }
  return a;
}

// Runs a statement and reads every row with `read`.
template <typename T, typename ReadRow>
Result<std::vector<T>> ReadAll(Statement& st, ReadRow read) {
  std::vector<T> rows;
  while (true) {
    COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    COFFRE_ASSIGN_OR_RETURN(T row, read(st));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<PrincipalRecord> ReadPrincipal(const Statement& st) {
  PrincipalRecord p;
  if (!st.Text(0, &p.name) || !st.Text(1, &p.client_id) || !st.Text(2, &p.object_id) ||
      !st.Text(3, &p.secret_hash) || !st.Int(4, &p.created)) {
    return Corrupt("principals");
  }
  return p;
}

Result<RotationPolicyRecord> ReadPolicy(const Statement& st) {
  RotationPolicyRecord p;
  std::string actions;
  if (!st.Text(0, &p.vault) || !st.Text(1, &p.name) || !st.Text(2, &actions) ||
      !st.OptText(3, &p.expiry_time) || !st.Int(4, &p.created) || !st.Int(5, &p.updated) ||
      !DecodeActions(actions, &p.actions)) {
    return Corrupt("rotation_policies");
  }
  return p;
}

Result<KeyEventRecord> ReadEvent(const Statement& st) {
  KeyEventRecord e;
  if (!st.Text(0, &e.vault) || !st.Text(1, &e.name) || !st.Text(2, &e.version) ||
      !st.Text(3, &e.kind) || !st.Int(4, &e.time)) {
    return Corrupt("key_events");
  }
  return e;
}

struct KeyState {
  std::string name;  // display name
  bool deleted = false;
  int64_t next_sequence = 1;
};

Result<std::optional<KeyState>> LoadKeyState(Connection& conn, std::string_view vault,
                                             std::string_view name_key) {
  COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kKeyStateSql));
  st.Bind(vault).Bind(name_key);
  COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
  if (!has_row) return std::optional<KeyState>();
  KeyState state;
  std::optional<int64_t> deleted_date;
  if (!st.Text(0, &state.name) || !st.OptInt(1, &deleted_date) ||
      !st.Int(2, &state.next_sequence) || state.next_sequence < 1) {
    return Corrupt("keys");
  }
  state.deleted = deleted_date.has_value();
  return std::optional<KeyState>(std::move(state));
}

// Latest version of a key in the given state (active or deleted); kNotFound if there is none.
Result<KeyRow> LoadLatest(Connection& conn, std::string_view vault, std::string_view name_key,
                          bool deleted, std::string_view display_name) {
  COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kGetLatestSql));
  st.Bind(vault).Bind(name_key).Bind(deleted);
  COFFRE_ASSIGN_OR_RETURN(std::optional<KeyRow> row, QueryOneKey(st));
  if (!row.has_value()) {
    return deleted ? DeletedKeyNotFound(display_name) : KeyNotFound(display_name);
  }
  return std::move(*row);
}

Status CheckVaultExists(Connection& conn, const std::string& vault) {
  COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kGetVaultSql));
  st.Bind(vault);
  COFFRE_ASSIGN_OR_RETURN(bool has_vault, st.Step());
  if (!has_vault) return Status::NotFound("VaultNotFound", "vault '" + vault + "' not found");
  return Status::Ok();
}

// Sequence of the key's latest version; 0 if it has none.
Result<int64_t> LoadLatestSequence(Connection& conn, std::string_view vault,
                                   std::string_view name_key) {
  COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kLatestSequenceSql));
  st.Bind(vault).Bind(name_key);
  COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
  std::optional<int64_t> latest;
  if (!has_row || !st.OptInt(0, &latest)) return Corrupt("key_versions");
  return latest.value_or(0);
}

// Inserts one version row; `version`, `key_ops` and `tags` are already normalized and encoded.
// Callers check VersionExists first, to answer a duplicate with their own inner code.
Status InsertVersion(Connection& conn, const std::string& vault, const std::string& name_key,
                     const std::string& version, int64_t sequence, const KeyVersionRecord& record,
                     const std::string& key_ops, const std::string& tags) {
  COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kInsertVersionSql));
  st.Bind(vault)
      .Bind(name_key)
      .Bind(version)
      .Bind(sequence)
      .Bind(record.key_type)
      .Bind(key_ops)
      .Bind(record.enabled)
      .Bind(record.not_before)
      .Bind(record.expires)
      .Bind(record.created)
      .Bind(record.updated)
      .Bind(tags)
      .Bind(record.public_key)
      .Bind(record.sealed_private_key);
  return st.Run();
}

Result<bool> VersionExists(Connection& conn, const std::string& vault, const std::string& name_key,
                           const std::string& version) {
  COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kVersionExistsSql));
  st.Bind(vault).Bind(name_key).Bind(version);
  return st.Step();
}

Status UpsertPolicy(Connection& conn, const std::string& vault, const std::string& name_key,
                    const RotationPolicyRecord& policy) {
  COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kPutPolicySql));
  st.Bind(vault)
      .Bind(name_key)
      .Bind(EncodeActions(policy.actions))
      .Bind(policy.expiry_time)
      .Bind(policy.created)
      .Bind(policy.updated);
  return st.Run();
}

Result<std::optional<RotationPolicyRecord>> LoadPolicy(Connection& conn, std::string_view vault,
                                                       std::string_view name_key) {
  COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kGetPolicySql));
  st.Bind(vault).Bind(name_key);
  COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
  if (!has_row) return std::optional<RotationPolicyRecord>();
  COFFRE_ASSIGN_OR_RETURN(RotationPolicyRecord policy, ReadPolicy(st));
  return std::optional<RotationPolicyRecord>(std::move(policy));
}

// Lists latest versions of active or deleted keys of a vault after `cursor`.
Result<std::vector<KeyRow>> ListLatest(Connection& conn, std::string_view vault, bool deleted,
                                       std::string_view cursor, int64_t fetch) {
  COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kListLatestSql));
  st.Bind(vault).Bind(deleted).Bind(cursor).Bind(fetch);
  std::vector<KeyRow> rows;
  while (true) {
    COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    COFFRE_ASSIGN_OR_RETURN(KeyRow row, ReadKeyRow(st));
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Whole-store checks.

// ScanKeyVersions cursors: "vault/name_key/sequence". Vault names hold no '/', so the first '/'
// ends the vault and the last one starts the sequence, whatever the key name holds.
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
  if (Lower(position.vault) != position.vault || Lower(position.name_key) != position.name_key) {
    return Status::BadParameter("malformed key scan cursor");
  }
  return position;
}

// Runs an uncached statement (a PRAGMA or a check query) and returns every row, each column as
// text ("NULL" for a null), so a damaged row still reads.
Result<std::vector<std::vector<std::string>>> QueryTextRows(Connection& conn, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(conn.db(), sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(conn.db(), rc, "prepare");
  }
  std::vector<std::vector<std::string>> rows;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int col = 0; col < sqlite3_column_count(stmt); ++col) {
      const unsigned char* text = sqlite3_column_text(stmt, col);
      row.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return SqliteError(conn.db(), rc, "check query");
  return rows;
}

// ---------------------------------------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::string& path) {
    // Create the file ourselves so it is never readable by others, not even for a moment;
    // SQLite gives its -wal and -shm files the same mode.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status::Internal("sqlite: cannot open " + path + ": " + std::strerror(errno));
    }
    ::close(fd);

    std::unique_ptr<SqliteStore> store(new SqliteStore());
    COFFRE_ASSIGN_OR_RETURN(store->writer_, Connection::Open(path, /*writer=*/true));
    COFFRE_RETURN_IF_ERROR(store->Migrate());
    for (int i = 0; i < kReaderCount; ++i) {
      COFFRE_ASSIGN_OR_RETURN(auto reader, Connection::Open(path, /*writer=*/false));
      store->free_readers_.push_back(reader.get());
      store->readers_.push_back(std::move(reader));
    }
    return std::unique_ptr<Store>(std::move(store));
  }

  // ---- vaults

  Status PutVault(const VaultRecord& vault) override {
    if (vault.name.empty()) return Status::BadParameter("vault name is empty");
    return Write([&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kPutVaultSql));
      st.Bind(Lower(vault.name))
          .Bind(vault.retention_days)
          .Bind(vault.purge_protection)
          .Bind(vault.created)
          .Bind(vault.rbac_authorization);
      return st.Run();
    });
  }

  Status UpdateVault(const VaultRecord& vault) override {
    return Write([&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kUpdateVaultSql));
      st.Bind(Lower(vault.name))
          .Bind(vault.retention_days)
          .Bind(vault.purge_protection)
          .Bind(vault.rbac_authorization);
      COFFRE_RETURN_IF_ERROR(st.Run());
      if (st.Changes() == 0) {
        return Status::NotFound("VaultNotFound", "vault '" + vault.name + "' not found");
      }
      return Status::Ok();
    });
  }

  Status DeleteVault(std::string_view name) override {
    std::string vault = Lower(name);
    return Write([&](Connection& conn) -> Status {
      COFFRE_RETURN_IF_ERROR(CheckVaultExists(conn, vault));
      {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kVaultHasKeysSql));
        st.Bind(vault);
        COFFRE_ASSIGN_OR_RETURN(bool has_keys, st.Step());
        if (has_keys) {
          return Status::Conflict("vault '" + vault + "' still holds keys", "not-empty");
        }
      }
      for (const char* sql : {kDeleteVaultPoliciesSql, kDeleteVaultSql}) {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(sql));
        st.Bind(vault);
        COFFRE_RETURN_IF_ERROR(st.Run());
      }
      return Status::Ok();
    });
  }

  // ---- access policies

  Status PutAccessPolicy(const AccessPolicyRecord& policy) override {
    std::string vault = Lower(policy.vault);
    if (policy.object_id.empty()) return Status::BadParameter("object id is empty");
    return Write([&](Connection& conn) -> Status {
      COFFRE_RETURN_IF_ERROR(CheckVaultExists(conn, vault));
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kPutAccessPolicySql));
      st.Bind(vault)
          .Bind(Lower(policy.object_id))
          .Bind(Lower(policy.application_id))
          .Bind(EncodeKeyOps(policy.keys))
          .Bind(EncodeKeyOps(policy.secrets))
          .Bind(EncodeKeyOps(policy.certificates));
      return st.Run();
    });
  }

  Result<AccessPolicyRecord> MergeAccessPolicy(const AccessPolicyChange& change) override {
    std::string vault = Lower(change.vault);
    if (change.object_id.empty()) return Status::BadParameter("object id is empty");
    const std::vector<std::string> none;
    return Write([&](Connection& conn) -> Result<AccessPolicyRecord> {
      COFFRE_RETURN_IF_ERROR(CheckVaultExists(conn, vault));
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kMergeAccessPolicySql));
      st.Bind(vault)
          .Bind(Lower(change.object_id))
          .Bind(Lower(change.application_id))
          .Bind(EncodeKeyOps(change.keys.value_or(none)))
          .Bind(EncodeKeyOps(change.secrets.value_or(none)))
          .Bind(EncodeKeyOps(change.certificates.value_or(none)))
          .Bind(change.keys.has_value())
          .Bind(change.secrets.has_value())
          .Bind(change.certificates.has_value());
      COFFRE_ASSIGN_OR_RETURN(auto rows, ReadAll<AccessPolicyRecord>(st, ReadAccessPolicy));
      if (rows.size() != 1) return Status::Internal("access policy merge returned no row");
      return std::move(rows.front());
    });
  }

  Status DeleteAccessPolicy(std::string_view vault, std::string_view object_id,
                            std::string_view application_id) override {
    return Write([&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kDeleteAccessPolicySql));
      st.Bind(Lower(vault)).Bind(Lower(object_id)).Bind(Lower(application_id));
      COFFRE_RETURN_IF_ERROR(st.Run());
      if (st.Changes() == 0) {
        return Status::NotFound("AccessPolicyNotFound", "no access policy for that object id");
      }
      return Status::Ok();
    });
  }

  Result<std::vector<AccessPolicyRecord>> ListAccessPolicies(std::string_view vault) override {
    return Read(false, [&](Connection& conn) -> Result<std::vector<AccessPolicyRecord>> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kListAccessPoliciesSql));
      st.Bind(Lower(vault));
      return ReadAll<AccessPolicyRecord>(st, ReadAccessPolicy);
    });
  }

  // ---- role assignments

  Status AddRoleAssignment(const RoleAssignmentRecord& a) override {
    if (a.id.empty() || a.principal_id.empty()) {
      return Status::BadParameter("role assignment id and principal must not be empty");
    }
    return Write([&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kInsertRoleAssignmentSql));
      st.Bind(Lower(a.id))
          .Bind(a.role)
          .Bind(Lower(a.principal_id))
          .Bind(Lower(a.scope))
          .Bind(a.created);
      return st.Run();
    });
  }

  Status DeleteRoleAssignment(std::string_view id) override {
    return Write([&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kDeleteRoleAssignmentSql));
      st.Bind(Lower(id));
      COFFRE_RETURN_IF_ERROR(st.Run());
      if (st.Changes() == 0) {
        return Status::NotFound("RoleAssignmentNotFound", "no such role assignment");
      }
      return Status::Ok();
    });
  }

  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignments() override {
    return Read(false, [&](Connection& conn) -> Result<std::vector<RoleAssignmentRecord>> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kListRoleAssignmentsSql));
      return ReadAll<RoleAssignmentRecord>(st, ReadRoleAssignment);
    });
  }

  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignmentsFor(
      std::string_view principal_id) override {
    return Read(false, [&](Connection& conn) -> Result<std::vector<RoleAssignmentRecord>> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kListRoleAssignmentsForSql));
      st.Bind(Lower(principal_id));
      return ReadAll<RoleAssignmentRecord>(st, ReadRoleAssignment);
    });
  }

  Result<VaultRecord> GetVault(std::string_view name) override {
    return Read(false, [&](Connection& conn) -> Result<VaultRecord> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kGetVaultSql));
      st.Bind(Lower(name));
      COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
      if (!has_row) {
        return Status::NotFound("VaultNotFound", "vault '" + std::string(name) + "' not found");
      }
      return ReadVault(st);
    });
  }

  Result<std::vector<VaultRecord>> ListVaults() override {
    return Read(false, [&](Connection& conn) -> Result<std::vector<VaultRecord>> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kListVaultsSql));
      std::vector<VaultRecord> vaults;
      while (true) {
        COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
        if (!has_row) break;
        COFFRE_ASSIGN_OR_RETURN(VaultRecord vault, ReadVault(st));
        vaults.push_back(std::move(vault));
      }
      return vaults;
    });
  }

  // ---- keys

  using Store::AddKeyVersion;  // the one-argument convenience overload

  Status AddKeyVersion(KeyVersionRecord& record,
                       std::optional<int64_t> expected_latest_sequence) override {
    if (record.name.empty() || record.version.empty()) {
      return Status::BadParameter("key name and version must not be empty");
    }
    const std::string vault = Lower(record.vault);
    const std::string name_key = Lower(record.name);
    const std::string version = Lower(record.version);
    const std::string key_ops = EncodeKeyOps(record.key_ops);
    const std::string tags = EncodeTags(record.tags);
    std::string display_name = record.name;
    int64_t sequence = 0;
    Status status = Write([&](Connection& conn) -> Status {
      COFFRE_RETURN_IF_ERROR(CheckVaultExists(conn, vault));
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state, LoadKeyState(conn, vault, name_key));
      if (state.has_value() && state->deleted) {
        return Status::Conflict("key '" + record.name + "' is deleted", "deleted");
      }
      if (expected_latest_sequence.has_value()) {
        // Checked in the write transaction, so no other version can slip in before ours.
        int64_t latest = 0;
        if (state.has_value()) {
          COFFRE_ASSIGN_OR_RETURN(latest, LoadLatestSequence(conn, vault, name_key));
        }
        if (!state.has_value() || latest != *expected_latest_sequence) {
          return Status::Conflict("key '" + record.name + "' latest version is sequence " +
                                      std::to_string(latest) + ", expected " +
                                      std::to_string(*expected_latest_sequence),
                                  "stale");
        }
      }
      if (state.has_value()) {
        COFFRE_ASSIGN_OR_RETURN(bool exists, VersionExists(conn, vault, name_key, version));
        if (exists) {
          return Status::Conflict("key '" + record.name + "' already has version " + version,
                                  "version-exists");
        }
        sequence = state->next_sequence;
        // The first writer of a key chose its display name; later versions keep it.
        display_name = state->name;
      } else {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kInsertKeySql));
        st.Bind(vault).Bind(name_key).Bind(record.name);
        COFFRE_RETURN_IF_ERROR(st.Run());
        sequence = 1;
      }
      COFFRE_RETURN_IF_ERROR(
          InsertVersion(conn, vault, name_key, version, sequence, record, key_ops, tags));
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kBumpSequenceSql));
      st.Bind(vault).Bind(name_key);
      return st.Run();
    });
    if (!status.ok()) return status;
    // Leave the caller holding what GetKeyVersion would now return.
    record.vault = vault;
    record.name = std::move(display_name);
    record.version = version;
    record.sequence = sequence;
    return Status::Ok();
  }

  Status RestoreKey(std::vector<KeyVersionRecord>& versions,
                    const std::optional<RotationPolicyRecord>& policy) override {
    if (versions.empty()) return Status::BadParameter("a restored key needs at least one version");
    const std::string vault = Lower(versions.front().vault);
    const std::string name_key = Lower(versions.front().name);
    const std::string& display_name = versions.front().name;
    if (name_key.empty()) return Status::BadParameter("key name must not be empty");
    struct Encoded {
      std::string version;
      std::string key_ops;
      std::string tags;
    };
    std::vector<Encoded> encoded;
    encoded.reserve(versions.size());
    for (const KeyVersionRecord& record : versions) {
      if (Lower(record.vault) != vault || Lower(record.name) != name_key) {
        return Status::BadParameter("restored versions must all belong to one key");
      }
      if (record.version.empty()) return Status::BadParameter("key version must not be empty");
      encoded.push_back(
          {Lower(record.version), EncodeKeyOps(record.key_ops), EncodeTags(record.tags)});
    }
    // The policy belongs to the restored key; a policy naming another key is a caller bug.
    if (policy.has_value() && ((!policy->vault.empty() && Lower(policy->vault) != vault) ||
                               (!policy->name.empty() && Lower(policy->name) != name_key))) {
      return Status::BadParameter("restored rotation policy belongs to another key");
    }
    const int64_t count = static_cast<int64_t>(versions.size());
    Status status = Write([&](Connection& conn) -> Status {
      COFFRE_RETURN_IF_ERROR(CheckVaultExists(conn, vault));
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state, LoadKeyState(conn, vault, name_key));
      if (state.has_value()) {
        return Status::Conflict(
            "key '" + state->name + "' already exists" + (state->deleted ? " (deleted)" : ""),
            "exists");
      }
      {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kInsertRestoredKeySql));
        st.Bind(vault).Bind(name_key).Bind(display_name).Bind(count + 1);
        COFFRE_RETURN_IF_ERROR(st.Run());
      }
      for (int64_t i = 0; i < count; ++i) {
        const Encoded& e = encoded[static_cast<size_t>(i)];
        // Rolls back everything written so far.
        COFFRE_ASSIGN_OR_RETURN(bool exists, VersionExists(conn, vault, name_key, e.version));
        if (exists) {
          return Status::BadParameter("restored key lists version " + e.version + " twice",
                                      "duplicate-version");
        }
        COFFRE_RETURN_IF_ERROR(InsertVersion(conn, vault, name_key, e.version, i + 1,
                                             versions[static_cast<size_t>(i)], e.key_ops, e.tags));
      }
      if (policy.has_value()) COFFRE_RETURN_IF_ERROR(UpsertPolicy(conn, vault, name_key, *policy));
      return Status::Ok();
    });
    if (!status.ok()) return status;
    std::string name = display_name;  // `display_name` refers into `versions`
    for (size_t i = 0; i < versions.size(); ++i) {
      versions[i].vault = vault;
      versions[i].name = name;
      versions[i].version = std::move(encoded[i].version);
      versions[i].sequence = static_cast<int64_t>(i) + 1;
    }
    return Status::Ok();
  }

  Result<KeyVersionRecord> GetKeyVersion(std::string_view vault, std::string_view name,
                                         std::string_view version) override {
    return Read(false, [&](Connection& conn) -> Result<KeyVersionRecord> {
      if (version.empty()) {
        COFFRE_ASSIGN_OR_RETURN(KeyRow row,
                                LoadLatest(conn, Lower(vault), Lower(name), false, name));
        return std::move(row.record.latest);
      }
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kGetVersionSql));
      st.Bind(Lower(vault)).Bind(Lower(name)).Bind(Lower(version));
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyRow> row, QueryOneKey(st));
      if (!row.has_value()) {
        return Status::NotFound("KeyNotFound", "key '" + std::string(name) + "' version " +
                                                   std::string(version) + " not found");
      }
      return std::move(row->record.latest);
    });
  }

  Result<Page<KeyVersionRecord>> ListKeys(std::string_view vault, std::string_view cursor,
                                          int limit) override {
    COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
    COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
    return Read(false, [&](Connection& conn) -> Result<Page<KeyVersionRecord>> {
      // One extra row tells whether another page exists.
      COFFRE_ASSIGN_OR_RETURN(std::vector<KeyRow> rows,
                              ListLatest(conn, Lower(vault), false, cursor, int64_t{limit} + 1));
      Page<KeyVersionRecord> page;
      if (rows.size() > static_cast<size_t>(limit)) {
        rows.resize(static_cast<size_t>(limit));
        page.next_cursor = rows.back().name_key;
      }
      for (KeyRow& row : rows) page.items.push_back(std::move(row.record.latest));
      return page;
    });
  }

  Result<Page<KeyVersionRecord>> ListKeyVersions(std::string_view vault, std::string_view name,
                                                 std::string_view cursor, int limit) override {
    COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
    COFFRE_ASSIGN_OR_RETURN(int64_t after, ParseSequenceCursor(cursor));
    const std::string vault_key = Lower(vault);
    const std::string name_key = Lower(name);
    // A snapshot, so the key cannot be deleted between the state check and the listing.
    return Read(true, [&](Connection& conn) -> Result<Page<KeyVersionRecord>> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, vault_key, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(name);
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kListVersionsSql));
      st.Bind(vault_key).Bind(name_key).Bind(after).Bind(int64_t{limit} + 1);
      Page<KeyVersionRecord> page;
      while (true) {
        COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
        if (!has_row) break;
        if (page.items.size() == static_cast<size_t>(limit)) {
          page.next_cursor = std::to_string(page.items.back().sequence);
          break;
        }
        COFFRE_ASSIGN_OR_RETURN(KeyRow row, ReadKeyRow(st));
        page.items.push_back(std::move(row.record.latest));
      }
      return page;
    });
  }

  Result<KeyVersionRecord> UpdateKeyVersion(const KeyVersionRecord& record) override {
    const std::string vault = Lower(record.vault);
    const std::string name_key = Lower(record.name);
    std::string version = Lower(record.version);
    const std::string key_ops = EncodeKeyOps(record.key_ops);
    const std::string tags = EncodeTags(record.tags);
    return Write([&](Connection& conn) -> Result<KeyVersionRecord> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state, LoadKeyState(conn, vault, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(record.name);
      if (version.empty()) {
        // Like GetKeyVersion: no version means the latest.
        COFFRE_ASSIGN_OR_RETURN(KeyRow latest,
                                LoadLatest(conn, vault, name_key, false, record.name));
        version = latest.record.latest.version;
      }
      {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kUpdateVersionSql));
        st.Bind(record.enabled)
            .Bind(record.not_before)
            .Bind(record.expires)
            .Bind(key_ops)
            .Bind(tags)
            .Bind(record.updated)
            .Bind(vault)
            .Bind(name_key)
            .Bind(version);
        COFFRE_RETURN_IF_ERROR(st.Run());
        if (st.Changes() == 0) {
          return Status::NotFound("KeyNotFound",
                                  "key '" + record.name + "' version " + version + " not found");
        }
      }
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kGetVersionSql));
      st.Bind(vault).Bind(name_key).Bind(version);
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyRow> row, QueryOneKey(st));
      if (!row.has_value()) return Status::Internal("sqlite: updated key version vanished");
      return std::move(row->record.latest);
    });
  }

  Result<DeletedKeyRecord> DeleteKey(std::string_view vault, std::string_view name,
                                     int64_t deleted_date, int64_t scheduled_purge_date) override {
    const std::string vault_key = Lower(vault);
    const std::string name_key = Lower(name);
    return Write([&](Connection& conn) -> Result<DeletedKeyRecord> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, vault_key, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(name);
      {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kSetDeletedSql));
        st.Bind(vault_key).Bind(name_key).Bind(deleted_date).Bind(scheduled_purge_date);
        COFFRE_RETURN_IF_ERROR(st.Run());
      }
      COFFRE_ASSIGN_OR_RETURN(KeyRow row, LoadLatest(conn, vault_key, name_key, true, name));
      return std::move(row.record);
    });
  }

  Result<DeletedKeyRecord> GetDeletedKey(std::string_view vault, std::string_view name) override {
    return Read(false, [&](Connection& conn) -> Result<DeletedKeyRecord> {
      COFFRE_ASSIGN_OR_RETURN(KeyRow row, LoadLatest(conn, Lower(vault), Lower(name), true, name));
      return std::move(row.record);
    });
  }

  Result<Page<DeletedKeyRecord>> ListDeletedKeys(std::string_view vault, std::string_view cursor,
                                                 int limit) override {
    COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
    COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
    return Read(false, [&](Connection& conn) -> Result<Page<DeletedKeyRecord>> {
      COFFRE_ASSIGN_OR_RETURN(std::vector<KeyRow> rows,
                              ListLatest(conn, Lower(vault), true, cursor, int64_t{limit} + 1));
      Page<DeletedKeyRecord> page;
      if (rows.size() > static_cast<size_t>(limit)) {
        rows.resize(static_cast<size_t>(limit));
        page.next_cursor = rows.back().name_key;
      }
      for (KeyRow& row : rows) page.items.push_back(std::move(row.record));
      return page;
    });
  }

  Result<KeyVersionRecord> RecoverKey(std::string_view vault, std::string_view name) override {
    const std::string vault_key = Lower(vault);
    const std::string name_key = Lower(name);
    return Write([&](Connection& conn) -> Result<KeyVersionRecord> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, vault_key, name_key));
      if (!state.has_value() || !state->deleted) return DeletedKeyNotFound(name);
      {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kSetDeletedSql));
        st.Bind(vault_key)
            .Bind(name_key)
            .Bind(std::optional<int64_t>())
            .Bind(std::optional<int64_t>());
        COFFRE_RETURN_IF_ERROR(st.Run());
      }
      COFFRE_ASSIGN_OR_RETURN(KeyRow row, LoadLatest(conn, vault_key, name_key, false, name));
      return std::move(row.record.latest);
    });
  }

  Status PurgeKey(std::string_view vault, std::string_view name) override {
    const std::string vault_key = Lower(vault);
    const std::string name_key = Lower(name);
    return Write([&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, vault_key, name_key));
      if (!state.has_value() || !state->deleted) return DeletedKeyNotFound(name);
      // Explicit rather than relying on ON DELETE CASCADE, which needs foreign_keys=ON in
      // whichever connection purges.
      for (const char* sql :
           {kDeleteEventsSql, kDeletePolicySql, kDeleteVersionsSql, kDeleteKeySql}) {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(sql));
        st.Bind(vault_key).Bind(name_key);
        COFFRE_RETURN_IF_ERROR(st.Run());
      }
      return Status::Ok();
    });
  }

  Result<int> PurgeExpiredKeys(int64_t now) override {
    return Write([&](Connection& conn) -> Result<int> {
      for (const char* sql :
           {kPurgeExpiredEventsSql, kPurgeExpiredPoliciesSql, kPurgeExpiredVersionsSql}) {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(sql));
        st.Bind(now);
        COFFRE_RETURN_IF_ERROR(st.Run());
      }
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kPurgeExpiredKeysSql));
      st.Bind(now);
      COFFRE_RETURN_IF_ERROR(st.Run());
      return static_cast<int>(st.Changes());
    });
  }

  // ---- rotation policies

  Result<std::optional<RotationPolicyRecord>> GetRotationPolicy(std::string_view vault,
                                                                std::string_view name) override {
    const std::string vault_key = Lower(vault);
    const std::string name_key = Lower(name);
    // A snapshot, so the key cannot be deleted between the state check and the read.
    return Read(true, [&](Connection& conn) -> Result<std::optional<RotationPolicyRecord>> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, vault_key, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(name);
      return LoadPolicy(conn, vault_key, name_key);
    });
  }

  Result<RotationPolicyRecord> PutRotationPolicy(const RotationPolicyRecord& policy) override {
    const std::string vault = Lower(policy.vault);
    const std::string name_key = Lower(policy.name);
    return Write([&](Connection& conn) -> Result<RotationPolicyRecord> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state, LoadKeyState(conn, vault, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(policy.name);
      COFFRE_RETURN_IF_ERROR(UpsertPolicy(conn, vault, name_key, policy));
      COFFRE_ASSIGN_OR_RETURN(std::optional<RotationPolicyRecord> stored,
                              LoadPolicy(conn, vault, name_key));
      if (!stored.has_value()) return Status::Internal("sqlite: stored rotation policy vanished");
      return std::move(*stored);
    });
  }

  Result<std::vector<RotationPolicyRecord>> ListRotationPolicies() override {
    return Read(false, [&](Connection& conn) -> Result<std::vector<RotationPolicyRecord>> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kListPoliciesSql));
      std::vector<RotationPolicyRecord> policies;
      while (true) {
        COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
        if (!has_row) break;
        COFFRE_ASSIGN_OR_RETURN(RotationPolicyRecord policy, ReadPolicy(st));
        policies.push_back(std::move(policy));
      }
      return policies;
    });
  }

  // ---- key events

  Result<bool> RecordKeyEvent(const KeyEventRecord& event) override {
    if (event.kind.empty()) return Status::BadParameter("key event kind must not be empty");
    const std::string vault = Lower(event.vault);
    const std::string name_key = Lower(event.name);
    return Write([&](Connection& conn) -> Result<bool> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state, LoadKeyState(conn, vault, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(event.name);
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kInsertEventSql));
      st.Bind(vault).Bind(name_key).Bind(Lower(event.version)).Bind(event.kind).Bind(event.time);
      COFFRE_RETURN_IF_ERROR(st.Run());
      return st.Changes() > 0;
    });
  }

  Result<std::vector<KeyEventRecord>> ListKeyEvents(std::string_view vault,
                                                    std::string_view name) override {
    return Read(false, [&](Connection& conn) -> Result<std::vector<KeyEventRecord>> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kListEventsSql));
      st.Bind(Lower(vault)).Bind(Lower(name));
      std::vector<KeyEventRecord> events;
      while (true) {
        COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
        if (!has_row) break;
        COFFRE_ASSIGN_OR_RETURN(KeyEventRecord event, ReadEvent(st));
        events.push_back(std::move(event));
      }
      return events;
    });
  }

  // ---- principals

  Status AddPrincipal(const PrincipalRecord& principal) override {
    if (principal.name.empty() || principal.client_id.empty()) {
      return Status::BadParameter("principal name and client id must not be empty");
    }
    const std::string name_key = Lower(principal.name);
    return Write([&](Connection& conn) -> Status {
      {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kPrincipalNameTakenSql));
        st.Bind(name_key);
        COFFRE_ASSIGN_OR_RETURN(bool taken, st.Step());
        if (taken) {
          return Status::Conflict("principal name '" + principal.name + "' is taken", "name-taken");
        }
      }
      {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kPrincipalClientTakenSql));
        st.Bind(principal.client_id);
        COFFRE_ASSIGN_OR_RETURN(bool taken, st.Step());
        if (taken) {
          return Status::Conflict("client id " + principal.client_id + " is taken",
                                  "client-id-taken");
        }
      }
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kInsertPrincipalSql));
      st.Bind(name_key)
          .Bind(principal.name)
          .Bind(principal.client_id)
          .Bind(principal.object_id)
          .Bind(principal.secret_hash)
          .Bind(principal.created);
      return st.Run();
    });
  }

  Result<PrincipalRecord> GetPrincipalByClientId(std::string_view client_id) override {
    return Read(false, [&](Connection& conn) -> Result<PrincipalRecord> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kGetPrincipalByClientSql));
      st.Bind(client_id);
      COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
      if (!has_row) {
        return Status::NotFound("PrincipalNotFound",
                                "no principal with client id " + std::string(client_id));
      }
      return ReadPrincipal(st);
    });
  }

  Result<std::vector<PrincipalRecord>> ListPrincipals() override {
    return Read(false, [&](Connection& conn) -> Result<std::vector<PrincipalRecord>> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kListPrincipalsSql));
      std::vector<PrincipalRecord> principals;
      while (true) {
        COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
        if (!has_row) break;
        COFFRE_ASSIGN_OR_RETURN(PrincipalRecord principal, ReadPrincipal(st));
        principals.push_back(std::move(principal));
      }
      return principals;
    });
  }

  Status DeletePrincipal(std::string_view name) override {
    return Write([&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kDeletePrincipalSql));
      st.Bind(Lower(name));
      COFFRE_RETURN_IF_ERROR(st.Run());
      if (st.Changes() == 0) {
        return Status::NotFound("PrincipalNotFound",
                                "principal '" + std::string(name) + "' not found");
      }
      return Status::Ok();
    });
  }

  // ---- settings

  Result<std::string> GetOrPutSetting(std::string_view key, std::string_view value) override {
    return Write([&](Connection& conn) -> Result<std::string> {
      {
        COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kInsertSettingSql));
        st.Bind(key).Bind(value);
        COFFRE_RETURN_IF_ERROR(st.Run());
      }
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kGetSettingSql));
      st.Bind(key);
      COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
      std::string stored;
      if (!has_row || !st.Text(0, &stored)) return Corrupt("settings");
      return stored;
    });
  }

  // ---- background-job leases

  Result<bool> TryAcquireJobLease(std::string_view job, std::string_view holder, int64_t now,
                                  int64_t ttl_seconds) override {
    if (job.empty() || holder.empty()) {
      return Status::BadParameter("job lease name and holder must not be empty");
    }
    if (ttl_seconds < 1 || now > std::numeric_limits<int64_t>::max() - ttl_seconds) {
      return Status::BadParameter("job lease ttl out of range");
    }
    return Write([&](Connection& conn) -> Result<bool> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kAcquireLeaseSql));
      st.Bind(job).Bind(holder).Bind(now).Bind(now + ttl_seconds);
      COFFRE_RETURN_IF_ERROR(st.Run());
      return st.Changes() > 0;
    });
  }

  // ---- whole-store checks

  Result<Page<StoredKeyVersion>> ScanKeyVersions(std::string_view cursor, int limit) override {
    COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
    COFFRE_ASSIGN_OR_RETURN(ScanPosition after, ParseScanCursor(cursor));
    return Read(false, [&](Connection& conn) -> Result<Page<StoredKeyVersion>> {
      COFFRE_ASSIGN_OR_RETURN(auto st, conn.Prepare(kScanVersionsSql));
      st.Bind(after.vault).Bind(after.name_key).Bind(after.sequence).Bind(int64_t{limit} + 1);
      Page<StoredKeyVersion> page;
      std::string last_name_key;
      while (true) {
        COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
        if (!has_row) break;
        if (page.items.size() == static_cast<size_t>(limit)) {
          const KeyVersionRecord& last = page.items.back().record;
          page.next_cursor = ScanCursor(last.vault, last_name_key, last.sequence);
          break;
        }
        COFFRE_ASSIGN_OR_RETURN(KeyRow row, ReadKeyRow(st));
        StoredKeyVersion item;
        if (!st.Bool(17, &item.deleted)) return Corrupt("keys");
        item.record = std::move(row.record.latest);
        last_name_key = std::move(row.name_key);
        page.items.push_back(std::move(item));
      }
      return page;
    });
  }

  bool ReadsAreLocal() const override { return true; }

  Result<std::vector<std::string>> CheckConsistency() override {
    // One read transaction: every check sees the same snapshot.
    return Read(true, [&](Connection& conn) -> Result<std::vector<std::string>> {
      std::vector<std::string> problems;
      COFFRE_ASSIGN_OR_RETURN(auto integrity, QueryTextRows(conn, kIntegrityCheckSql));
      for (const auto& row : integrity) {
        if (row.size() == 1 && row[0] == "ok") continue;
        problems.push_back("sqlite integrity check: " + (row.empty() ? "?" : row[0]));
      }
      COFFRE_ASSIGN_OR_RETURN(auto dangling, QueryTextRows(conn, kForeignKeyCheckSql));
      for (const auto& row : dangling) {
        // table, rowid, parent table, foreign key index
        if (row.size() < 3) continue;
        problems.push_back("row " + row[1] + " of table " + row[0] +
                           " refers to a missing row of table " + row[2]);
      }
      for (const char* sql : kConsistencyChecks) {
        COFFRE_ASSIGN_OR_RETURN(auto rows, QueryTextRows(conn, sql));
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

 private:
  SqliteStore() = default;

  // Brings the schema up to date in one transaction. BEGIN IMMEDIATE serializes this with a
  // second process opening the same file at the same moment.
  Status Migrate() {
    Transaction txn(*writer_);
    COFFRE_RETURN_IF_ERROR(txn.Begin(/*immediate=*/true));
    COFFRE_ASSIGN_OR_RETURN(std::string text, writer_->QueryText("PRAGMA user_version"));
    int version = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc() || end != text.data() + text.size() || version < 0) {
      return Status::Internal("sqlite: unreadable schema version");
    }
    if (version > kSchemaVersion) {
      return Status::Internal("sqlite: database schema version " + std::to_string(version) +
                              " is newer than this build supports (" +
                              std::to_string(kSchemaVersion) + ")");
    }
    if (version == kSchemaVersion) return Status::Ok();  // rolls back the empty transaction
    for (int i = version; i < kSchemaVersion; ++i) {
      COFFRE_RETURN_IF_ERROR(writer_->Exec(kMigrations[i]));
    }
    // PRAGMA takes no parameters; the value is our own integer.
    std::string set_version = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
    COFFRE_RETURN_IF_ERROR(writer_->Exec(set_version.c_str()));
    return txn.Commit();
  }

  // Runs `fn` on the writer and commits its changes durably if it succeeds; its changes are
  // rolled back if it fails.
  //
  // Group commit: writes that arrive while a commit is in progress queue up, and the next
  // commit takes them all in one transaction, each inside its own savepoint (so one write's
  // failure rolls back only that write). One sync then covers many writes, in the order they
  // arrived, as if each had committed alone. No write returns before its commit is durable.
  template <typename Fn>
  auto Write(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    using R = decltype(fn(std::declval<Connection&>()));
    std::optional<R> result;
    PendingWrite pending;
    pending.run = [&](Connection& conn) {
      result.emplace(fn(conn));
      return result->ok();
    };
    pending.fail = [&](const Status& status) { result.emplace(status); };
    std::unique_lock<std::mutex> lock(write_queue_mu_);
    write_queue_.push_back(&pending);
    while (!pending.done) {
      if (write_leader_) {
        write_done_cv_.wait(lock);
        continue;
      }
      // Lead: commit everything queued so far (this write included), then hand over.
      write_leader_ = true;
      std::vector<PendingWrite*> batch(write_queue_.begin(), write_queue_.end());
      write_queue_.clear();
      lock.unlock();
      CommitBatch(batch);
      lock.lock();
      for (PendingWrite* p : batch) p->done = true;
      write_leader_ = false;
      write_done_cv_.notify_all();
    }
    return std::move(*result);
  }

  struct PendingWrite {
    std::function<bool(Connection&)> run;  // runs the write, keeps its result, says if it succeeded
    std::function<void(const Status&)> fail;  // replaces the kept result with an error
    bool done = false;                        // guarded by write_queue_mu_
  };

  void CommitBatch(const std::vector<PendingWrite*>& batch) {
    std::lock_guard<std::mutex> lock(writer_mu_);
    Transaction txn(*writer_);
    if (Status begun = txn.Begin(/*immediate=*/true); !begun.ok()) {
      for (PendingWrite* p : batch) p->fail(begun);
      return;
    }
    std::vector<PendingWrite*> succeeded;
    if (batch.size() == 1) {
      if (batch[0]->run(*writer_)) succeeded.push_back(batch[0]);
    } else {
      for (size_t i = 0; i < batch.size(); ++i) {
        PendingWrite* p = batch[i];
        Status saved = writer_->Exec("SAVEPOINT batched_write");
        bool ok = saved.ok() && p->run(*writer_);
        if (saved.ok()) {
          if (!ok) saved = writer_->Exec("ROLLBACK TO batched_write");
          if (saved.ok()) saved = writer_->Exec("RELEASE batched_write");
        }
        // An I/O error can make SQLite roll back the whole transaction by itself; then nothing
        // of this batch is stored, and no later write may run outside a transaction.
        if (!saved.ok() || !writer_->InTransaction()) {
          Status lost = Status::Internal("sqlite: a batched transaction was rolled back.");
          for (PendingWrite* done : succeeded) done->fail(lost);
          if (ok) p->fail(lost);
          for (size_t j = i + 1; j < batch.size(); ++j) batch[j]->fail(lost);
          return;
        }
        if (ok) succeeded.push_back(p);
      }
    }
    if (succeeded.empty()) return;  // the destructor rolls back
    if (Status committed = txn.Commit(); !committed.ok()) {
      for (PendingWrite* p : succeeded) p->fail(committed);
    }
  }

  // Runs `fn` on a pooled reader. A single statement is its own snapshot; `snapshot` wraps
  // several in one read transaction.
  template <typename Fn>
  auto Read(bool snapshot, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    Connection* conn = nullptr;
    {
      std::unique_lock<std::mutex> lock(readers_mu_);
      readers_cv_.wait(lock, [&] { return !free_readers_.empty(); });
      conn = free_readers_.back();
      free_readers_.pop_back();
    }
    struct Release {
      SqliteStore* store;
      Connection* conn;
      ~Release() {
        {
          std::lock_guard<std::mutex> lock(store->readers_mu_);
          store->free_readers_.push_back(conn);
        }
        store->readers_cv_.notify_one();
      }
    } release{this, conn};
    Transaction txn(*conn);  // declared after `release`, so it ends before the reader returns
    if (snapshot) COFFRE_RETURN_IF_ERROR(txn.Begin(/*immediate=*/false));
    auto result = fn(*conn);
    if (snapshot && result.ok()) COFFRE_RETURN_IF_ERROR(txn.Commit());
    return result;
  }

  // Declared first so it is destroyed last: the last connection to close checkpoints the WAL.
  std::unique_ptr<Connection> writer_;
  std::mutex writer_mu_;
  std::mutex write_queue_mu_;
  std::condition_variable write_done_cv_;
  std::vector<PendingWrite*> write_queue_;  // waiting for the next commit
  bool write_leader_ = false;               // a thread is committing a batch
  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<Connection*> free_readers_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  return SqliteStore::Open(path);
}

}  // namespace coffre::store
