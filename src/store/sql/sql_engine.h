// The seam between the record layer (store/sql/*_records.cc, written once) and the two SQL
// engines (store/sqlite, store/postgres), each of which implements it.
//
// Statements are written once, in the SQL both engines understand: numbered parameters ($1, $2,
// ...), standard types through CAST, INSERT ... ON CONFLICT, RETURNING. Row locks are written as
// PostgreSQL spells them (FOR UPDATE, FOR SHARE, FOR KEY SHARE); SQLite, which runs one write
// transaction at a time anyway, drops them. Everything else that differs (column types, how
// booleans and JSON documents are stored, connections, retries, migrations) lives in the engines.
// Internal to store/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "common/bytes.h"

namespace coffre::store::sql {

// The parameters of one statement, in order: the first is $1.
class Params {
 public:
  enum class Type { kNull, kText, kInt, kBool, kBlob, kDocument };
  struct Value {
    Type type = Type::kNull;
    int64_t number = 0;  // kInt, kBool
    std::string bytes;   // kText, kBlob, kDocument
  };

  Params& Text(std::string_view text) { return Add(Type::kText, 0, text); }
  Params& Int(int64_t value) { return Add(Type::kInt, value, {}); }
  Params& Bool(bool value) { return Add(Type::kBool, value ? 1 : 0, {}); }
  Params& OptInt(const std::optional<int64_t>& value) {
    return value.has_value() ? Int(*value) : Null();
  }
  Params& OptText(const std::optional<std::string>& value) {
    return value.has_value() ? Text(*value) : Null();
  }
  Params& Blob(const Bytes& bytes) { return Add(Type::kBlob, 0, AsChars(bytes)); }
  // A JSON document the record layer encoded (key_ops, tags, lifetime actions, permissions).
  Params& Document(std::string_view json) { return Add(Type::kDocument, 0, json); }
  Params& Null() { return Add(Type::kNull, 0, {}); }

  const std::vector<Value>& values() const { return values_; }

 private:
  Params& Add(Type type, int64_t number, std::string_view bytes) {
    values_.push_back(Value{type, number, std::string(bytes)});
    return *this;
  }

  std::vector<Value> values_;
};

// The current row of a result. Readers return false when the column is missing, NULL (except
// the Opt readers) or of another type, so a damaged row yields an error, not garbage.
class Row {
 public:
  virtual ~Row() = default;
  virtual bool IsNull(int col) const = 0;
  virtual bool Int(int col, int64_t* out) const = 0;
  virtual bool Bool(int col, bool* out) const = 0;
  virtual bool Text(int col, std::string* out) const = 0;
  virtual bool Blob(int col, Bytes* out) const = 0;
  virtual bool Document(int col, std::string* out) const = 0;

  bool Int(int col, int* out) const;
  bool OptInt(int col, std::optional<int64_t>* out) const;
  bool OptText(int col, std::optional<std::string>* out) const;
};

// Called for each row of a query, in order; a non-OK status stops the query and is returned.
using RowSink = std::function<Status(const Row&)>;

// One transaction (or, in Mode::kRead, one connection running single-statement reads).
class Transaction {
 public:
  virtual ~Transaction() = default;
  // Runs a statement and hands each row to `sink`. `sql` must have static storage: engines
  // cache what they prepare by its address.
  virtual Status Query(const char* sql, const Params& params, const RowSink& sink) = 0;
  // Runs a statement that returns no rows; yields how many rows it changed.
  virtual Result<int64_t> Exec(const char* sql, const Params& params) = 0;
  // Runs a check query (no parameters, not cached) and yields each row's columns as text
  // ("NULL" for a null), so a damaged row still reads.
  virtual Result<std::vector<std::vector<std::string>>> QueryText(const char* sql) = 0;
  // The record layer found a state that a concurrent transaction of another process is
  // changing: the engine runs the whole transaction again if it can (PostgreSQL), or fails.
  virtual Status RunAgain(std::string why) = 0;
};

class Engine {
 public:
  enum class Mode {
    kRead,             // each statement sees the latest commit
    kSnapshot,         // several reads, one snapshot
    kWrite,            // one transaction, durable when Run returns OK
    kIdempotentWrite,  // one statement that is safe to repeat (engines may skip BEGIN/COMMIT)
  };

  virtual ~Engine() = default;
  // Runs `fn` in a transaction of `mode`, committing if it returns OK (its changes are rolled
  // back otherwise). `fn` may run more than once (PostgreSQL retries serialization failures and
  // broken connections), so it must set every output afresh on each run.
  virtual Status Run(Mode mode, const std::function<Status(Transaction&)>& fn) = 0;
  // Checks of the database's own integrity (SQLite's integrity and foreign-key checks,
  // PostgreSQL's catalog of invalid constraints and indexes), one line per problem.
  virtual Status CheckIntegrity(Transaction& txn, std::vector<std::string>* problems) = 0;
  // True when reads are served in this process (SQLite), false when each is a round trip.
  virtual bool ReadsAreLocal() const = 0;
  // "sqlite" or "postgres", for error messages.
  virtual const char* name() const = 0;
};

}  // namespace coffre::store::sql
