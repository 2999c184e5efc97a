// PostgreSQL implementation of Store, for several server processes (replicas) sharing one
// database.
//
// Connections: a pool of up to kPoolSize libpq connections, opened on demand and lent to one
// thread at a time (mutex + condition variable). Each connection prepares a statement the first
// time it runs it and keeps it for the session. Parameters go as text, except BYTEA values, which
// go in binary so their bytes are never escaped or quoted; results come back in binary and every
// column's type is checked before it is decoded. A connection found broken is reset (PQreset) and
// the call retried, a bounded number of times; a transaction whose COMMIT went unanswered is not
// retried (it may have committed).
//
// Concurrency: every mutating call is one transaction at READ COMMITTED. A call that depends on a
// key's state locks its row in `keys` (FOR UPDATE when it changes the row or adds versions, FOR
// SHARE otherwise), so AddKeyVersion takes `next_sequence` and checks the expected latest sequence
// under a lock that every other writer of that key's versions also takes: versions are never lost,
// duplicated or interleaved, whichever process adds them. Calls that write into a vault hold its
// row FOR KEY SHARE, so DeleteVault (FOR UPDATE) never removes a vault that is gaining a key. Keys,
// vaults, settings, events and leases are claimed with INSERT ... ON CONFLICT, so racing creators
// never fail on a unique violation; a principal taken by a concurrent insert gets the same inner
// codes as one found taken. Serialization failures and deadlocks (SQLSTATE 40001, 40P01) roll back
// and retry the whole transaction, a bounded number of times.
//
// Schema: migrations are applied in order at open, in one transaction holding a transaction-level
// advisory lock, so replicas starting together migrate once; `coffre_schema` holds one row per
// applied migration. Text columns compare in the "C" collation (byte order, as in SQLite) so
// listings and cursors do not depend on the database's locale. key_ops, tags and lifetime actions
// are the same JSON as in the SQLite store, kept in BYTEA so any byte string round-trips whatever
// the database encoding (read them with convert_from(col, 'UTF8')).
#include <libpq-fe.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "store/consistency_checks.h"
#include "store/record_codec.h"
#include "store/store.h"

namespace coffre::store {
namespace {

constexpr int kPoolSize = 8;
// Attempts of one call when the transaction hits a serialization failure or deadlock.
constexpr int kMaxTxnAttempts = 10;
// Attempts of one call when the connection is (or becomes) broken.
constexpr int kMaxConnectAttempts = 3;
constexpr int kMinServerVersion = 100000;  // 10: identity columns
// Applied unless the URL, the role or the database already sets a statement timeout.
constexpr char kDefaultStatementTimeout[] = "30s";
constexpr char kConnectTimeoutSeconds[] = "10";
// Key of the advisory lock that serializes migrations ("coffre" in ASCII).
constexpr int64_t kMigrationLockKey = 0x636f66667265;

// Type OIDs (server/catalog/pg_type_d.h, which libpq does not install).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kVarcharOid = 1043;

// ---------------------------------------------------------------------------------------------
// Schema. Never edit a released migration: append a new one. The numbering follows the SQLite
// store's, so a schema version means the same tables in both.

constexpr const char* kMigrations[] = {
    // 1: initial schema.
    R"sql(
CREATE TABLE vaults (
  name TEXT COLLATE "C" PRIMARY KEY,
  retention_days INTEGER NOT NULL,
  purge_protection BOOLEAN NOT NULL,
  created BIGINT NOT NULL
);

CREATE TABLE keys (
  vault TEXT COLLATE "C" NOT NULL REFERENCES vaults (name),
  name_key TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  deleted_date BIGINT,
  scheduled_purge_date BIGINT,
  next_sequence BIGINT NOT NULL CHECK (next_sequence >= 1),
  PRIMARY KEY (vault, name_key),
  CHECK ((deleted_date IS NULL) = (scheduled_purge_date IS NULL))
);
CREATE INDEX keys_by_purge_date ON keys (scheduled_purge_date) WHERE deleted_date IS NOT NULL;

CREATE TABLE key_versions (
  vault TEXT COLLATE "C" NOT NULL,
  name_key TEXT COLLATE "C" NOT NULL,
  version TEXT COLLATE "C" NOT NULL,
  sequence BIGINT NOT NULL,
  key_type TEXT COLLATE "C" NOT NULL,
  key_ops BYTEA NOT NULL,
  enabled BOOLEAN NOT NULL,
  not_before BIGINT,
  expires BIGINT,
  created BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  tags BYTEA NOT NULL,
  public_key BYTEA NOT NULL,
  sealed_private_key BYTEA NOT NULL,
  PRIMARY KEY (vault, name_key, version),
  UNIQUE (vault, name_key, sequence),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
);

CREATE TABLE principals (
  name_key TEXT COLLATE "C" NOT NULL CONSTRAINT principals_name_key PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  client_id_key TEXT COLLATE "C" NOT NULL CONSTRAINT principals_client_id_key UNIQUE,
  client_id TEXT COLLATE "C" NOT NULL,
  object_id TEXT COLLATE "C" NOT NULL,
  secret_hash TEXT COLLATE "C" NOT NULL,
  created BIGINT NOT NULL
);

CREATE TABLE settings (
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT COLLATE "C" NOT NULL
);
)sql",
    // 2: rotation policies and once-only key events. Both belong to a key row (active or
    // soft-deleted) and go with it when it is purged.
    R"sql(
CREATE TABLE rotation_policies (
  vault TEXT COLLATE "C" NOT NULL,
  name_key TEXT COLLATE "C" NOT NULL,
  actions BYTEA NOT NULL,
  expiry_time TEXT COLLATE "C",
  created BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  PRIMARY KEY (vault, name_key),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
);

CREATE TABLE key_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  vault TEXT COLLATE "C" NOT NULL,
  name_key TEXT COLLATE "C" NOT NULL,
  version TEXT COLLATE "C" NOT NULL,
  kind TEXT COLLATE "C" NOT NULL,
  time BIGINT NOT NULL,
  UNIQUE (vault, name_key, version, kind),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
);
)sql",
    // 3: background-job leases (Store::TryAcquireJobLease).
    R"sql(
CREATE TABLE job_leases (
  job TEXT COLLATE "C" PRIMARY KEY,
  holder TEXT COLLATE "C" NOT NULL,
  expires BIGINT NOT NULL
);
)sql",
    // 4: permission models: RBAC switch per vault, access policies, role assignments. The
    // permission lists are JSON arrays of names, like key_ops.
    R"sql(
ALTER TABLE vaults ADD COLUMN rbac_authorization BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE access_policies (
  vault TEXT COLLATE "C" NOT NULL REFERENCES vaults (name) ON DELETE CASCADE,
  object_id TEXT COLLATE "C" NOT NULL,
  application_id TEXT COLLATE "C" NOT NULL,
  keys BYTEA NOT NULL,
  secrets BYTEA NOT NULL,
  certificates BYTEA NOT NULL,
  PRIMARY KEY (vault, object_id, application_id)
);

CREATE TABLE role_assignments (
  id TEXT COLLATE "C" PRIMARY KEY,
  role TEXT COLLATE "C" NOT NULL,
  principal_id TEXT COLLATE "C" NOT NULL,
  scope TEXT COLLATE "C" NOT NULL,
  created BIGINT NOT NULL
);
CREATE INDEX role_assignments_by_principal ON role_assignments (principal_id);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

constexpr char kSchemaTableExistsSql[] = "SELECT to_regclass('coffre_schema') IS NOT NULL";
constexpr char kCreateSchemaTableSql[] =
    "CREATE TABLE coffre_schema (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)";
constexpr char kSchemaVersionSql[] = "SELECT COALESCE(MAX(version), 0) FROM coffre_schema";
constexpr char kRecordMigrationSql[] =
    "INSERT INTO coffre_schema (version, applied) "
    "VALUES ($1, EXTRACT(EPOCH FROM clock_timestamp())::bigint)";
constexpr char kMigrationLockSql[] = "SELECT pg_advisory_xact_lock($1::bigint)";

// Run once per (re)connection.
constexpr char kSessionSetupSql[] =
    "SELECT set_config('statement_timeout', $1, false) "
    "WHERE current_setting('statement_timeout') = '0'";

// ---------------------------------------------------------------------------------------------
// SQL. Every key query selects the same columns so one decoder reads them all.

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
// concurrent creator of the same key and then inserts nothing.
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
constexpr char kSetDeletedSql[] =
    "UPDATE keys SET deleted_date = $3, scheduled_purge_date = $4 "
    "WHERE vault = $1 AND name_key = $2";
// Versions, policy and events go by ON DELETE CASCADE.
constexpr char kDeleteKeySql[] = "DELETE FROM keys WHERE vault = $1 AND name_key = $2";
// Locks the expired keys in one order, so two replicas purging at once cannot deadlock; a key
// recovered meanwhile no longer matches once its lock is granted and stays.
constexpr char kPurgeExpiredKeysSql[] =
    "DELETE FROM keys WHERE (vault, name_key) IN (SELECT vault, name_key FROM keys "
    "WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= $1 "
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

