#include "store/sql/schema.h"

#include <iterator>
#include <string_view>
#include <utility>

namespace coffre::store::sql {
namespace {

// SQLite's spelling of the schema: STRICT tables, integers for
// booleans, JSON documents as TEXT.
constexpr sql::SchemaDialect kSqliteDialect = {
    .text = "TEXT",
    .int64 = "INTEGER",
    .boolean = "INTEGER",
    .false_value = "0",
    .blob = "BLOB",
    .document = "TEXT",
    .table_options = " STRICT",
    .event_id = "INTEGER PRIMARY KEY",
    .next_sequence_check = "",
    .principal_ids =
        "  name_key TEXT PRIMARY KEY,\n"
        "  name TEXT NOT NULL,\n"
        "  client_id TEXT NOT NULL UNIQUE COLLATE NOCASE,",
    .migration_5 =
        "ALTER TABLE principals ADD COLUMN client_id_key TEXT NOT NULL DEFAULT '';\n"
        "UPDATE principals SET client_id_key = lower(client_id);\n"
        "CREATE UNIQUE INDEX principals_client_id_key ON principals (client_id_key);",
    .migration_7_reserved = "SELECT 1;",
};

// PostgreSQL's spelling of the schema: byte-order collation for
// text, BYTEA for JSON documents, an identity column for key events.
constexpr sql::SchemaDialect kPostgresDialect = {
    .text = "TEXT COLLATE \"C\"",
    .int64 = "BIGINT",
    .boolean = "BOOLEAN",
    .false_value = "false",
    .blob = "BYTEA",
    .document = "BYTEA",
    .table_options = "",
    .event_id = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    .next_sequence_check = " CHECK (next_sequence >= 1)",
    .principal_ids =
        "  name_key TEXT COLLATE \"C\" NOT NULL CONSTRAINT principals_name_key PRIMARY KEY,\n"
        "  name TEXT COLLATE \"C\" NOT NULL,\n"
        "  client_id_key TEXT COLLATE \"C\" NOT NULL CONSTRAINT principals_client_id_key UNIQUE,\n"
        "  client_id TEXT COLLATE \"C\" NOT NULL,",
    // This schema had the column from the start; the migration only keeps the numbers in step.
    .migration_5 = "COMMENT ON TABLE principals IS 'client-credential identities (coffre)';",
    .migration_7_reserved = "COMMENT ON TABLE settings IS 'server settings (coffre)';",
};

constexpr const char* kMigrationTemplates[] = {
    // 1: initial schema.
    R"sql(
CREATE TABLE vaults (
  name {text} PRIMARY KEY,
  retention_days INTEGER NOT NULL,
  purge_protection {bool} NOT NULL,
  created {int64} NOT NULL
){table_options};

CREATE TABLE keys (
  vault {text} NOT NULL REFERENCES vaults (name),
  name_key {text} NOT NULL,
  name {text} NOT NULL,
  deleted_date {int64},
  scheduled_purge_date {int64},
  next_sequence {int64} NOT NULL{next_sequence_check},
  PRIMARY KEY (vault, name_key),
  CHECK ((deleted_date IS NULL) = (scheduled_purge_date IS NULL))
){table_options};
CREATE INDEX keys_by_purge_date ON keys (scheduled_purge_date) WHERE deleted_date IS NOT NULL;

CREATE TABLE key_versions (
  vault {text} NOT NULL,
  name_key {text} NOT NULL,
  version {text} NOT NULL,
  sequence {int64} NOT NULL,
  key_type {text} NOT NULL,
  key_ops {document} NOT NULL,
  enabled {bool} NOT NULL,
  not_before {int64},
  expires {int64},
  created {int64} NOT NULL,
  updated {int64} NOT NULL,
  tags {document} NOT NULL,
  public_key {blob} NOT NULL,
  sealed_private_key {blob} NOT NULL,
  PRIMARY KEY (vault, name_key, version),
  UNIQUE (vault, name_key, sequence),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
){table_options};

CREATE TABLE principals (
{principal_ids}
  object_id {text} NOT NULL,
  secret_hash {text} NOT NULL,
  created {int64} NOT NULL
){table_options};

CREATE TABLE settings (
  key {text} PRIMARY KEY,
  value {text} NOT NULL
){table_options};
)sql",
    // 2: rotation policies and once-only key events. Both belong to a key row (active or
    // soft-deleted) and go with it when it is purged.
    R"sql(
CREATE TABLE rotation_policies (
  vault {text} NOT NULL,
  name_key {text} NOT NULL,
  actions {document} NOT NULL,
  expiry_time {text},
  created {int64} NOT NULL,
  updated {int64} NOT NULL,
  PRIMARY KEY (vault, name_key),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
){table_options};

CREATE TABLE key_events (
  id {event_id},
  vault {text} NOT NULL,
  name_key {text} NOT NULL,
  version {text} NOT NULL,
  kind {text} NOT NULL,
  time {int64} NOT NULL,
  UNIQUE (vault, name_key, version, kind),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
){table_options};
)sql",
    // 3: background-job leases (StoreMaintenance::TryAcquireJobLease).
    R"sql(
CREATE TABLE job_leases (
  job {text} PRIMARY KEY,
  holder {text} NOT NULL,
  expires {int64} NOT NULL
){table_options};
)sql",
    // 4: permission models: RBAC switch per vault, access policies, role assignments. The
    // permission lists are JSON arrays of names, like key_ops.
    R"sql(
