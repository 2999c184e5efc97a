// What the record files share: the store's not-found errors, how key_ops, tags, permission lists
// and rotation actions are kept as JSON documents, the key row decoder, and how listing cursors
// and limits are validated. Internal to store/.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "store/sql/sql_engine.h"
#include "store/store.h"

namespace coffre::store::sql {

Status VaultNotFound(std::string_view vault);
Status KeyNotFound(std::string_view name);
Status KeyVersionNotFound(std::string_view name, std::string_view version);
Status DeletedKeyNotFound(std::string_view name);
// kNotFound unless the vault (lowercase name) exists. Also keeps it from being deleted until the
// transaction ends, for calls that write into it (a vault UPDATE does not wait).
Status CheckVaultExists(Transaction& txn, std::string_view vault);

// A row whose columns do not decode: damage, or a schema this build does not know.
Status Corrupt(std::string_view table);

// One row of the key queries (key_records.cc): a version and its key's deletion state.
struct KeyRow {
  DeletedKeyRecord record;  // dates are 0 for an active key
  std::string name_key;
};
// Reads the columns every key query selects (see COFFRE_KEY_SELECT in key_records.cc).
Status ReadKeyRow(const Row& row, KeyRow* out);

// One row of the secret queries (secret_records.cc): a version and its secret's deletion state.
struct SecretRow {
  DeletedSecretRecord record;  // dates are 0 for an active secret
  std::string name_key;
};
// Reads the columns every secret query selects (see COFFRE_SECRET_SELECT in secret_records.cc).
Status ReadSecretRow(const Row& row, SecretRow* out);

// key_ops (and access-policy permission lists) are JSON arrays of strings, tags JSON arrays of
// [name, value] pairs and lifetime actions JSON arrays of {"action","trigger","duration"}:
// readable in a database shell, and arrays keep the caller's order. Invalid UTF-8 is tolerated
// both ways so any byte string round-trips.
boost::json::parse_options JsonOptions();
std::string EncodeKeyOps(const std::vector<std::string>& ops);
bool DecodeKeyOps(std::string_view text, std::vector<std::string>* ops);
std::string EncodeTags(const Tags& tags);
bool DecodeTags(std::string_view text, Tags* tags);
std::string EncodeActions(const std::vector<LifetimeActionRecord>& actions);
bool DecodeActions(std::string_view text, std::vector<LifetimeActionRecord>* actions);

// Runs a query and decodes every row with `read` (const Row&, T*) -> Status.
template <typename T, typename ReadRow>
Result<std::vector<T>> QueryAll(Transaction& txn, const char* sql, const Params& params,
                                ReadRow read) {
  std::vector<T> rows;
  COFFRE_RETURN_IF_ERROR(txn.Query(sql, params, [&](const Row& row) -> Status {
    T item;
    COFFRE_RETURN_IF_ERROR(read(row, &item));
    rows.push_back(std::move(item));
    return Status::Ok();
  }));
  return rows;
}

// True if the statement yields a row.
inline Result<bool> Exists(Transaction& txn, const char* sql, const Params& params) {
  bool found = false;
  COFFRE_RETURN_IF_ERROR(txn.Query(sql, params, [&](const Row&) {
    found = true;
    return Status::Ok();
  }));
  return found;
}

// Cursors are opaque to callers, but they only ever get back what a store produced: anything
// else is a malformed request rather than a position.
Status ParseKeyCursor(std::string_view cursor);
Result<int64_t> ParseSequenceCursor(std::string_view cursor);
Status CheckLimit(int limit);

}  // namespace coffre::store::sql
