// The PostgreSQL engine under the record layer (store/sql), for several server processes
// (replicas) sharing one database.
//
// Connections: a pool of up to kPoolSize libpq connections, opened on demand and lent to one
// thread at a time (mutex + condition variable). Each connection prepares a statement the first
// time it runs it and keeps it for the session. Parameters go as text, except BYTEA values, which
// go in binary so their bytes are never escaped or quoted; results come back in binary and every
// column's type is checked before it is decoded. A connection found broken is reset (PQreset) and
// the call retried, a bounded number of times; a transaction whose COMMIT went unanswered is not
// retried (it may have committed).
//
// Concurrency: every write is one transaction at READ COMMITTED; the record layer's row locks
// (store/sql/sql_store.h) order writers across processes. Serialization failures and deadlocks
// (SQLSTATE 40001, 40P01), and a record layer asking to run again, roll back and retry the whole
// transaction, a bounded number of times.
//
// Schema: migrations are applied in order at open, in one transaction holding a transaction-level
// advisory lock, so replicas starting together migrate once; `coffre_schema` holds one row per
// applied migration. Text columns compare in the "C" collation (byte order, as in SQLite) so
// listings and cursors do not depend on the database's locale. key_ops, tags, lifetime actions
// and permission lists (the record layer's JSON documents) are kept in BYTEA so any byte string
// round-trips whatever the database encoding (read them with convert_from(col, 'UTF8')).
// the database encoding (read them with convert_from(col, 'UTF8')).
#include <libpq-fe.h>

#include <algorithm>
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

#include "store/sql/consistency_checks.h"
#include "store/sql/schema.h"
#include "store/sql/sql_engine.h"
#include "store/sql/sql_store.h"
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
// Schema (store/sql/schema.cc). Applied migrations are rows of coffre_schema.

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
// LibpqParams: one statement's parameters (sql::Params) as libpq takes them. Text values go in
// text format (NUL-terminated, so a NUL inside is refused rather than silently cut); blobs and
// JSON documents in binary format, so their bytes are never escaped or quoted. Points into the
// sql::Params it was made from, which must outlive it.

class LibpqParams {
 public:
  explicit LibpqParams(const sql::Params& params) {
    const auto& values = params.values();
    numbers_.reserve(values.size());  // never reallocates: values_ points into it
    for (const sql::Params::Value& value : values) {
      const char* data = nullptr;  // SQL NULL
      size_t length = 0;
      int format = 0;
      switch (value.type) {
        case sql::Params::Type::kNull:
          break;
        case sql::Params::Type::kInt:
          numbers_.push_back(std::to_string(value.number));
          data = numbers_.back().c_str();
          length = numbers_.back().size();
          break;
        case sql::Params::Type::kBool:
          data = value.number != 0 ? "true" : "false";
          length = std::strlen(data);
          break;
        case sql::Params::Type::kText:
          if (value.bytes.find('\0') != std::string::npos) invalid_ = true;
          data = value.bytes.c_str();
          length = value.bytes.size();
          break;
        case sql::Params::Type::kBlob:
        case sql::Params::Type::kDocument:
          // Never a null pointer, even when empty: that would send SQL NULL.
          data = value.bytes.c_str();
          length = value.bytes.size();
          format = 1;
          break;
      }
      values_.push_back(data);
      lengths_.push_back(static_cast<int>(length));
      formats_.push_back(format);
    }
  }