ALTER TABLE vaults ADD COLUMN rbac_authorization {bool} NOT NULL DEFAULT {false};

CREATE TABLE access_policies (
  vault {text} NOT NULL REFERENCES vaults (name) ON DELETE CASCADE,
  object_id {text} NOT NULL,
  application_id {text} NOT NULL,
  keys {document} NOT NULL,
  secrets {document} NOT NULL,
  certificates {document} NOT NULL,
  PRIMARY KEY (vault, object_id, application_id)
){table_options};

CREATE TABLE role_assignments (
  id {text} PRIMARY KEY,
  role {text} NOT NULL,
  principal_id {text} NOT NULL,
  scope {text} NOT NULL,
  created {int64} NOT NULL
){table_options};
CREATE INDEX role_assignments_by_principal ON role_assignments (principal_id);
)sql",
    // 5: principals are looked up by their client id lowercased (ASCII), in a column of its own,
    // so both engines run the same statements.
    R"sql(
{migration_5}
)sql",
    // 6: secrets, kept as keys are: a row per secret (its deletion state and next sequence), its
    // versions (the value sealed) and once-only events, which go with it when it is purged.
    R"sql(
CREATE TABLE secrets (
  vault {text} NOT NULL REFERENCES vaults (name),
  name_key {text} NOT NULL,
  name {text} NOT NULL,
  deleted_date {int64},
  scheduled_purge_date {int64},
  next_sequence {int64} NOT NULL{next_sequence_check},
  PRIMARY KEY (vault, name_key),
  CHECK ((deleted_date IS NULL) = (scheduled_purge_date IS NULL))
){table_options};
CREATE INDEX secrets_by_purge_date ON secrets (scheduled_purge_date)
  WHERE deleted_date IS NOT NULL;

CREATE TABLE secret_versions (
  vault {text} NOT NULL,
  name_key {text} NOT NULL,
  version {text} NOT NULL,
  sequence {int64} NOT NULL,
  content_type {text},
  enabled {bool} NOT NULL,
  not_before {int64},
  expires {int64},
  created {int64} NOT NULL,
  updated {int64} NOT NULL,
  tags {document} NOT NULL,
  managed {bool} NOT NULL,
  key_id {text},
  sealed_value {blob} NOT NULL,
  PRIMARY KEY (vault, name_key, version),
  UNIQUE (vault, name_key, sequence),
  FOREIGN KEY (vault, name_key) REFERENCES secrets (vault, name_key) ON DELETE CASCADE
){table_options};