constexpr char kPutVaultSql[] =
    "INSERT INTO vaults (name, retention_days, purge_protection, created, rbac_authorization) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING";
#define COFFRE_VAULT_SELECT \
  "SELECT name, retention_days, purge_protection, created, rbac_authorization FROM vaults "
constexpr char kGetVaultSql[] = COFFRE_VAULT_SELECT "WHERE name = $1";
constexpr char kListVaultsSql[] = COFFRE_VAULT_SELECT "ORDER BY name";
#undef COFFRE_VAULT_SELECT
// Keeps the vault from being deleted until the transaction ends (its keys, policies and
// assignments may be written meanwhile; a vault UPDATE does not wait for it).
constexpr char kShareVaultSql[] = "SELECT 1 FROM vaults WHERE name = $1 FOR KEY SHARE";
constexpr char kLockVaultSql[] = "SELECT 1 FROM vaults WHERE name = $1 FOR UPDATE";
constexpr char kUpdateVaultSql[] =
    "UPDATE vaults SET retention_days = $2, purge_protection = $3, rbac_authorization = $4 "
    "WHERE name = $1";
constexpr char kVaultHasKeysSql[] = "SELECT 1 FROM keys WHERE vault = $1 LIMIT 1";
// Its access policies go by ON DELETE CASCADE.
constexpr char kDeleteVaultSql[] = "DELETE FROM vaults WHERE name = $1";

constexpr char kPutAccessPolicySql[] =
    "INSERT INTO access_policies (vault, object_id, application_id, keys, secrets, certificates) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (vault, object_id, application_id) DO UPDATE "
    "SET keys = excluded.keys, secrets = excluded.secrets, certificates = excluded.certificates";
// $7..$9: whether the change replaces keys, secrets, certificates. One statement (the conflict
// locks the row), so two merges of one entry never lose each other's lists.
constexpr char kMergeAccessPolicySql[] =
    "INSERT INTO access_policies (vault, object_id, application_id, keys, secrets, certificates) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (vault, object_id, application_id) DO UPDATE "
    "SET keys = CASE WHEN $7::boolean THEN excluded.keys ELSE access_policies.keys END, "
    "secrets = CASE WHEN $8::boolean THEN excluded.secrets ELSE access_policies.secrets END, "
    "certificates = CASE WHEN $9::boolean THEN excluded.certificates "
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

constexpr char kPrincipalNameTakenSql[] = "SELECT 1 FROM principals WHERE name_key = $1";
constexpr char kPrincipalClientTakenSql[] = "SELECT 1 FROM principals WHERE client_id_key = $1";
constexpr char kInsertPrincipalSql[] =
    "INSERT INTO principals (name_key, name, client_id_key, client_id, object_id, secret_hash, "
    "created) VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr char kGetPrincipalByClientSql[] =
    "SELECT name, client_id, object_id, secret_hash, created FROM principals "
    "WHERE client_id_key = $1";
constexpr char kListPrincipalsSql[] =
    "SELECT name, client_id, object_id, secret_hash, created FROM principals ORDER BY name_key";
constexpr char kDeletePrincipalSql[] = "DELETE FROM principals WHERE name_key = $1";

// Waits for a concurrent inserter of the same key; the SELECT after it (a new snapshot at READ
// COMMITTED) then sees the winner's value.
constexpr char kInsertSettingSql[] =
    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
constexpr char kGetSettingSql[] = "SELECT value FROM settings WHERE key = $1";

// One atomic statement: inserts the lease, or takes over an expired or own one; returns no row
// while another holder's lease runs. $3: now, $4: now + ttl.
constexpr char kAcquireLeaseSql[] =
    "INSERT INTO job_leases (job, holder, expires) VALUES ($1, $2, $4) "
    "ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires = excluded.expires "
    "WHERE job_leases.holder = excluded.holder OR job_leases.expires <= $3::bigint "
    "RETURNING holder";

// ---- whole-store checks (ScanKeyVersions, CheckConsistency)

// Every version of every key, active or deleted, after the cursor's (vault, name_key, sequence).
// The last column tells a soft-deleted key (its dates may be any value, 0 included).
constexpr char kScanVersionsSql[] =
    "SELECT k.vault, k.name, v.version, v.sequence, v.key_type, v.key_ops, v.enabled, "
    "v.not_before, v.expires, v.created, v.updated, v.tags, v.public_key, v.sealed_private_key, "
    "k.name_key, k.deleted_date, k.scheduled_purge_date, k.deleted_date IS NOT NULL "
    "FROM keys k JOIN key_versions v ON v.vault = k.vault AND v.name_key = k.name_key "
    "WHERE (k.vault, k.name_key, v.sequence) > ($1::text, $2::text, $3::bigint) "
    "ORDER BY k.vault, k.name_key, v.sequence LIMIT $4::bigint";

// What PostgreSQL offers in place of SQLite's integrity_check: constraints and indexes of our
// tables that are not (or no longer) valid.
#define COFFRE_OUR_TABLES                                                                    \
  "ARRAY[to_regclass('vaults'), to_regclass('keys'), to_regclass('key_versions'), "          \
  "to_regclass('rotation_policies'), to_regclass('key_events'), to_regclass('principals'), " \
  "to_regclass('settings'), to_regclass('job_leases'), to_regclass('access_policies'), "     \
  "to_regclass('role_assignments')]::oid[]"
constexpr const char* kCatalogChecks[] = {
    "SELECT 'constraint ' || c.conname || ' of table ' || CAST(c.conrelid::regclass AS TEXT) || "
    "' is not validated' FROM pg_constraint c WHERE NOT c.convalidated AND "
    "c.conrelid = ANY (" COFFRE_OUR_TABLES ") ORDER BY c.conname LIMIT 101",
    "SELECT 'index ' || CAST(i.indexrelid::regclass AS TEXT) || ' is not valid' FROM pg_index i "
    "WHERE (NOT i.indisvalid OR NOT i.indisready) AND i.indrelid = ANY (" COFFRE_OUR_TABLES
    ") ORDER BY i.indexrelid LIMIT 101",
};
#undef COFFRE_OUR_TABLES

// ---------------------------------------------------------------------------------------------
// Helpers.

// Names compare case-insensitively in ASCII.
std::string Lower(std::string_view s) { return AsciiLower(s); }

Status Corrupt(std::string_view table) {
  return Status::Internal("postgres: malformed row in table " + std::string(table));
}

// One line, no trailing newline: libpq messages end in "\n" and may span lines.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Params: the parameters of one statement. Text values are sent in text format (NUL-terminated,
// so a NUL inside is refused rather than silently cut); BYTEA values in binary format.