  // A text value held a NUL byte, which PostgreSQL text cannot store.
  bool invalid() const { return invalid_; }
  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::string> numbers_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
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
  bool IsNull(int row, int col) const { return Has(row, col) && PQgetisnull(result_, row, col); }
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
    sql::Params params;
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
  Result<PgResult> Query(const char* sql, const sql::Params& shared) {
    const LibpqParams params(shared);
    if (params.invalid()) return TextWithNul();
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = "coffre_" + std::to_string(prepared_.size() + 1);
      PgResult prepared(PQprepare(conn_, name.c_str(), sql, 0, nullptr));
      COFFRE_RETURN_IF_ERROR(Check(prepared, PGRES_COMMAND_OK, "prepare"));
      it = prepared_.emplace(sql, std::move(name)).first;
    }
    PgResult result(PQexecPrepared(conn_, it->second.c_str(), params.size(), params.values(),
                                   params.lengths(), params.formats(), /*resultFormat=*/1));
    COFFRE_RETURN_IF_ERROR(Check(result, PGRES_TUPLES_OK, "query"));
    return result;
  }

  // Runs a statement once, unprepared (migrations, session setup).
  Result<PgResult> QueryOnce(const char* sql, const sql::Params& shared) {
    const LibpqParams params(shared);
    if (params.invalid()) return TextWithNul();
    PgResult result(PQexecParams(conn_, sql, params.size(), nullptr, params.values(),
                                 params.lengths(), params.formats(), /*resultFormat=*/1));
    COFFRE_RETURN_IF_ERROR(Check(result, PGRES_TUPLES_OK, "query"));
    return result;
  }

  // Runs a check query once, unprepared, with results in text format: every column as text
  // ("NULL" for a null).
  Result<std::vector<std::vector<std::string>>> QueryTextRows(const char* sql) {
    PgResult result(PQexec(conn_, sql));
    COFFRE_RETURN_IF_ERROR(Check(result, PGRES_TUPLES_OK, "check query"));
    std::vector<std::vector<std::string>> rows;
    const int columns = PQnfields(result.get());
    for (int i = 0; i < result.rows(); ++i) {
      std::vector<std::string> row;
      for (int col = 0; col < columns; ++col) {
        row.emplace_back(PQgetisnull(result.get(), i, col) ? "NULL"
                                                           : PQgetvalue(result.get(), i, col));
      }
      rows.push_back(std::move(row));
    }
    return rows;
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
    if (sqlstate.starts_with("23")) return Status::Conflict(std::move(message));
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

// One row of a result.
class ResultRow final : public sql::Row {
 public:
  ResultRow(const PgResult& result, int row) : result_(result), row_(row) {}
  using Row::Int;
  bool IsNull(int col) const override { return result_.IsNull(row_, col); }
  bool Int(int col, int64_t* out) const override { return result_.Int(row_, col, out); }
  bool Bool(int col, bool* out) const override { return result_.Bool(row_, col, out); }
  bool Text(int col, std::string* out) const override { return result_.Text(row_, col, out); }
  bool Blob(int col, Bytes* out) const override { return result_.Blob(row_, col, out); }
  bool Document(int col, std::string* out) const override {
    return result_.BlobText(row_, col, out);
  }

 private:
  const PgResult& result_;
  int row_;
};

// The record layer's view of a pooled connection inside the transaction RunOn opened.
class PostgresTransaction final : public sql::Transaction {
 public:
  explicit PostgresTransaction(Connection& conn) : conn_(conn) {}

  Status Query(const char* sql, const sql::Params& params, const sql::RowSink& sink) override {
    COFFRE_ASSIGN_OR_RETURN(PgResult result, conn_.Query(sql, params));
    for (int i = 0; i < result.rows(); ++i) {
      COFFRE_RETURN_IF_ERROR(sink(ResultRow(result, i)));
    }
    return Status::Ok();
  }

  Result<int64_t> Exec(const char* sql, const sql::Params& params) override {
    COFFRE_ASSIGN_OR_RETURN(PgResult result, conn_.Query(sql, params));
    return result.affected();
  }

  Result<std::vector<std::vector<std::string>>> QueryText(const char* sql) override {
    return conn_.QueryTextRows(sql);
  }

  Status RunAgain(std::string why) override {
    conn_.MarkRetry();
    return Status::Unavailable("postgres: " + why);
  }

 private:
  Connection& conn_;
};

// Sleeps a little before a retry, longer and randomized as attempts grow, so racing transactions
// spread out.
void Backoff(int attempt) {
  thread_local std::minstd_rand random(
      static_cast<unsigned>(std::hash<std::thread::id>()(std::this_thread::get_id())));
  const int cap_ms = std::min(2 * attempt, 20);
  std::uniform_int_distribution<int> spread(0, cap_ms * 1000);
  std::this_thread::sleep_for(std::chrono::microseconds(500 + spread(random)));
}

class PostgresEngine final : public sql::Engine {
 public:
  static Result<std::unique_ptr<sql::Engine>> Open(const std::string& url) {
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

    std::unique_ptr<PostgresEngine> store(new PostgresEngine(std::move(settings)));
    COFFRE_RETURN_IF_ERROR(store->Migrate());
    return std::unique_ptr<sql::Engine>(std::move(store));
  }

  ~PostgresEngine() override = default;

  Status Run(Mode mode, const std::function<Status(sql::Transaction&)>& fn) override {
    Txn txn = Txn::kWrite;
    switch (mode) {
      case Mode::kRead:
      case Mode::kIdempotentWrite:
        // Autocommit: one statement is its own transaction, safe to repeat after a lost
        // connection.
        txn = Txn::kNone;
        break;
      case Mode::kSnapshot:
        txn = Txn::kSnapshot;
        break;
      case Mode::kWrite:
        break;
    }
    return RunOn(txn, [&](Connection& conn) -> Status {
      PostgresTransaction t(conn);
      return fn(t);
    });
  }

  Status CheckIntegrity(sql::Transaction& txn, std::vector<std::string>* problems) override {
    for (const char* sql : kCatalogChecks) {
      COFFRE_ASSIGN_OR_RETURN(auto rows, txn.QueryText(sql));
      for (size_t i = 0; i < rows.size(); ++i) {
        if (i == static_cast<size_t>(sql::kMaxProblemsPerCheck)) {
          problems->push_back("(more problems of this kind not shown)");
          break;
        }
        problems->push_back(rows[i].empty() ? "?" : rows[i][0]);
      }
    }
    return Status::Ok();
  }

  bool ReadsAreLocal() const override { return false; }
  const char* name() const override { return "postgres"; }

 private:
  enum class Txn {
    kNone,      // autocommit: each statement is its own transaction
    kSnapshot,  // one read-only REPEATABLE READ transaction: several reads, one snapshot
    kWrite,     // one READ COMMITTED transaction, committed if the function succeeds
  };

  explicit PostgresEngine(ConnectSettings settings) : settings_(std::move(settings)) {}

  // Brings the schema up to date in one transaction. The advisory lock makes replicas that start
  // together take turns: the first migrates, the others then find nothing to do.
  Status Migrate() {
    return RunOn(Txn::kWrite, [&](Connection& conn) -> Status {
      COFFRE_RETURN_IF_ERROR(
          conn.QueryOnce(kMigrationLockSql, sql::Params().Int(kMigrationLockKey)).status());
      COFFRE_ASSIGN_OR_RETURN(PgResult exists,
                              conn.QueryOnce(kSchemaTableExistsSql, sql::Params()));
      bool has_table = false;
      if (exists.rows() != 1 || !exists.Bool(0, 0, &has_table))
        return Status::Internal("postgres: unreadable schema table check");
      if (!has_table) COFFRE_RETURN_IF_ERROR(conn.Exec(kCreateSchemaTableSql));
      COFFRE_ASSIGN_OR_RETURN(PgResult current, conn.QueryOnce(kSchemaVersionSql, sql::Params()));
      int64_t version = 0;
      if (current.rows() != 1 || !current.Int(0, 0, &version)) {
        return Status::Internal("postgres: unreadable schema version");
      }
      COFFRE_ASSIGN_OR_RETURN(std::vector<std::string> pending,
                              sql::PendingMigrations(sql::Dialect::kPostgres, version));
      for (const std::string& migration : pending) {
        ++version;
        COFFRE_RETURN_IF_ERROR(conn.Exec(migration.c_str()));
        COFFRE_RETURN_IF_ERROR(
            conn.QueryOnce(kRecordMigrationSql, sql::Params().Int(version)).status());
      }
      return Status::Ok();
    });
  }

  // ---- connection pool

  // A pooled connection, returned to the pool when it goes out of scope.
  class Lease {
   public:
    Lease(PostgresEngine* store, Connection* conn) : store_(store), conn_(conn) {}
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
    PostgresEngine* store_;
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
  auto RunOn(Txn txn, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
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
  COFFRE_ASSIGN_OR_RETURN(std::unique_ptr<sql::Engine> engine, PostgresEngine::Open(url));
  return std::unique_ptr<Store>(std::make_unique<sql::SqlStore>(std::move(engine)));
}

}  // namespace coffre::store
