#include "postgres_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace coffre::store::pgtest {
namespace {

namespace fs = std::filesystem;

constexpr char kUser[] = "coffre";
constexpr char kInstallHint[] =
    "PostgreSQL server binaries (initdb, pg_ctl) are needed for the PostgreSQL store tests: run "
    "`make deps` (installs the Debian package postgresql) or set COFFRE_PG_BINDIR";

bool IsExecutable(const fs::path& path) { return ::access(path.c_str(), X_OK) == 0; }

// $COFFRE_PG_BINDIR, else the newest /usr/lib/postgresql/<major>/bin holding initdb and pg_ctl.
std::string FindBinDir() {
  if (const char* env = std::getenv("COFFRE_PG_BINDIR"); env != nullptr && *env != '\0') {
    return IsExecutable(fs::path(env) / "initdb") ? env : "";
  }
  std::error_code ec;
  std::string best;
  int best_major = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    fs::path bin = entry.path() / "bin";
    if (!IsExecutable(bin / "initdb") || !IsExecutable(bin / "pg_ctl")) continue;
    std::string name = entry.path().filename().string();
    int major = 0;
    std::from_chars(name.data(), name.data() + name.size(), major);
    if (major > best_major) {
      best_major = major;
      best = bin.string();
    }
  }
  return best;
}

std::string FindRunuser() {
  for (const char* path : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
    if (IsExecutable(path)) return path;
  }
  return "";
}

std::string ReadTail(const std::string& path, size_t max = 2000) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  return s.size() > max ? "..." + s.substr(s.size() - max) : s;
}

// Runs argv[0] (an absolute path) with stdin from /dev/null and stdout/stderr appended to
// `log`, in directory `cwd`; returns its exit status (-1 if it could not run).
int RunCommand(const std::vector<std::string>& argv, const std::string& log,
               const std::string& cwd) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Only async-signal-safe calls here. The server pg_ctl starts inherits these descriptors, so
    // it must not keep the test's stdout (ctest would wait for it to close).
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0 ||
        ::chdir(cwd.c_str()) != 0) {
      ::_exit(126);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultCloser {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultCloser>;

Result<ConnPtr> Connect(const std::string& url) {
  ConnPtr conn(PQconnectdb(url.c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Internal("cannot connect to the test PostgreSQL: " +
                            std::string(conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

Result<std::string> QueryText(const std::string& url, const std::string& sql, bool want_row) {
  COFFRE_ASSIGN_OR_RETURN(ConnPtr conn, Connect(url));
  ResultPtr result(PQexec(conn.get(), sql.c_str()));
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Status::Internal("test SQL failed: " + std::string(PQerrorMessage(conn.get())) +
                            " in: " + sql);
  }
  if (!want_row) return std::string();
  if (status != PGRES_TUPLES_OK || PQntuples(result.get()) < 1 || PQnfields(result.get()) < 1 ||
      PQgetisnull(result.get(), 0, 0)) {
    return Status::NotFound("NoRow", "test query returned no value: " + sql);
  }
  return std::string(PQgetvalue(result.get(), 0, 0));
}

std::mutex g_mu;
PostgresServer* g_server = nullptr;
bool g_failed = false;
Status g_failure;

class PostgresEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { PostgresServer::Shutdown(); }
};

[[maybe_unused]] ::testing::Environment* const g_environment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

}  // namespace

Result<PostgresServer*> PostgresServer::Get() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_server != nullptr) return g_server;
  if (g_failed) return g_failure;  // do not retry a slow failure for every test
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->prefix_ = "coffre_test_" + std::to_string(::getpid()) + "_";
  Status started;
  // Under ctest one shared server (fixture "postgres") writes its URL to a file.
  std::string shared_url;
  if (const char* file = std::getenv("COFFRE_TEST_PG_URL_FILE"); file != nullptr && *file) {
    std::ifstream in(file);
    std::getline(in, shared_url);
  }
  const char* url = std::getenv("COFFRE_TEST_PG_URL");
  if (!shared_url.empty()) url = shared_url.c_str();
  if (url != nullptr && *url != '\0') {
    server->external_ = true;
    server->base_url_ = url;
    while (!server->base_url_.empty() && server->base_url_.back() == '/') {
      server->base_url_.pop_back();
    }
    started = PgExec(server->Url("postgres"), "SELECT 1");
  } else {
    started = server->Start();
  }
  if (!started.ok()) {
    server->Stop();
    g_failed = true;
    g_failure = started;
    return started;
  }
  g_server = server.release();
  return g_server;
}

void PostgresServer::Shutdown() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_server == nullptr) return;
  g_server->Stop();
  delete g_server;
  g_server = nullptr;
}