class Params {
 public:
  Params& Text(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) invalid_ = true;
    values_.emplace_back(text);
    binary_.push_back(false);
    null_.push_back(false);
    return *this;
  }
  Params& Int(int64_t value) { return Text(std::to_string(value)); }
  Params& Bool(bool value) { return Text(value ? "true" : "false"); }
  Params& OptInt(const std::optional<int64_t>& value) {
    return value.has_value() ? Int(*value) : Null();
  }
  Params& OptText(const std::optional<std::string>& value) {
    return value.has_value() ? Text(*value) : Null();
  }
  Params& Blob(std::string_view bytes) {
    values_.emplace_back(bytes);
    binary_.push_back(true);
    null_.push_back(false);
    return *this;
  }
  Params& Blob(const Bytes& bytes) {
    return Blob(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  Params& Null() {
    values_.emplace_back();
    binary_.push_back(false);
    null_.push_back(true);
    return *this;
  }

  // A text value held a NUL byte, which PostgreSQL text cannot store.
  bool invalid() const { return invalid_; }
  int size() const { return static_cast<int>(values_.size()); }

  // Pointer arrays for libpq; valid while this object is unchanged. An empty BYTEA value still
  // gets a non-null pointer (a null one would send SQL NULL).
  void Arrays(std::vector<const char*>* values, std::vector<int>* lengths,
              std::vector<int>* formats) const {
    for (size_t i = 0; i < values_.size(); ++i) {
      values->push_back(null_[i] ? nullptr : values_[i].c_str());
      lengths->push_back(static_cast<int>(values_[i].size()));
      formats->push_back(binary_[i] ? 1 : 0);
    }
  }

 private:
  std::vector<std::string> values_;
  std::vector<bool> binary_;
  std::vector<bool> null_;
  bool invalid_ = false;
};

// ---------------------------------------------------------------------------------------------
// PgResult: an owned PGresult in binary format. Column readers check the column's type and size
// so an odd row yields an error, not garbage.

class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  PgResult& operator=(PgResult&& other) noexcept {
    if (this != &other) {
      if (result_ != nullptr) PQclear(result_);
      result_ = std::exchange(other.result_, nullptr);
    }
    return *this;
  }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult() {
    if (result_ != nullptr) PQclear(result_);
  }

  const PGresult* get() const { return result_; }
  int rows() const { return PQntuples(result_); }
  // Rows an INSERT/UPDATE/DELETE touched.
  int64_t affected() const {
    const char* text = PQcmdTuples(result_);
    int64_t value = 0;
    std::from_chars(text, text + std::strlen(text), value);
    return value;
  }

  bool Int(int row, int col, int64_t* out) const {
    if (row >= rows() || col >= PQnfields(result_) || PQgetisnull(result_, row, col)) {
      return false;
    }
    const auto* data = reinterpret_cast<const uint8_t*>(PQgetvalue(result_, row, col));
    const int size = PQgetlength(result_, row, col);
    int expected = 0;
    switch (PQftype(result_, col)) {
      case kInt8Oid:
        expected = 8;
        break;
      case kInt4Oid:
        expected = 4;
        break;
      case kInt2Oid:
        expected = 2;
        break;
      default:
        return false;
    }
    if (size != expected) return false;
    uint64_t bits = 0;
    for (int i = 0; i < size; ++i) bits = (bits << 8) | data[i];
    // Sign-extend from the column's width (network byte order, two's complement).
    const int shift = 64 - 8 * size;
    *out = static_cast<int64_t>(bits << shift) >> shift;
    return true;
  }
  bool Int(int row, int col, int* out) const {
    int64_t value = 0;
    if (!Int(row, col, &value) || value < std::numeric_limits<int>::min() ||
        value > std::numeric_limits<int>::max()) {
      return false;
    }
    *out = static_cast<int>(value);
    return true;
  }
  bool OptInt(int row, int col, std::optional<int64_t>* out) const {
    if (IsNull(row, col)) {
      out->reset();
      return true;
    }
    int64_t value = 0;
    if (!Int(row, col, &value)) return false;
    *out = value;
    return true;
  }
  bool Bool(int row, int col, bool* out) const {
    if (!Has(row, col) || PQgetisnull(result_, row, col) || PQftype(result_, col) != kBoolOid ||
        PQgetlength(result_, row, col) != 1) {
      return false;
    }
    *out = PQgetvalue(result_, row, col)[0] != 0;
    return true;
  }
  bool Text(int row, int col, std::string* out) const {
    if (!Has(row, col) || PQgetisnull(result_, row, col)) return false;
    Oid type = PQftype(result_, col);
    if (type != kTextOid && type != kVarcharOid) return false;
    out->assign(PQgetvalue(result_, row, col), static_cast<size_t>(PQgetlength(result_, row, col)));
    return true;
  }
  bool OptText(int row, int col, std::optional<std::string>* out) const {
    if (IsNull(row, col)) {
      out->reset();
      return true;
    }
    std::string value;
    if (!Text(row, col, &value)) return false;
    *out = std::move(value);
    return true;
  }
  // BYTEA as bytes, or as text (the JSON columns).
  bool Blob(int row, int col, Bytes* out) const {
    std::string_view bytes;
    if (!BlobView(row, col, &bytes)) return false;
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    out->assign(data, data + bytes.size());
    return true;
  }
  bool BlobText(int row, int col, std::string* out) const {
    std::string_view bytes;
    if (!BlobView(row, col, &bytes)) return false;
    out->assign(bytes);
    return true;
  }

 private:
  bool Has(int row, int col) const {
    return row >= 0 && col >= 0 && row < rows() && col < PQnfields(result_);
  }
  bool IsNull(int row, int col) const { return Has(row, col) && PQgetisnull(result_, row, col); }
  bool BlobView(int row, int col, std::string_view* out) const {
    if (!Has(row, col) || PQgetisnull(result_, row, col) || PQftype(result_, col) != kByteaOid) {
      return false;
    }
    *out = std::string_view(PQgetvalue(result_, row, col),
                            static_cast<size_t>(PQgetlength(result_, row, col)));
    return true;
  }

  PGresult* result_;
};

// ---------------------------------------------------------------------------------------------
// Connection: one libpq connection and the names of the statements it has prepared. Not
// thread-safe; the store lends each connection to one thread at a time.

// What the last failed call on a connection says about retrying the transaction.
enum class Failure {
  kNone,
  kRetry,   // serialization failure or deadlock: roll back and run the transaction again
  kBroken,  // the connection is gone: reset it; the server rolled back any open transaction
};

struct ConnectSettings {
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  std::string password;  // scrubbed from every message
};

class Connection {
 public:
  // Always yields a connection object; one that failed to connect is reset on first use.
  static std::unique_ptr<Connection> Open(const ConnectSettings& settings) {
    std::vector<const char*> keywords;
    std::vector<const char*> values;
    for (size_t i = 0; i < settings.keywords.size(); ++i) {
      keywords.push_back(settings.keywords[i].c_str());
      values.push_back(settings.values[i].c_str());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
    return std::unique_ptr<Connection>(new Connection(conn, settings.password));
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (conn_ != nullptr) PQfinish(conn_);
  }

  Failure failure() const { return failure_; }
  void ClearFailure() { failure_ = Failure::kNone; }
  // A caller found a state that a concurrent transaction is changing: run it again.
  void MarkRetry() { failure_ = Failure::kRetry; }

  // Connects again if the connection is broken, then sets the session up.
  Status EnsureReady() {
    if (conn_ == nullptr) {
      failure_ = Failure::kBroken;
      return Status::Unavailable("postgres: out of memory for a connection");
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
      ready_ = false;
      // A connection that has just failed to open is not tried again at once: the caller's
      // bounded retry does that.
      if (!std::exchange(fresh_, false)) PQreset(conn_);
      if (PQstatus(conn_) != CONNECTION_OK) {
        failure_ = Failure::kBroken;
        return Status::Unavailable("postgres: cannot connect: " + Scrub(PQerrorMessage(conn_)));
      }
    }
    fresh_ = false;
    if (ready_) return Status::Ok();
    // Statements prepared on the old session are gone with it.
    prepared_.clear();
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    if (PQserverVersion(conn_) < kMinServerVersion) {
      return Status::Internal("postgres: server version " + std::to_string(PQserverVersion(conn_)) +
                              " is too old (PostgreSQL 10 or newer is needed)");
    }
    Params params;
    params.Text(kDefaultStatementTimeout);
    COFFRE_RETURN_IF_ERROR(QueryOnce(kSessionSetupSql, params).status());
    ready_ = true;
    return Status::Ok();
  }

  PGTransactionStatusType TransactionStatus() const {
    return conn_ != nullptr ? PQtransactionStatus(conn_) : PQTRANS_UNKNOWN;
  }

  // Runs a statement without parameters or results (BEGIN, COMMIT, DDL: may hold several).
  Status Exec(const char* sql) {
    PgResult result(PQexec(conn_, sql));
    return Check(result, PGRES_COMMAND_OK, "exec");
  }

  // Runs a cached prepared statement. `sql` must be a string with static storage: it is the
  // cache key.
  Result<PgResult> Query(const char* sql, const Params& params) {
    if (params.invalid()) return TextWithNul();
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = "coffre_" + std::to_string(prepared_.size() + 1);
      PgResult prepared(PQprepare(conn_, name.c_str(), sql, 0, nullptr));
      COFFRE_RETURN_IF_ERROR(Check(prepared, PGRES_COMMAND_OK, "prepare"));
      it = prepared_.emplace(sql, std::move(name)).first;
    }
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    params.Arrays(&values, &lengths, &formats);
    PgResult result(PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(),
                                   lengths.data(), formats.data(), /*resultFormat=*/1));
    COFFRE_RETURN_IF_ERROR(Check(result, PGRES_TUPLES_OK, "query"));
    return result;
  }

  // Runs a statement once, unprepared (migrations, session setup).
  Result<PgResult> QueryOnce(const char* sql, const Params& params) {
    if (params.invalid()) return TextWithNul();
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    params.Arrays(&values, &lengths, &formats);
    PgResult result(PQexecParams(conn_, sql, params.size(), nullptr, values.data(), lengths.data(),
                                 formats.data(), /*resultFormat=*/1));
    COFFRE_RETURN_IF_ERROR(Check(result, PGRES_TUPLES_OK, "query"));
    return result;
  }

  const std::string& Scrub(std::string_view message) {
    scrubbed_ = OneLine(message);
    if (!password_.empty()) {
      for (size_t at = scrubbed_.find(password_); at != std::string::npos;
           at = scrubbed_.find(password_, at + 3)) {
        scrubbed_.replace(at, password_.size(), "***");
      }
    }
    return scrubbed_;
  }

 private:
  Connection(PGconn* conn, std::string password) : conn_(conn), password_(std::move(password)) {}

  static Status TextWithNul() {
    return Status::BadParameter("text values must not contain NUL characters");
  }

  // Maps a failed statement to a Status and records whether a retry may help. Only the primary
  // message is kept: it names tables and constraints; the DETAIL line can quote values.
  Status Check(const PgResult& holder, ExecStatusType want, std::string_view what) {
    const PGresult* result = holder.get();
    ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == want || (want == PGRES_TUPLES_OK && status == PGRES_COMMAND_OK)) {
      return Status::Ok();
    }
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state != nullptr ? state : "";
    const char* primary =
        result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message = "postgres: " + std::string(what) + ": ";
    if (primary != nullptr) {
      message += Scrub(primary);
    } else if (result != nullptr && status != PGRES_FATAL_ERROR) {
      message += std::string("unexpected result ") + PQresStatus(status);
    } else {
      message += Scrub(PQerrorMessage(conn_));
    }
    if (!sqlstate.empty()) message += " (SQLSTATE " + sqlstate + ")";

    const bool broken = PQstatus(conn_) != CONNECTION_OK || sqlstate.starts_with("08") ||
                        sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
    if (broken) {
      failure_ = Failure::kBroken;
      ready_ = false;
      return Status::Unavailable(std::move(message));
    }
    if (sqlstate == "40001" || sqlstate == "40P01") {
      failure_ = Failure::kRetry;
      return Status::Unavailable(std::move(message));
    }
    if (sqlstate == "57014" || sqlstate == "55P03" || sqlstate.starts_with("53")) {
      // Statement timeout, lock not available, out of resources: try again later.
      return Status::Unavailable(std::move(message));
    }
    if (sqlstate == "22021" || sqlstate == "22P05") {
      return Status::BadParameter("text is not valid in the database encoding");
    }
    if (sqlstate.starts_with("23")) {
      Status conflict = Status::Conflict(std::move(message));
      const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
      if (sqlstate == "23505" && constraint != nullptr) {
        // A principal inserted by another process between our check and our insert.
        if (std::strcmp(constraint, "principals_name_key") == 0) {
          return Status::Conflict(conflict.message(), "name-taken");
        }
        if (std::strcmp(constraint, "principals_client_id_key") == 0) {
          return Status::Conflict(conflict.message(), "client-id-taken");
        }
      }
      return conflict;
    }
    return Status::Internal(std::move(message));
  }

  PGconn* conn_;
  std::string password_;
  bool fresh_ = true;  // not used yet since PQconnectdbParams
  bool ready_ = false;
  Failure failure_ = Failure::kNone;
  std::unordered_map<const char*, std::string> prepared_;
  std::string scrubbed_;
};

