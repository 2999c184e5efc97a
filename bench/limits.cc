// bench-limits: the machine's own ceilings for what Coffre does per request, measured with the
// same libraries the server links (OpenSSL, SQLite). `make bench` runs one process per core for
// the CPU-bound modes and sums their rates; the disk modes run in one process.
//
//   bench-limits keygen rsa2048|ec-p256 SECONDS   key pairs generated per second (EVP_PKEY_keygen)
//   bench-limits aeskw SECONDS                    A256KW wraps of a 32-byte key (RFC 3394),
//                                                 cipher context set up per wrap as a server must
//   bench-limits sqlite DIR SECONDS               durable single-row commits per second: WAL,
//                                                 synchronous=FULL, one INSERT per transaction
//   bench-limits fsync DIR SECONDS                append 200 bytes + fdatasync, per second (and
//                                                 the p50/p99 latency of one such sync)
//
// Every loop is bounded by time (SECONDS, at most 120) and by a count (10,000,000).
// Output: one JSON object on stdout, e.g. {"mode":"keygen","what":"rsa2048","ops":40,"seconds":5.01}.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr long kMaxOps = 10'000'000;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench-limits: %s\n", what.c_str());
  std::exit(1);
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Runs op() until `seconds` have passed (checked every call) or kMaxOps; returns {ops, elapsed}.
template <typename Op>
std::pair<long, double> Loop(double seconds, Op op) {
  auto start = Clock::now();
  long ops = 0;
  while (ops < kMaxOps && Seconds(start) < seconds) {
    op();
    ++ops;
  }
  return {ops, Seconds(start)};
}

void Print(const char* mode, const std::string& what, long ops, double elapsed) {
  std::printf("{\"mode\":\"%s\",\"what\":\"%s\",\"ops\":%ld,\"seconds\":%.4f,\"rate\":%.2f}\n", mode,
              what.c_str(), ops, elapsed, ops / elapsed);
}

void Keygen(const std::string& what, double seconds) {
  auto op = [&] {
    EVP_PKEY* key = nullptr;
    if (what == "rsa2048") {
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    } else if (what == "ec-p256") {
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    } else {
      Die("unknown key type " + what);
    }
    if (key == nullptr) Die("key generation failed");
    EVP_PKEY_free(key);
  };
  auto [ops, elapsed] = Loop(seconds, op);
  Print("keygen", what, ops, elapsed);
}

void AesKw(double seconds) {
  unsigned char kek[32], cek[32], out[48];
  RAND_bytes(kek, sizeof kek);
  RAND_bytes(cek, sizeof cek);
  auto op = [&] {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    int len = 0, fin = 0;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_wrap(), nullptr, kek, nullptr) != 1 ||
        EVP_EncryptUpdate(ctx, out, &len, cek, sizeof cek) != 1 ||
        EVP_EncryptFinal_ex(ctx, out + len, &fin) != 1 || len + fin != 40) {
      Die("AES key wrap failed");
    }
    EVP_CIPHER_CTX_free(ctx);
  };
  auto [ops, elapsed] = Loop(seconds, op);
  Print("aeskw", "a256kw-32B", ops, elapsed);
}

void Sqlite(const std::string& dir, double seconds) {
  std::string path = dir + "/commit-rate.db";
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("cannot open " + path);
  const char* setup =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, name TEXT, blob BLOB);";
  if (sqlite3_exec(db, setup, nullptr, nullptr, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(db));
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO t(name, blob) VALUES(?, randomblob(400))", -1, &insert,
                         nullptr) != SQLITE_OK) {
    Die(sqlite3_errmsg(db));
  }
  long n = 0;
  auto op = [&] {
    std::string name = "key-" + std::to_string(n++);
    sqlite3_bind_text(insert, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(insert) != SQLITE_DONE) Die(sqlite3_errmsg(db));
    sqlite3_reset(insert);
  };
  auto [ops, elapsed] = Loop(seconds, op);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  Print("sqlite", "wal-sync-full-1-row", ops, elapsed);
}

void Fsync(const std::string& dir, double seconds) {
  std::string path = dir + "/fsync-rate.dat";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) Die("cannot open " + path);
  char line[200];
  std::memset(line, 'x', sizeof line);
  line[sizeof line - 1] = '\n';
  std::vector<double> latencies_us;
  auto op = [&] {
    auto t0 = Clock::now();
    if (::write(fd, line, sizeof line) != static_cast<ssize_t>(sizeof line)) Die("write failed");
    if (::fdatasync(fd) != 0) Die("fdatasync failed");
    latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  };
  auto [ops, elapsed] = Loop(seconds, op);
  ::close(fd);
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) {
    return latencies_us.empty() ? 0.0 : latencies_us[static_cast<size_t>(p * (latencies_us.size() - 1))];
  };
  std::printf("{\"mode\":\"fsync\",\"what\":\"append-200B-fdatasync\",\"ops\":%ld,\"seconds\":%.4f,"
              "\"rate\":%.2f,\"p50_us\":%.0f,\"p99_us\":%.0f}\n",
              ops, elapsed, ops / elapsed, pct(0.50), pct(0.99));
}

}  // namespace

int main(int argc, char** argv) {
  auto usage = [] {
    Die("usage: bench-limits keygen rsa2048|ec-p256 SECONDS | aeskw SECONDS | "
        "sqlite DIR SECONDS | fsync DIR SECONDS");
  };
  if (argc < 3) usage();
  std::string mode = argv[1];
  double seconds = std::atof(argv[argc - 1]);
  if (!(seconds > 0 && seconds <= 120)) Die("SECONDS must be in (0, 120]");
  if (mode == "keygen" && argc == 4) {
    Keygen(argv[2], seconds);
  } else if (mode == "aeskw" && argc == 3) {
    AesKw(seconds);
  } else if (mode == "sqlite" && argc == 4) {
    Sqlite(argv[2], seconds);
  } else if (mode == "fsync" && argc == 4) {
    Fsync(argv[2], seconds);
  } else {
    usage();
  }
  return 0;
}
