// The tables, written once for both engines. Each migration is a template whose words in braces
// each engine spells its own way (a SchemaDialect in schema.cc): column types, table options, and
// the few places where the two schemas' history differs. Never edit a released migration: append
// a new one. Migration numbers mean the same tables in both engines. Internal to store/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "coffre/status.h"

namespace coffre::store::sql {

struct SchemaDialect {
  const char* text;                 // {text}: TEXT, compared byte by byte
  const char* int64;                // {int64}
  const char* boolean;              // {bool}
  const char* false_value;          // {false}: the boolean false as a column default
  const char* blob;                 // {blob}: bytes
  const char* document;             // {document}: a JSON document the record layer encodes
  const char* table_options;        // {table_options}: after a CREATE TABLE's closing parenthesis
  const char* event_id;             // {event_id}: key_events' surrogate key column
  const char* next_sequence_check;  // {next_sequence_check}: after keys.next_sequence
  // {principal_ids}: principals' name and client-id columns (SQLite's client_id_key came in 5).
  const char* principal_ids;
  const char* migration_5;  // {migration_5}: principals.client_id_key where it was missing
};

enum class Dialect { kSqlite, kPostgres };

// The migrations in order, in one engine's spelling: migration N is element N - 1.
std::vector<std::string> Migrations(Dialect engine);

// What a database at schema `version` still needs, in order (empty when it is current);
// kInternal when the version is negative or newer than this build knows.
Result<std::vector<std::string>> PendingMigrations(Dialect engine, int64_t version);

}  // namespace coffre::store::sql