// ---------------------------------------------------------------------------------------------
// Row decoding.

struct KeyRow {
  DeletedKeyRecord record;  // dates are 0 for an active key
  std::string name_key;
};

// Reads the columns of the key queries above.
Result<KeyRow> ReadKeyRow(const PgResult& r, int row) {
  KeyRow out;
  KeyVersionRecord& v = out.record.latest;
  std::string key_ops;
  std::string tags;
  std::optional<int64_t> deleted_date;
  std::optional<int64_t> purge_date;
  if (!r.Text(row, 0, &v.vault) || !r.Text(row, 1, &v.name) || !r.Text(row, 2, &v.version) ||
      !r.Int(row, 3, &v.sequence) || !r.Text(row, 4, &v.key_type) ||
      !r.BlobText(row, 5, &key_ops) || !r.Bool(row, 6, &v.enabled) ||
      !r.OptInt(row, 7, &v.not_before) || !r.OptInt(row, 8, &v.expires) ||
      !r.Int(row, 9, &v.created) || !r.Int(row, 10, &v.updated) || !r.BlobText(row, 11, &tags) ||
      !r.Blob(row, 12, &v.public_key) || !r.Blob(row, 13, &v.sealed_private_key) ||
      !r.Text(row, 14, &out.name_key) || !r.OptInt(row, 15, &deleted_date) ||
      !r.OptInt(row, 16, &purge_date) || !DecodeKeyOps(key_ops, &v.key_ops) ||
      !DecodeTags(tags, &v.tags)) {
    return Corrupt("key_versions");
  }
  out.record.deleted_date = deleted_date.value_or(0);
  out.record.scheduled_purge_date = purge_date.value_or(0);
  return out;
}

Result<std::vector<KeyRow>> ReadKeyRows(const PgResult& r) {
  std::vector<KeyRow> rows;
  rows.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    COFFRE_ASSIGN_OR_RETURN(KeyRow row, ReadKeyRow(r, i));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<VaultRecord> ReadVault(const PgResult& r, int row) {
  VaultRecord vault;
  if (!r.Text(row, 0, &vault.name) || !r.Int(row, 1, &vault.retention_days) ||
      !r.Bool(row, 2, &vault.purge_protection) || !r.Int(row, 3, &vault.created) ||
      !r.Bool(row, 4, &vault.rbac_authorization)) {
    return Corrupt("vaults");
  }
  return vault;
}

Result<AccessPolicyRecord> ReadAccessPolicy(const PgResult& r, int row) {
  AccessPolicyRecord p;
  std::string keys;
  std::string secrets;
  std::string certificates;
  if (!r.Text(row, 0, &p.vault) || !r.Text(row, 1, &p.object_id) ||
      !r.Text(row, 2, &p.application_id) || !r.BlobText(row, 3, &keys) ||
      !r.BlobText(row, 4, &secrets) || !r.BlobText(row, 5, &certificates) ||
      !DecodeKeyOps(keys, &p.keys) || !DecodeKeyOps(secrets, &p.secrets) ||
      !DecodeKeyOps(certificates, &p.certificates)) {
    return Corrupt("access_policies");
  }
  return p;
}

Result<RoleAssignmentRecord> ReadRoleAssignment(const PgResult& r, int row) {
  RoleAssignmentRecord a;
  if (!r.Text(row, 0, &a.id) || !r.Text(row, 1, &a.role) || !r.Text(row, 2, &a.principal_id) ||
      !r.Text(row, 3, &a.scope) || !r.Int(row, 4, &a.created)) {
    return Corrupt("role_assignments");
  }
  return a;
}

// Reads every row of a result with `read`.
template <typename T, typename ReadRow>
Result<std::vector<T>> ReadAll(const PgResult& r, ReadRow read) {
  std::vector<T> rows;
  rows.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    COFFRE_ASSIGN_OR_RETURN(T row, read(r, i));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<PrincipalRecord> ReadPrincipal(const PgResult& r, int row) {
  PrincipalRecord p;
  if (!r.Text(row, 0, &p.name) || !r.Text(row, 1, &p.client_id) || !r.Text(row, 2, &p.object_id) ||
      !r.Text(row, 3, &p.secret_hash) || !r.Int(row, 4, &p.created)) {
    return Corrupt("principals");
  }
  return p;
}

Result<RotationPolicyRecord> ReadPolicy(const PgResult& r, int row) {
  RotationPolicyRecord p;
  std::string actions;
  if (!r.Text(row, 0, &p.vault) || !r.Text(row, 1, &p.name) || !r.BlobText(row, 2, &actions) ||
      !r.OptText(row, 3, &p.expiry_time) || !r.Int(row, 4, &p.created) ||
      !r.Int(row, 5, &p.updated) || !DecodeActions(actions, &p.actions)) {
    return Corrupt("rotation_policies");
  }
  return p;
}

Result<KeyEventRecord> ReadEvent(const PgResult& r, int row) {
  KeyEventRecord e;
  if (!r.Text(row, 0, &e.vault) || !r.Text(row, 1, &e.name) || !r.Text(row, 2, &e.version) ||
      !r.Text(row, 3, &e.kind) || !r.Int(row, 4, &e.time)) {
    return Corrupt("key_events");
  }
  return e;
}

struct KeyState {
  std::string name;  // display name
  bool deleted = false;
  int64_t next_sequence = 1;
};

// `sql`: kKeyStateSql, kLockKeySql or kShareKeySql.
Result<std::optional<KeyState>> LoadKeyState(Connection& conn, const char* sql,
                                             std::string_view vault, std::string_view name_key) {
  COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(sql, Params().Text(vault).Text(name_key)));
  if (r.rows() == 0) return std::optional<KeyState>();
  KeyState state;
  std::optional<int64_t> deleted_date;
  if (!r.Text(0, 0, &state.name) || !r.OptInt(0, 1, &deleted_date) ||
      !r.Int(0, 2, &state.next_sequence) || state.next_sequence < 1) {
    return Corrupt("keys");
  }
  state.deleted = deleted_date.has_value();
  return std::optional<KeyState>(std::move(state));
}

// Latest version of a key in the given state (active or deleted); kNotFound if there is none.
Result<KeyRow> LoadLatest(Connection& conn, std::string_view vault, std::string_view name_key,
                          bool deleted, std::string_view display_name) {
  COFFRE_ASSIGN_OR_RETURN(
      PgResult r, conn.Query(kGetLatestSql, Params().Text(vault).Text(name_key).Bool(deleted)));
  if (r.rows() == 0) {
    return deleted ? DeletedKeyNotFound(display_name) : KeyNotFound(display_name);
  }
  return ReadKeyRow(r, 0);
}

// Also keeps the vault from being deleted until the transaction ends.
Status CheckVaultExists(Connection& conn, const std::string& vault) {
  COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kShareVaultSql, Params().Text(vault)));
  if (r.rows() == 0) return Status::NotFound("VaultNotFound", "vault '" + vault + "' not found");
  return Status::Ok();
}

