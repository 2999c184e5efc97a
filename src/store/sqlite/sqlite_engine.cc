// The SQLite engine under the record layer (store/sql): connections, readers, WAL, group commit
// and migrations.
//
// Concurrency: one writer connection behind a mutex (SQLite serializes writers anyway) and a small
// pool of reader connections. In WAL mode readers see the last committed snapshot and never block
// the writer, so reads scale with the pool while writes queue on the mutex. Each connection is
// opened NOMUTEX and used by one thread at a time under our own locking, and keeps its prepared
// statements for its lifetime. With one writer at a time, the row locks the shared SQL asks for
// (FOR UPDATE, FOR SHARE) are implied, and ToSqlite drops them.
//
// Another process (the `coffre principal create` CLI) may open the same file while the server
// runs: write transactions start with BEGIN IMMEDIATE and every connection has a busy timeout, so
// the two simply take turns.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

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
#include "store/sql/schema.h"
#include "store/sql/sql_engine.h"
#include "store/sql/sql_store.h"
#include "store/store.h"

namespace coffre::store {
namespace {

constexpr int kBusyTimeoutMs = 10'000;
constexpr int kReaderCount = 4;

// ---------------------------------------------------------------------------------------------
// Schema (store/sql/schema.cc). Migrations are applied in order at open, each database
// remembering how many it has in PRAGMA user_version.

constexpr char kIntegrityCheckSql[] = "PRAGMA integrity_check";
constexpr char kForeignKeyCheckSql[] = "PRAGMA foreign_key_check";

// The shared SQL (store/sql/sql_engine.h) in SQLite's spelling: numbered parameters "$N" become
// "?N", and row-lock clauses go (one writer at a time holds every lock there is).
std::string ToSqlite(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      continue;
    }
    bool dropped = false;
    for (std::string_view lock : {" FOR UPDATE", " FOR SHARE", " FOR KEY SHARE"}) {
      if (sql.substr(i).starts_with(lock)) {
        i += lock.size() - 1;
        dropped = true;
        break;
      }
    }
    if (!dropped) out.push_back(sql[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers.

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

  // Binds every parameter, $1 first. Values are copied (SQLITE_TRANSIENT).
  void Bind(const sql::Params& params) {
    for (const sql::Params::Value& value : params.values()) {
      const int index = ++index_;
      switch (value.type) {
        case sql::Params::Type::kNull:
          Check(sqlite3_bind_null(stmt_, index));
          break;
        case sql::Params::Type::kInt:
        case sql::Params::Type::kBool:
          Check(sqlite3_bind_int64(stmt_, index, value.number));
          break;
        case sql::Params::Type::kText:
        case sql::Params::Type::kDocument:
          Check(sqlite3_bind_text64(stmt_, index, value.bytes.data(), value.bytes.size(),
                                    SQLITE_TRANSIENT, SQLITE_UTF8));
          break;
        case sql::Params::Type::kBlob:
          // A null pointer would bind SQL NULL; an empty value must stay an (empty) BLOB.
          if (value.bytes.empty()) {
            Check(sqlite3_bind_zeroblob(stmt_, index, 0));
          } else {
            Check(sqlite3_bind_blob64(stmt_, index, value.bytes.data(), value.bytes.size(),
                                      SQLITE_TRANSIENT));
          }
          break;
      }
    }
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

  // Column readers check the storage class so an odd row yields an error, not garbage.
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  bool Int(int col, int64_t* out) const {
    if (sqlite3_column_type(stmt_, col) != SQLITE_INTEGER) return false;
    *out = sqlite3_column_int64(stmt_, col);
    return true;
  }
  bool Bool(int col, bool* out) const {
    int64_t value = 0;
    if (!Int(col, &value) || (value != 0 && value != 1)) return false;
    *out = value == 1;
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
    // No SQLITE_OPEN_CREATE: SqliteEngine::Open creates the file itself to control its mode.
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
      if (AsciiLower(*mode) != "wal") {
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

  // `sql` (shared SQL, see ToSqlite) must be a string with static storage: it is the cache key.
  Result<Statement> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      const std::string text = ToSqlite(sql);
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v3(db_, text.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
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

  int64_t Changes() const { return sqlite3_changes64(db_); }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// Rolls back on scope exit unless committed, so every early error return leaves no transaction
// open on a pooled connection.
class TransactionGuard {
 public:
  explicit TransactionGuard(Connection& conn) : conn_(conn) {}
  TransactionGuard(const TransactionGuard&) = delete;
  TransactionGuard& operator=(const TransactionGuard&) = delete;
  ~TransactionGuard() {
    if (conn_.InTransaction()) sqlite3_exec(conn_.db(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Status Begin(bool immediate) { return conn_.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"); }
  Status Commit() { return conn_.Exec("COMMIT"); }

 private:
  Connection& conn_;
};

// The current row of a stepping statement.
class StatementRow final : public sql::Row {
 public:
  explicit StatementRow(const Statement& st) : st_(st) {}
  using Row::Int;
  bool IsNull(int col) const override { return st_.IsNull(col); }
  bool Int(int col, int64_t* out) const override { return st_.Int(col, out); }
  bool Bool(int col, bool* out) const override { return st_.Bool(col, out); }
  bool Text(int col, std::string* out) const override { return st_.Text(col, out); }
  bool Blob(int col, Bytes* out) const override { return st_.Blob(col, out); }
  bool Document(int col, std::string* out) const override { return st_.Text(col, out); }

 private:
  const Statement& st_;
};

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

// The record layer's view of a connection: inside a transaction (or savepoint) the engine opened,
// or, for single-statement reads, on a reader in autocommit.
class SqliteTransaction final : public sql::Transaction {
 public:
  explicit SqliteTransaction(Connection& conn) : conn_(conn) {}

  Status Query(const char* sql, const sql::Params& params, const sql::RowSink& sink) override {
    COFFRE_ASSIGN_OR_RETURN(Statement st, conn_.Prepare(sql));
    st.Bind(params);
    StatementRow row(st);
    while (true) {
      COFFRE_ASSIGN_OR_RETURN(bool has_row, st.Step());
      if (!has_row) return Status::Ok();
      COFFRE_RETURN_IF_ERROR(sink(row));
    }
  }

  Result<int64_t> Exec(const char* sql, const sql::Params& params) override {
    COFFRE_ASSIGN_OR_RETURN(Statement st, conn_.Prepare(sql));
    st.Bind(params);
    COFFRE_RETURN_IF_ERROR(st.Run());
    return conn_.Changes();
  }

  Result<std::vector<std::vector<std::string>>> QueryText(const char* sql) override {
    return QueryTextRows(conn_, sql);
  }

  Status RunAgain(std::string why) override {
    // Writers take turns, so no other transaction can change what this one read.
    return Status::Internal("sqlite: " + why);
  }

 private:
  Connection& conn_;
};

// ---------------------------------------------------------------------------------------------

class SqliteEngine final : public sql::Engine {
 public:
  static Result<std::unique_ptr<sql::Engine>> Open(const std::string& path) {
    // Create the file ourselves so it is never readable by others, not even for a moment;
    // SQLite gives its -wal and -shm files the same mode.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status::Internal("sqlite: cannot open " + path + ": " + std::strerror(errno));
    }
    ::close(fd);

    std::unique_ptr<SqliteEngine> store(new SqliteEngine());
    COFFRE_ASSIGN_OR_RETURN(store->writer_, Connection::Open(path, /*writer=*/true));
    COFFRE_RETURN_IF_ERROR(store->Migrate());
    for (int i = 0; i < kReaderCount; ++i) {
      COFFRE_ASSIGN_OR_RETURN(auto reader, Connection::Open(path, /*writer=*/false));
      store->free_readers_.push_back(reader.get());
      store->readers_.push_back(std::move(reader));
    }
    return std::unique_ptr<sql::Engine>(std::move(store));
  }

  Status Run(Mode mode, const std::function<Status(sql::Transaction&)>& fn) override {
    auto run = [&](Connection& conn) -> Status {
      SqliteTransaction txn(conn);
      return fn(txn);
    };
    switch (mode) {
      case Mode::kRead:
        return Read(/*snapshot=*/false, run);
      case Mode::kSnapshot:
        return Read(/*snapshot=*/true, run);
      case Mode::kWrite:
      case Mode::kIdempotentWrite:
        break;
    }
    return Write(run);
  }

  Status CheckIntegrity(sql::Transaction& txn, std::vector<std::string>* problems) override {
    COFFRE_ASSIGN_OR_RETURN(auto integrity, txn.QueryText(kIntegrityCheckSql));
    for (const auto& row : integrity) {
      if (row.size() == 1 && row[0] == "ok") continue;
      problems->push_back("sqlite integrity check: " + (row.empty() ? "?" : row[0]));
    }
    COFFRE_ASSIGN_OR_RETURN(auto dangling, txn.QueryText(kForeignKeyCheckSql));
    for (const auto& row : dangling) {
      // table, rowid, parent table, foreign key index
      if (row.size() < 3) continue;
      problems->push_back("row " + row[1] + " of table " + row[0] +
                          " refers to a missing row of table " + row[2]);
    }
    return Status::Ok();
  }

  bool ReadsAreLocal() const override { return true; }
  const char* name() const override { return "sqlite"; }

 private:
  SqliteEngine() = default;

  // Brings the schema up to date in one transaction. BEGIN IMMEDIATE serializes this with a
  // second process opening the same file at the same moment.
  Status Migrate() {
    TransactionGuard txn(*writer_);
    COFFRE_RETURN_IF_ERROR(txn.Begin(/*immediate=*/true));
    COFFRE_ASSIGN_OR_RETURN(std::string text, writer_->QueryText("PRAGMA user_version"));
    int version = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc() || end != text.data() + text.size() || version < 0) {
      return Status::Internal("sqlite: unreadable schema version");
    }
    COFFRE_ASSIGN_OR_RETURN(std::vector<std::string> pending,
                            sql::PendingMigrations(sql::Dialect::kSqlite, version));
    if (pending.empty()) return Status::Ok();  // rolls back the empty transaction
    for (const std::string& migration : pending) {
      COFFRE_RETURN_IF_ERROR(writer_->Exec(migration.c_str()));
    }
    // PRAGMA takes no parameters; the value is our own integer.
    const int64_t current = version + static_cast<int64_t>(pending.size());
    std::string set_version = "PRAGMA user_version=" + std::to_string(current);
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
    TransactionGuard txn(*writer_);
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
      SqliteEngine* store;
      Connection* conn;
      ~Release() {
        {
          std::lock_guard<std::mutex> lock(store->readers_mu_);
          store->free_readers_.push_back(conn);
        }
        store->readers_cv_.notify_one();
      }
    } release{this, conn};
    TransactionGuard txn(*conn);  // declared after `release`, so it ends before the reader returns
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
  COFFRE_ASSIGN_OR_RETURN(std::unique_ptr<sql::Engine> engine, SqliteEngine::Open(path));
  return std::unique_ptr<Store>(std::make_unique<sql::SqlStore>(std::move(engine)));
}

}  // namespace coffre::store
