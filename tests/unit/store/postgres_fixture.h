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
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

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
  // URL of a database on this server, as user "coffre" (no password: trust authentication).
  std::string Url(const std::string& database) const;
  int port() const { return port_; }

 private:
  PostgresServer() = default;
  Status Start();
  void Stop();

  std::string bin_dir_;
  std::string dir_;  // temporary directory: data/, the socket, logs
  bool as_postgres_user_ = false;
  int port_ = 0;
  bool running_ = false;
  std::mutex mu_;
  int databases_ = 0;
  int schemas_ = 0;
  std::string shared_database_;
};

// Runs SQL (one or more statements, no parameters) on the database at `url`.
Status PgExec(const std::string& url, const std::string& sql);
// The first column of the first row of a query, as an integer / as text.
Result<int64_t> PgQueryInt(const std::string& url, const std::string& sql);
Result<std::string> PgQueryText(const std::string& url, const std::string& sql);

}  // namespace coffre::store::pgtest