CREATE TABLE secret_events (
  id {event_id},
  vault {text} NOT NULL,
  name_key {text} NOT NULL,
  version {text} NOT NULL,
  kind {text} NOT NULL,
  time {int64} NOT NULL,
  UNIQUE (vault, name_key, version, kind),
  FOREIGN KEY (vault, name_key) REFERENCES secrets (vault, name_key) ON DELETE CASCADE
){table_options};
)sql",
    // 7: reserved for the certificates branch's migration (a no-op here, so the numbers below
    // stay the same when the branches merge).
    R"sql(
{migration_7_reserved}
)sql",
    // 8: users (password sign-in), Resource Manager resource groups, and what Resource Manager
    // keeps about a vault: its group, location, sku, tags and soft-deleted state.
    R"sql(
CREATE TABLE users (
  upn_key {text} PRIMARY KEY,
  upn {text} NOT NULL,
  object_id {text} NOT NULL UNIQUE,
  display_name {text} NOT NULL,
  password_hash {text} NOT NULL,
  created {int64} NOT NULL
){table_options};

CREATE TABLE resource_groups (
  name_key {text} PRIMARY KEY,
  name {text} NOT NULL,
  location {text} NOT NULL,
  tags {document} NOT NULL,
  created {int64} NOT NULL
){table_options};

ALTER TABLE vaults ADD COLUMN resource_group_key {text} NOT NULL DEFAULT '';
ALTER TABLE vaults ADD COLUMN resource_group {text} NOT NULL DEFAULT '';
ALTER TABLE vaults ADD COLUMN location {text} NOT NULL DEFAULT '';
ALTER TABLE vaults ADD COLUMN sku {text} NOT NULL DEFAULT 'standard';
ALTER TABLE vaults ADD COLUMN tags {text} NOT NULL DEFAULT '[]';
ALTER TABLE vaults ADD COLUMN deleted_date {int64};
ALTER TABLE vaults ADD COLUMN scheduled_purge_date {int64};
CREATE INDEX vaults_by_resource_group ON vaults (resource_group_key);
)sql",
};

std::string Spell(std::string_view text, const SchemaDialect& d) {
  const std::pair<std::string_view, const char*> words[] = {
      {"{text}", d.text},
      {"{int64}", d.int64},
      {"{bool}", d.boolean},
      {"{false}", d.false_value},
      {"{blob}", d.blob},
      {"{document}", d.document},
      {"{table_options}", d.table_options},
      {"{event_id}", d.event_id},
      {"{next_sequence_check}", d.next_sequence_check},
      {"{principal_ids}", d.principal_ids},
      {"{migration_5}", d.migration_5},
      {"{migration_7_reserved}", d.migration_7_reserved},
  };
  std::string out;
  out.reserve(text.size() * 2);
  while (!text.empty()) {
    bool replaced = false;
    if (text.front() == '{') {
      for (const auto& [word, spelling] : words) {
        if (text.starts_with(word)) {
          out += spelling;
          text.remove_prefix(word.size());
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) {
      out.push_back(text.front());
      text.remove_prefix(1);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> Migrations(Dialect engine) {
  const SchemaDialect& dialect = engine == Dialect::kSqlite ? kSqliteDialect : kPostgresDialect;
  std::vector<std::string> migrations;
  for (const char* migration : kMigrationTemplates) migrations.push_back(Spell(migration, dialect));
  return migrations;
}

}  // namespace coffre::store::sql

namespace coffre::store::sql {

Result<std::vector<std::string>> PendingMigrations(Dialect engine, int64_t version) {
  static const std::vector<std::string> sqlite = Migrations(Dialect::kSqlite);
  static const std::vector<std::string> postgres = Migrations(Dialect::kPostgres);
  const std::vector<std::string>& all = engine == Dialect::kSqlite ? sqlite : postgres;
  const int64_t current = static_cast<int64_t>(all.size());
  if (version < 0) return Status::Internal("store: unreadable schema version");
  if (version > current) {
    return Status::Internal("store: database schema version " + std::to_string(version) +
                            " is newer than this build supports (" + std::to_string(current) + ")");
  }
  return std::vector<std::string>(all.begin() + version, all.end());
}

}  // namespace coffre::store::sql