// Sequence of the key's latest version; 0 if it has none.
Result<int64_t> LoadLatestSequence(Connection& conn, std::string_view vault,
                                   std::string_view name_key) {
  COFFRE_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query(kLatestSequenceSql, Params().Text(vault).Text(name_key)));
  int64_t latest = 0;
  if (r.rows() != 1 || !r.Int(0, 0, &latest)) return Corrupt("key_versions");
  return latest;
}

// Inserts one version row; `version`, `key_ops` and `tags` are already normalized and encoded.
// Callers check VersionExists first, to answer a duplicate with their own inner code.
Status InsertVersion(Connection& conn, const std::string& vault, const std::string& name_key,
                     const std::string& version, int64_t sequence, const KeyVersionRecord& record,
                     const std::string& key_ops, const std::string& tags) {
  Params params;
  params.Text(vault)
      .Text(name_key)
      .Text(version)
      .Int(sequence)
      .Text(record.key_type)
      .Blob(key_ops)
      .Bool(record.enabled)
      .OptInt(record.not_before)
      .OptInt(record.expires)
      .Int(record.created)
      .Int(record.updated)
      .Blob(tags)
      .Blob(record.public_key)
      .Blob(record.sealed_private_key);
  return conn.Query(kInsertVersionSql, params).status();
}

Result<bool> VersionExists(Connection& conn, const std::string& vault, const std::string& name_key,
                           const std::string& version) {
  COFFRE_ASSIGN_OR_RETURN(
      PgResult r, conn.Query(kVersionExistsSql, Params().Text(vault).Text(name_key).Text(version)));
  return r.rows() > 0;
}

Status UpsertPolicy(Connection& conn, const std::string& vault, const std::string& name_key,
                    const RotationPolicyRecord& policy) {
  Params params;
  params.Text(vault)
      .Text(name_key)
      .Blob(EncodeActions(policy.actions))
      .OptText(policy.expiry_time)
      .Int(policy.created)
      .Int(policy.updated);
  return conn.Query(kPutPolicySql, params).status();
}

Result<std::optional<RotationPolicyRecord>> LoadPolicy(Connection& conn, std::string_view vault,
                                                       std::string_view name_key) {
  COFFRE_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query(kGetPolicySql, Params().Text(vault).Text(name_key)));
  if (r.rows() == 0) return std::optional<RotationPolicyRecord>();
  COFFRE_ASSIGN_OR_RETURN(RotationPolicyRecord policy, ReadPolicy(r, 0));
  return std::optional<RotationPolicyRecord>(std::move(policy));
}

// Lists latest versions of active or deleted keys of a vault after `cursor`.
Result<std::vector<KeyRow>> ListLatest(Connection& conn, std::string_view vault, bool deleted,
                                       std::string_view cursor, int64_t fetch) {
  COFFRE_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query(kListLatestSql, Params().Text(vault).Bool(deleted).Text(cursor).Int(fetch)));
  return ReadKeyRows(r);
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

// Runs one check query (one text column, one problem per row) and appends what it found.
Status RunCheck(Connection& conn, const char* sql, std::vector<std::string>* problems) {
  COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.QueryOnce(sql, Params()));
  for (int i = 0; i < r.rows(); ++i) {
    if (i == kMaxProblemsPerCheck) {
      problems->push_back("(more problems of this kind not shown)");
      break;
    }
    std::string problem;
    problems->push_back(r.Text(i, 0, &problem) ? problem : "?");
  }
  return Status::Ok();
}

// Sleeps a little before a retry, longer and randomized as attempts grow, so racing transactions
// spread out.
void Backoff(int attempt) {
  thread_local std::minstd_rand random(
      static_cast<unsigned>(std::hash<std::thread::id>()(std::this_thread::get_id())));
  const int cap_ms = std::min(2 * attempt, 20);
  std::uniform_int_distribution<int> spread(0, cap_ms * 1000);
  std::this_thread::sleep_for(std::chrono::microseconds(500 + spread(random)));
}

// ---------------------------------------------------------------------------------------------

class PostgresStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::string& url) {
    ConnectSettings settings;
    // Parse first: libpq's own messages about a malformed URL may quote parts of it (the
    // password among them), so ours says only that it is malformed.
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error);
    if (parse_error != nullptr) PQfreemem(parse_error);
    if (options == nullptr) return Status::BadParameter("postgres: malformed connection URL");
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr) {
        settings.password = o->val;
      }
    }
    PQconninfoFree(options);
    // Defaults first: the URL's own values override them. The encoding comes last: we send and
    // expect UTF-8.
    settings.keywords = {"application_name", "connect_timeout", "dbname", "client_encoding"};
    settings.values = {"coffre", kConnectTimeoutSeconds, url, "UTF8"};

    std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(settings)));
    COFFRE_RETURN_IF_ERROR(store->Migrate());
    return std::unique_ptr<Store>(std::move(store));
  }

  ~PostgresStore() override = default;

  // ---- vaults

  Status PutVault(const VaultRecord& vault) override {
    if (vault.name.empty()) return Status::BadParameter("vault name is empty");
    // One idempotent statement: its own transaction, safe to repeat after a lost connection.
    return Run(Txn::kNone, [&](Connection& conn) -> Status {
      Params params;
      params.Text(Lower(vault.name))
          .Int(vault.retention_days)
          .Bool(vault.purge_protection)
          .Int(vault.created)
          .Bool(vault.rbac_authorization);
      return conn.Query(kPutVaultSql, params).status();
    });
  }

  Status UpdateVault(const VaultRecord& vault) override {
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      Params params;
      params.Text(Lower(vault.name))
          .Int(vault.retention_days)
          .Bool(vault.purge_protection)
          .Bool(vault.rbac_authorization);
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kUpdateVaultSql, params));
      if (r.affected() == 0) {
        return Status::NotFound("VaultNotFound", "vault '" + vault.name + "' not found");
      }
      return Status::Ok();
    });
  }

  Status DeleteVault(std::string_view name) override {
    const std::string vault = Lower(name);
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      // Waits for writers that hold the vault (adding keys or policies), then keeps new ones out.
      COFFRE_ASSIGN_OR_RETURN(PgResult locked, conn.Query(kLockVaultSql, Params().Text(vault)));
      if (locked.rows() == 0) {
        return Status::NotFound("VaultNotFound", "vault '" + vault + "' not found");
      }
      COFFRE_ASSIGN_OR_RETURN(PgResult keys, conn.Query(kVaultHasKeysSql, Params().Text(vault)));
      if (keys.rows() > 0) {
        return Status::Conflict("vault '" + vault + "' still holds keys", "not-empty");
      }
      return conn.Query(kDeleteVaultSql, Params().Text(vault)).status();
    });
  }

  // ---- access policies

  Status PutAccessPolicy(const AccessPolicyRecord& policy) override {
    const std::string vault = Lower(policy.vault);
    if (policy.object_id.empty()) return Status::BadParameter("object id is empty");
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      COFFRE_RETURN_IF_ERROR(CheckVaultExists(conn, vault));
      Params params;
      params.Text(vault)
          .Text(Lower(policy.object_id))
          .Text(Lower(policy.application_id))
          .Blob(EncodeKeyOps(policy.keys))
          .Blob(EncodeKeyOps(policy.secrets))
          .Blob(EncodeKeyOps(policy.certificates));
      return conn.Query(kPutAccessPolicySql, params).status();
    });
  }

  Result<AccessPolicyRecord> MergeAccessPolicy(const AccessPolicyChange& change) override {
    const std::string vault = Lower(change.vault);
    if (change.object_id.empty()) return Status::BadParameter("object id is empty");
    const std::vector<std::string> none;
    return Run(Txn::kWrite, [&](Connection& conn) -> Result<AccessPolicyRecord> {
      COFFRE_RETURN_IF_ERROR(CheckVaultExists(conn, vault));
      Params params;
      params.Text(vault)
          .Text(Lower(change.object_id))
          .Text(Lower(change.application_id))
          .Blob(EncodeKeyOps(change.keys.value_or(none)))
          .Blob(EncodeKeyOps(change.secrets.value_or(none)))
          .Blob(EncodeKeyOps(change.certificates.value_or(none)))
          .Bool(change.keys.has_value())
          .Bool(change.secrets.has_value())
          .Bool(change.certificates.has_value());
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kMergeAccessPolicySql, params));
      if (r.rows() != 1) return Status::Internal("access policy merge returned no row");
      return ReadAccessPolicy(r, 0);
    });
  }

  Status DeleteAccessPolicy(std::string_view vault, std::string_view object_id,
                            std::string_view application_id) override {
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      Params params;
      params.Text(Lower(vault)).Text(Lower(object_id)).Text(Lower(application_id));
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kDeleteAccessPolicySql, params));
      if (r.affected() == 0) {
        return Status::NotFound("AccessPolicyNotFound", "no access policy for that object id");
      }
      return Status::Ok();
    });
  }

  Result<std::vector<AccessPolicyRecord>> ListAccessPolicies(std::string_view vault) override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<std::vector<AccessPolicyRecord>> {
      COFFRE_ASSIGN_OR_RETURN(PgResult r,
                              conn.Query(kListAccessPoliciesSql, Params().Text(Lower(vault))));
      return ReadAll<AccessPolicyRecord>(r, ReadAccessPolicy);
    });
  }

  // ---- role assignments

  Status AddRoleAssignment(const RoleAssignmentRecord& a) override {
    if (a.id.empty() || a.principal_id.empty()) {
      return Status::BadParameter("role assignment id and principal must not be empty");
    }
    // A taken id fails the insert: kConflict.
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      Params params;
      params.Text(Lower(a.id))
          .Text(a.role)
          .Text(Lower(a.principal_id))
          .Text(Lower(a.scope))
          .Int(a.created);
      return conn.Query(kInsertRoleAssignmentSql, params).status();
    });
  }

  Status DeleteRoleAssignment(std::string_view id) override {
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(PgResult r,
                              conn.Query(kDeleteRoleAssignmentSql, Params().Text(Lower(id))));
      if (r.affected() == 0) {
        return Status::NotFound("RoleAssignmentNotFound", "no such role assignment");
      }
      return Status::Ok();
    });
  }

  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignments() override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<std::vector<RoleAssignmentRecord>> {
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kListRoleAssignmentsSql, Params()));
      return ReadAll<RoleAssignmentRecord>(r, ReadRoleAssignment);
    });
  }

  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignmentsFor(
      std::string_view principal_id) override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<std::vector<RoleAssignmentRecord>> {
      COFFRE_ASSIGN_OR_RETURN(
          PgResult r, conn.Query(kListRoleAssignmentsForSql, Params().Text(Lower(principal_id))));
      return ReadAll<RoleAssignmentRecord>(r, ReadRoleAssignment);
    });
  }

  Result<VaultRecord> GetVault(std::string_view name) override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<VaultRecord> {
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kGetVaultSql, Params().Text(Lower(name))));
      if (r.rows() == 0) {
        return Status::NotFound("VaultNotFound", "vault '" + std::string(name) + "' not found");
      }
      return ReadVault(r, 0);
    });
  }

  Result<std::vector<VaultRecord>> ListVaults() override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<std::vector<VaultRecord>> {
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kListVaultsSql, Params()));
      std::vector<VaultRecord> vaults;
      for (int i = 0; i < r.rows(); ++i) {
        COFFRE_ASSIGN_OR_RETURN(VaultRecord vault, ReadVault(r, i));
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
    std::string display_name;
    int64_t sequence = 0;
    Status status = Run(Txn::kWrite, [&](Connection& conn) -> Status {
      COFFRE_RETURN_IF_ERROR(CheckVaultExists(conn, vault));
      // The key row's lock orders every writer of this key's versions, in any process.
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, kLockKeySql, vault, name_key));
      if (!state.has_value() && !expected_latest_sequence.has_value()) {
        // A new key. A concurrent creator makes our insert wait and then do nothing; either
        // way the row exists afterwards and the second read locks it.
        Params params;
        params.Text(vault).Text(name_key).Text(record.name).Int(1);
        COFFRE_RETURN_IF_ERROR(conn.Query(kInsertKeySql, params).status());
        COFFRE_ASSIGN_OR_RETURN(state, LoadKeyState(conn, kLockKeySql, vault, name_key));
        if (!state.has_value()) {
          // Created and purged again by others in between: start over.
          conn.MarkRetry();
          return Status::Unavailable("postgres: key '" + record.name + "' changed concurrently");
        }
      }
      if (state.has_value() && state->deleted) {
        return Status::Conflict("key '" + record.name + "' is deleted", "deleted");
      }
      if (expected_latest_sequence.has_value()) {
        // Checked under the key's lock, so no other version can slip in before ours.
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
      COFFRE_ASSIGN_OR_RETURN(bool exists, VersionExists(conn, vault, name_key, version));
      if (exists) {
        return Status::Conflict("key '" + record.name + "' already has version " + version,
                                "version-exists");
      }
      sequence = state->next_sequence;
      // The first writer of a key chose its display name; later versions keep it.
      display_name = state->name;
      COFFRE_RETURN_IF_ERROR(
          InsertVersion(conn, vault, name_key, version, sequence, record, key_ops, tags));
      return conn.Query(kBumpSequenceSql, Params().Text(vault).Text(name_key)).status();
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
    const std::string display_name = versions.front().name;
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
    Status status = Run(Txn::kWrite, [&](Connection& conn) -> Status {
      COFFRE_RETURN_IF_ERROR(CheckVaultExists(conn, vault));
      {
        Params params;
        params.Text(vault).Text(name_key).Text(display_name).Int(count + 1);
        COFFRE_ASSIGN_OR_RETURN(PgResult inserted, conn.Query(kInsertKeySql, params));
        if (inserted.affected() == 0) {
          COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                                  LoadKeyState(conn, kKeyStateSql, vault, name_key));
          const bool deleted = state.has_value() && state->deleted;
          return Status::Conflict("key '" + (state.has_value() ? state->name : display_name) +
                                      "' already exists" + (deleted ? " (deleted)" : ""),
                                  "exists");
        }
      }
      // The new row stays locked by our insert until we commit.
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
    for (size_t i = 0; i < versions.size(); ++i) {
      versions[i].vault = vault;
      versions[i].name = display_name;
      versions[i].version = std::move(encoded[i].version);
      versions[i].sequence = static_cast<int64_t>(i) + 1;
    }
    return Status::Ok();
  }

  Result<KeyVersionRecord> GetKeyVersion(std::string_view vault, std::string_view name,
                                         std::string_view version) override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<KeyVersionRecord> {
      if (version.empty()) {
        COFFRE_ASSIGN_OR_RETURN(KeyRow row,
                                LoadLatest(conn, Lower(vault), Lower(name), false, name));
        return std::move(row.record.latest);
      }
      COFFRE_ASSIGN_OR_RETURN(
          PgResult r,
          conn.Query(kGetVersionSql,
                     Params().Text(Lower(vault)).Text(Lower(name)).Text(Lower(version))));
      if (r.rows() == 0) {
        return Status::NotFound("KeyNotFound", "key '" + std::string(name) + "' version " +
                                                   std::string(version) + " not found");
      }
      COFFRE_ASSIGN_OR_RETURN(KeyRow row, ReadKeyRow(r, 0));
      return std::move(row.record.latest);
    });
  }

  Result<Page<KeyVersionRecord>> ListKeys(std::string_view vault, std::string_view cursor,
                                          int limit) override {
    COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
    COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
    return Run(Txn::kNone, [&](Connection& conn) -> Result<Page<KeyVersionRecord>> {
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
    return Run(Txn::kSnapshot, [&](Connection& conn) -> Result<Page<KeyVersionRecord>> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, kKeyStateSql, vault_key, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(name);
      COFFRE_ASSIGN_OR_RETURN(
          PgResult r,
          conn.Query(kListVersionsSql,
                     Params().Text(vault_key).Text(name_key).Int(after).Int(int64_t{limit} + 1)));
      COFFRE_ASSIGN_OR_RETURN(std::vector<KeyRow> rows, ReadKeyRows(r));
      Page<KeyVersionRecord> page;
      if (rows.size() > static_cast<size_t>(limit)) {
        rows.resize(static_cast<size_t>(limit));
        page.next_cursor = std::to_string(rows.back().record.latest.sequence);
      }
      for (KeyRow& row : rows) page.items.push_back(std::move(row.record.latest));
      return page;
    });
  }

  Result<KeyVersionRecord> UpdateKeyVersion(const KeyVersionRecord& record) override {
    const std::string vault = Lower(record.vault);
    const std::string name_key = Lower(record.name);
    const std::string key_ops = EncodeKeyOps(record.key_ops);
    const std::string tags = EncodeTags(record.tags);
    return Run(Txn::kWrite, [&](Connection& conn) -> Result<KeyVersionRecord> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, kShareKeySql, vault, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(record.name);
      std::string version = Lower(record.version);
      if (version.empty()) {
        // Like GetKeyVersion: no version means the latest.
        COFFRE_ASSIGN_OR_RETURN(KeyRow latest,
                                LoadLatest(conn, vault, name_key, false, record.name));
        version = latest.record.latest.version;
      }
      {
        Params params;
        params.Bool(record.enabled)
            .OptInt(record.not_before)
            .OptInt(record.expires)
            .Blob(key_ops)
            .Blob(tags)
            .Int(record.updated)
            .Text(vault)
            .Text(name_key)
            .Text(version);
        COFFRE_ASSIGN_OR_RETURN(PgResult updated, conn.Query(kUpdateVersionSql, params));
        if (updated.affected() == 0) {
          return Status::NotFound("KeyNotFound",
                                  "key '" + record.name + "' version " + version + " not found");
        }
      }
      COFFRE_ASSIGN_OR_RETURN(
          PgResult r,
          conn.Query(kGetVersionSql, Params().Text(vault).Text(name_key).Text(version)));
      if (r.rows() == 0) return Status::Internal("postgres: updated key version vanished");
      COFFRE_ASSIGN_OR_RETURN(KeyRow row, ReadKeyRow(r, 0));
      return std::move(row.record.latest);
    });
  }

  Result<DeletedKeyRecord> DeleteKey(std::string_view vault, std::string_view name,
                                     int64_t deleted_date, int64_t scheduled_purge_date) override {
    const std::string vault_key = Lower(vault);
    const std::string name_key = Lower(name);
    return Run(Txn::kWrite, [&](Connection& conn) -> Result<DeletedKeyRecord> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, kLockKeySql, vault_key, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(name);
      Params params;
      params.Text(vault_key).Text(name_key).Int(deleted_date).Int(scheduled_purge_date);
      COFFRE_RETURN_IF_ERROR(conn.Query(kSetDeletedSql, params).status());
      COFFRE_ASSIGN_OR_RETURN(KeyRow row, LoadLatest(conn, vault_key, name_key, true, name));
      return std::move(row.record);
    });
  }

  Result<DeletedKeyRecord> GetDeletedKey(std::string_view vault, std::string_view name) override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<DeletedKeyRecord> {
      COFFRE_ASSIGN_OR_RETURN(KeyRow row, LoadLatest(conn, Lower(vault), Lower(name), true, name));
      return std::move(row.record);
    });
  }

  Result<Page<DeletedKeyRecord>> ListDeletedKeys(std::string_view vault, std::string_view cursor,
                                                 int limit) override {
    COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
    COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
    return Run(Txn::kNone, [&](Connection& conn) -> Result<Page<DeletedKeyRecord>> {
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
    return Run(Txn::kWrite, [&](Connection& conn) -> Result<KeyVersionRecord> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, kLockKeySql, vault_key, name_key));
      if (!state.has_value() || !state->deleted) return DeletedKeyNotFound(name);
      Params params;
      params.Text(vault_key).Text(name_key).Null().Null();
      COFFRE_RETURN_IF_ERROR(conn.Query(kSetDeletedSql, params).status());
      COFFRE_ASSIGN_OR_RETURN(KeyRow row, LoadLatest(conn, vault_key, name_key, false, name));
      return std::move(row.record.latest);
    });
  }

  Status PurgeKey(std::string_view vault, std::string_view name) override {
    const std::string vault_key = Lower(vault);
    const std::string name_key = Lower(name);
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, kLockKeySql, vault_key, name_key));
      if (!state.has_value() || !state->deleted) return DeletedKeyNotFound(name);
      return conn.Query(kDeleteKeySql, Params().Text(vault_key).Text(name_key)).status();
    });
  }

  Result<int> PurgeExpiredKeys(int64_t now) override {
    return Run(Txn::kWrite, [&](Connection& conn) -> Result<int> {
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kPurgeExpiredKeysSql, Params().Int(now)));
      return static_cast<int>(r.affected());
    });
  }

  // ---- rotation policies

  Result<std::optional<RotationPolicyRecord>> GetRotationPolicy(std::string_view vault,
                                                                std::string_view name) override {
    const std::string vault_key = Lower(vault);
    const std::string name_key = Lower(name);
    // A snapshot, so the key cannot be deleted between the state check and the read.
    return Run(Txn::kSnapshot,
               [&](Connection& conn) -> Result<std::optional<RotationPolicyRecord>> {
                 COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                                         LoadKeyState(conn, kKeyStateSql, vault_key, name_key));
                 if (!state.has_value() || state->deleted) return KeyNotFound(name);
                 return LoadPolicy(conn, vault_key, name_key);
               });
  }

  Result<RotationPolicyRecord> PutRotationPolicy(const RotationPolicyRecord& policy) override {
    const std::string vault = Lower(policy.vault);
    const std::string name_key = Lower(policy.name);
    return Run(Txn::kWrite, [&](Connection& conn) -> Result<RotationPolicyRecord> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, kShareKeySql, vault, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(policy.name);
      COFFRE_RETURN_IF_ERROR(UpsertPolicy(conn, vault, name_key, policy));
      COFFRE_ASSIGN_OR_RETURN(std::optional<RotationPolicyRecord> stored,
                              LoadPolicy(conn, vault, name_key));
      if (!stored.has_value()) return Status::Internal("postgres: stored rotation policy vanished");
      return std::move(*stored);
    });
  }

  Result<std::vector<RotationPolicyRecord>> ListRotationPolicies() override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<std::vector<RotationPolicyRecord>> {
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kListPoliciesSql, Params()));
      std::vector<RotationPolicyRecord> policies;
      for (int i = 0; i < r.rows(); ++i) {
        COFFRE_ASSIGN_OR_RETURN(RotationPolicyRecord policy, ReadPolicy(r, i));
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
    return Run(Txn::kWrite, [&](Connection& conn) -> Result<bool> {
      COFFRE_ASSIGN_OR_RETURN(std::optional<KeyState> state,
                              LoadKeyState(conn, kShareKeySql, vault, name_key));
      if (!state.has_value() || state->deleted) return KeyNotFound(event.name);
      Params params;
      params.Text(vault).Text(name_key).Text(Lower(event.version)).Text(event.kind).Int(event.time);
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kInsertEventSql, params));
      return r.affected() > 0;
    });
  }

  Result<std::vector<KeyEventRecord>> ListKeyEvents(std::string_view vault,
                                                    std::string_view name) override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<std::vector<KeyEventRecord>> {
      COFFRE_ASSIGN_OR_RETURN(
          PgResult r, conn.Query(kListEventsSql, Params().Text(Lower(vault)).Text(Lower(name))));
      std::vector<KeyEventRecord> events;
      for (int i = 0; i < r.rows(); ++i) {
        COFFRE_ASSIGN_OR_RETURN(KeyEventRecord event, ReadEvent(r, i));
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
    // Client ids compare case-insensitively (ASCII), as in the SQLite store.
    const std::string client_key = Lower(principal.client_id);
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      {
        COFFRE_ASSIGN_OR_RETURN(PgResult r,
                                conn.Query(kPrincipalNameTakenSql, Params().Text(name_key)));
        if (r.rows() > 0) {
          return Status::Conflict("principal name '" + principal.name + "' is taken", "name-taken");
        }
      }
      {
        COFFRE_ASSIGN_OR_RETURN(PgResult r,
                                conn.Query(kPrincipalClientTakenSql, Params().Text(client_key)));
        if (r.rows() > 0) {
          return Status::Conflict("client id " + principal.client_id + " is taken",
                                  "client-id-taken");
        }
      }
      // A principal added by another process meanwhile fails the insert with the same codes.
      Params params;
      params.Text(name_key)
          .Text(principal.name)
          .Text(client_key)
          .Text(principal.client_id)
          .Text(principal.object_id)
          .Text(principal.secret_hash)
          .Int(principal.created);
      return conn.Query(kInsertPrincipalSql, params).status();
    });
  }

  Result<PrincipalRecord> GetPrincipalByClientId(std::string_view client_id) override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<PrincipalRecord> {
      COFFRE_ASSIGN_OR_RETURN(
          PgResult r, conn.Query(kGetPrincipalByClientSql, Params().Text(Lower(client_id))));
      if (r.rows() == 0) {
        return Status::NotFound("PrincipalNotFound",
                                "no principal with client id " + std::string(client_id));
      }
      return ReadPrincipal(r, 0);
    });
  }

  Result<std::vector<PrincipalRecord>> ListPrincipals() override {
    return Run(Txn::kNone, [&](Connection& conn) -> Result<std::vector<PrincipalRecord>> {
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kListPrincipalsSql, Params()));
      std::vector<PrincipalRecord> principals;
      for (int i = 0; i < r.rows(); ++i) {
        COFFRE_ASSIGN_OR_RETURN(PrincipalRecord principal, ReadPrincipal(r, i));
        principals.push_back(std::move(principal));
      }
      return principals;
    });
  }

  Status DeletePrincipal(std::string_view name) override {
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      COFFRE_ASSIGN_OR_RETURN(PgResult r,
                              conn.Query(kDeletePrincipalSql, Params().Text(Lower(name))));
      if (r.affected() == 0) {
        return Status::NotFound("PrincipalNotFound",
                                "principal '" + std::string(name) + "' not found");
      }
      return Status::Ok();
    });
  }

  // ---- settings

  Result<std::string> GetOrPutSetting(std::string_view key, std::string_view value) override {
    return Run(Txn::kWrite, [&](Connection& conn) -> Result<std::string> {
      COFFRE_RETURN_IF_ERROR(
          conn.Query(kInsertSettingSql, Params().Text(key).Text(value)).status());
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kGetSettingSql, Params().Text(key)));
      std::string stored;
      if (r.rows() != 1 || !r.Text(0, 0, &stored)) return Corrupt("settings");
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
    // One statement, and repeating it for the same holder gives the same answer.
    return Run(Txn::kNone, [&](Connection& conn) -> Result<bool> {
      Params params;
      params.Text(job).Text(holder).Int(now).Int(now + ttl_seconds);
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kAcquireLeaseSql, params));
      return r.rows() > 0;
    });
  }

  // ---- whole-store checks

  Result<Page<StoredKeyVersion>> ScanKeyVersions(std::string_view cursor, int limit) override {
    COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
    COFFRE_ASSIGN_OR_RETURN(ScanPosition after, ParseScanCursor(cursor));
    return Run(Txn::kNone, [&](Connection& conn) -> Result<Page<StoredKeyVersion>> {
      Params params;
      params.Text(after.vault).Text(after.name_key).Int(after.sequence).Int(int64_t{limit} + 1);
      COFFRE_ASSIGN_OR_RETURN(PgResult r, conn.Query(kScanVersionsSql, params));
      Page<StoredKeyVersion> page;
      std::string last_name_key;
      for (int i = 0; i < r.rows(); ++i) {
        if (page.items.size() == static_cast<size_t>(limit)) {
          const KeyVersionRecord& last = page.items.back().record;
          page.next_cursor = ScanCursor(last.vault, last_name_key, last.sequence);
          break;
        }
        COFFRE_ASSIGN_OR_RETURN(KeyRow row, ReadKeyRow(r, i));
        StoredKeyVersion item;
        if (!r.Bool(i, 17, &item.deleted)) return Corrupt("keys");
        item.record = std::move(row.record.latest);
        last_name_key = std::move(row.name_key);
        page.items.push_back(std::move(item));
      }
      return page;
    });
  }

  bool ReadsAreLocal() const override { return false; }

  Result<std::vector<std::string>> CheckConsistency() override {
    // One read-only snapshot: every check sees the same state.
    return Run(Txn::kSnapshot, [&](Connection& conn) -> Result<std::vector<std::string>> {
      std::vector<std::string> problems;
      for (const char* sql : kCatalogChecks) {
        COFFRE_RETURN_IF_ERROR(RunCheck(conn, sql, &problems));
      }
      for (const char* sql : kConsistencyChecks) {
        COFFRE_RETURN_IF_ERROR(RunCheck(conn, sql, &problems));
      }
      return problems;
    });
  }

 private:
  enum class Txn {
    kNone,      // autocommit: each statement is its own transaction
    kSnapshot,  // one read-only REPEATABLE READ transaction: several reads, one snapshot
    kWrite,     // one READ COMMITTED transaction, committed if the function succeeds
  };

  explicit PostgresStore(ConnectSettings settings) : settings_(std::move(settings)) {}

  // Brings the schema up to date in one transaction. The advisory lock makes replicas that start
  // together take turns: the first migrates, the others then find nothing to do.
  Status Migrate() {
    return Run(Txn::kWrite, [&](Connection& conn) -> Status {
      COFFRE_RETURN_IF_ERROR(
          conn.QueryOnce(kMigrationLockSql, Params().Int(kMigrationLockKey)).status());
      COFFRE_ASSIGN_OR_RETURN(PgResult exists, conn.QueryOnce(kSchemaTableExistsSql, Params()));
      bool has_table = false;
      if (exists.rows() != 1 || !exists.Bool(0, 0, &has_table)) return Corrupt("coffre_schema");
      if (!has_table) COFFRE_RETURN_IF_ERROR(conn.Exec(kCreateSchemaTableSql));
      COFFRE_ASSIGN_OR_RETURN(PgResult current, conn.QueryOnce(kSchemaVersionSql, Params()));
      int version = 0;
      if (current.rows() != 1 || !current.Int(0, 0, &version) || version < 0) {
        return Status::Internal("postgres: unreadable schema version");
      }
      if (version > kSchemaVersion) {
        return Status::Internal("postgres: database schema version " + std::to_string(version) +
                                " is newer than this build supports (" +
                                std::to_string(kSchemaVersion) + ")");
      }
      for (int i = version; i < kSchemaVersion; ++i) {
        COFFRE_RETURN_IF_ERROR(conn.Exec(kMigrations[i]));
        COFFRE_RETURN_IF_ERROR(conn.QueryOnce(kRecordMigrationSql, Params().Int(i + 1)).status());
      }
      return Status::Ok();
    });
  }

  // ---- connection pool

  // A pooled connection, returned to the pool when it goes out of scope.
  class Lease {
   public:
    Lease(PostgresStore* store, Connection* conn) : store_(store), conn_(conn) {}
    Lease(Lease&& other) noexcept
        : store_(other.store_), conn_(std::exchange(other.conn_, nullptr)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) store_->Release(conn_);
    }
    Connection& conn() const { return *conn_; }

   private:
    PostgresStore* store_;
    Connection* conn_;
  };

  Lease Acquire() {
    std::unique_lock<std::mutex> lock(pool_mu_);
    pool_cv_.wait(lock, [&] { return !idle_.empty() || open_count_ < kPoolSize; });
    if (!idle_.empty()) {
      Connection* conn = idle_.back();
      idle_.pop_back();
      return Lease(this, conn);
    }
    ++open_count_;
    lock.unlock();
    // Connecting takes a round trip or more: not under the pool's lock. A failure to connect
    // shows up (and is retried) when the connection is first used.
    std::unique_ptr<Connection> conn = Connection::Open(settings_);
    lock.lock();
    Connection* raw = conn.get();
    connections_.push_back(std::move(conn));
    return Lease(this, raw);
  }

  void Release(Connection* conn) {
    // Never hand out a connection inside a transaction (callers always end theirs; this is the
    // backstop).
    PGTransactionStatusType txn = conn->TransactionStatus();
    if (txn == PQTRANS_INTRANS || txn == PQTRANS_INERROR) (void)conn->Exec("ROLLBACK");
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      idle_.push_back(conn);
    }
    pool_cv_.notify_one();
  }

  // Runs `fn` on a pooled connection in the given kind of transaction, retrying it after a
  // serialization failure or deadlock, or on a fresh connection if the connection broke (unless
  // a COMMIT went out unanswered: the transaction may have committed).
  template <typename Fn>
  auto Run(Txn txn, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    using R = decltype(fn(std::declval<Connection&>()));
    Lease lease = Acquire();
    Connection& conn = lease.conn();
    int conflicts = 0;
    int breaks = 0;
    while (true) {
      conn.ClearFailure();
      Status ready = conn.EnsureReady();
      if (!ready.ok()) {
        if (conn.failure() == Failure::kBroken && ++breaks < kMaxConnectAttempts) {
          Backoff(breaks * 10);
          continue;
        }
        return ready;
      }
      bool commit_sent = false;
      R result = Attempt(conn, txn, fn, &commit_sent);
      if (result.ok()) return result;
      const Failure failure = conn.failure();
      PGTransactionStatusType state = conn.TransactionStatus();
      if (state == PQTRANS_INTRANS || state == PQTRANS_INERROR) (void)conn.Exec("ROLLBACK");
      if (failure == Failure::kRetry && ++conflicts < kMaxTxnAttempts) {
        Backoff(conflicts);
        continue;
      }
      if (failure == Failure::kBroken) {
        if (commit_sent && txn == Txn::kWrite) {
          return Status::Unavailable(
              "postgres: connection lost while committing; the change may or may not have been "
              "applied");
        }
        if (++breaks < kMaxConnectAttempts) continue;
      }
      return result;
    }
  }

  template <typename Fn>
  static auto Attempt(Connection& conn, Txn txn, Fn& fn, bool* commit_sent)
      -> decltype(fn(std::declval<Connection&>())) {
    if (txn == Txn::kWrite) COFFRE_RETURN_IF_ERROR(conn.Exec("BEGIN"));
    if (txn == Txn::kSnapshot) {
      COFFRE_RETURN_IF_ERROR(conn.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    }
    auto result = fn(conn);
    if (!result.ok() || txn == Txn::kNone) return result;
    *commit_sent = true;
    COFFRE_RETURN_IF_ERROR(conn.Exec("COMMIT"));
    return result;
  }

  const ConnectSettings settings_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;
  int open_count_ = 0;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url) {
  return PostgresStore::Open(url);
}

}  // namespace coffre::store