Status PostgresServer::Start() {
  bin_dir_ = FindBinDir();
  if (bin_dir_.empty()) return Status::Internal(kInstallHint);

  std::string tmpl = (fs::temp_directory_path() / "coffre-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return Status::Internal("mkdtemp failed");
  dir_ = tmpl;

  std::vector<std::string> prefix;
  if (::geteuid() == 0) {
    // initdb refuses to run as root: run the server as the postgres user.
    const passwd* pw = ::getpwnam("postgres");
    std::string runuser = FindRunuser();
    if (pw == nullptr || runuser.empty()) {
      return Status::Internal(
          "running as root, the PostgreSQL tests need the 'postgres' user and runuser: " +
          std::string(kInstallHint));
    }
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Status::Internal("cannot chown " + dir_ + " to postgres");
    }
    prefix = {runuser, "-u", "postgres", "--"};
    as_postgres_user_ = true;
  }
  auto command = [&](std::vector<std::string> args) {
    args.insert(args.begin(), prefix.begin(), prefix.end());
    return args;
  };

  const std::string data = dir_ + "/data";
  const std::string initdb_log = dir_ + "/initdb.log";
  // --no-sync: a throwaway cluster need not be flushed at creation; the server itself runs with
  // fsync on.
  int rc = RunCommand(command({bin_dir_ + "/initdb", "-D", data, "-U", kUser, "--auth=trust",
                               "--no-sync", "--encoding=UTF8"}),
                      initdb_log, dir_);
  if (rc != 0) {
    return Status::Internal("initdb failed (exit " + std::to_string(rc) +
                            "): " + ReadTail(initdb_log));
  }

  const std::string ctl_log = dir_ + "/pg_ctl.log";
  const std::string server_log = dir_ + "/server.log";
  for (int attempt = 0; attempt < 3 && !running_; ++attempt) {
    const int port = FreeLoopbackPort();
    if (port == 0) return Status::Internal("no free loopback port");
    base_url_ = "postgresql://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port);
    const std::string options = "-k " + dir_ + " -c listen_addresses=127.0.0.1 -p " +
                                std::to_string(port) + " -c fsync=on -c max_connections=200";
    rc = RunCommand(command({bin_dir_ + "/pg_ctl", "-D", data, "-o", options, "-l", server_log,
                             "-w", "-t", "60", "start"}),
                    ctl_log, dir_);
    running_ = rc == 0;  // a port taken meanwhile fails the start: try another
  }
  if (!running_) {
    return Status::Internal("pg_ctl start failed: " + ReadTail(ctl_log) + "\n" +
                            ReadTail(server_log));
  }
  return Status::Ok();
}

void PostgresServer::Stop() {
  if (external_) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& database : databases_) {
      (void)PgExec(Url("postgres"), "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
    databases_.clear();
    return;
  }
  if (running_) {
    // Immediate: the data is thrown away, so no shutdown checkpoint.
    std::vector<std::string> args = {bin_dir_ + "/pg_ctl", "stop", "-w", "-m", "immediate"};
    args.insert(args.end(), {"-D", dir_ + "/data"});
    if (as_postgres_user_) {
      args.insert(args.begin(), {FindRunuser(), "-u", "postgres", "--"});
    }
    RunCommand(args, dir_ + "/pg_ctl.log", dir_);
    running_ = false;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PostgresServer::Url(const std::string& database) const {
  return base_url_ + "/" + database;
}

Result<std::string> PostgresServer::CreateDatabase() {
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    name = prefix_ + std::to_string(databases_.size() + 1);
    databases_.push_back(name);
  }
  COFFRE_RETURN_IF_ERROR(PgExec(Url("postgres"), "CREATE DATABASE " + name));
  return Url(name);
}

Result<std::string> PostgresServer::CreateSchema() {
  std::string schema;
  std::string database;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shared_database_.empty()) {
      const std::string name = prefix_ + "shared";
      databases_.push_back(name);
      COFFRE_RETURN_IF_ERROR(PgExec(Url("postgres"), "CREATE DATABASE " + name));
      shared_database_ = name;
    }
    database = shared_database_;
    schema = "s" + std::to_string(++schemas_);
  }
  COFFRE_RETURN_IF_ERROR(PgExec(Url(database), "CREATE SCHEMA " + schema));
  return Url(database) + "?options=-c%20search_path%3D" + schema;
}

Status PgExec(const std::string& url, const std::string& sql) {
  return QueryText(url, sql, /*want_row=*/false).status();
}

Result<int64_t> PgQueryInt(const std::string& url, const std::string& sql) {
  COFFRE_ASSIGN_OR_RETURN(std::string text, QueryText(url, sql, /*want_row=*/true));
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::Internal("test query returned a non-integer: " + text);
  }
  return value;
}

Result<std::string> PgQueryText(const std::string& url, const std::string& sql) {
  return QueryText(url, sql, /*want_row=*/true);
}

}  // namespace coffre::store::pgtest
