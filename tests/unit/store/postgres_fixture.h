// A private PostgreSQL server for the store tests.
//
// The first test that needs PostgreSQL starts one for the whole test process: initdb into a
// temporary directory, pg_ctl start on a free loopback port (socket in the same directory,
// fsync on), trust authentication for the user "coffre". A GoogleTest global environment stops it
// and deletes the directory when the tests end. Test processes that run no PostgreSQL test (e.g.
// one SQLite test under ctest) never start it.
//
// As root, initdb refuses to run, so the server runs as the "postgres" user (created by Debian's
// postgresql package) via runuser. If the PostgreSQL binaries are missing, Get() fails with a
// message saying to run `make deps`: the PostgreSQL tests then fail, they do not skip.
//
// The binaries are looked for in $COFFRE_PG_BINDIR if set, else in the newest
// /usr/lib/postgresql/*/bin.
//
// With $COFFRE_TEST_PG_URL set (e.g. "postgresql://coffre@127.0.0.1:5432", no database), the tests
// use that server instead of starting one (a CI service, another PostgreSQL version, or one
// server shared by the processes of a ctest run). They create databases named coffre_test_<pid>_*
// there, which need the CREATEDB privilege, and drop them at the end.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "coffre/status.h"

namespace coffre::store::pgtest {

class PostgresServer {
 public:
  // The running server, started on the first call. Thread-safe.
  static Result<PostgresServer*> Get();
  // Stops the server, if one was started, and deletes its files (the global environment calls it).
  static void Shutdown();

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates a new, empty database; returns its URL.
  Result<std::string> CreateDatabase();
  // Creates a new, empty schema in a database the tests share and returns a URL whose sessions
  // work in it (search_path): as fresh as a new database for the store, and much cheaper.
  Result<std::string> CreateSchema();
  // URL of a database on this server (ours: as user "coffre", trust authentication).
  std::string Url(const std::string& database) const;

 private:
  PostgresServer() = default;
  Status Start();
  void Stop();

  std::string base_url_;   // "postgresql://user@host:port", no database
  bool external_ = false;  // $COFFRE_TEST_PG_URL: not ours to start or stop
  std::string bin_dir_;
  std::string dir_;  // temporary directory: data/, the socket, logs
  bool as_postgres_user_ = false;
  bool running_ = false;
  std::mutex mu_;
  std::string prefix_;  // of our database names: unique to this process
  std::vector<std::string> databases_;
  int schemas_ = 0;
  std::string shared_database_;
};

// Runs SQL (one or more statements, no parameters) on the database at `url`.
Status PgExec(const std::string& url, const std::string& sql);
// The first column of the first row of a query, as an integer / as text.
Result<int64_t> PgQueryInt(const std::string& url, const std::string& sql);
Result<std::string> PgQueryText(const std::string& url, const std::string& sql);

}  // namespace coffre::store::pgtest
