// Shared pieces of the store tests: a test database per backend, the backend-parameterized
// fixture of the conformance suite, and record builders.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "coffre/status.h"
#include "gtest/gtest.h"
#include "store/store.h"

namespace coffre::store::storetest {

enum class Backend { kSqlite, kPostgres };

// "Sqlite" / "Postgres", for parameterized test names and messages.
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);
void PrintTo(Backend backend, std::ostream* os);

// A fresh, empty database of one backend, deleted when this object goes.
class TestDatabase {
 public:
  // kPostgres starts the test server on first use (postgres_fixture.h); its failure is returned.
  static Result<std::unique_ptr<TestDatabase>> Create(Backend backend);
  virtual ~TestDatabase() = default;

  virtual Backend backend() const = 0;
  // What OpenStore takes to open this database.
  virtual std::string url() const = 0;
  // Opens a store on this database (another one each call, as another process would).
  Result<std::unique_ptr<Store>> Open() { return OpenStore(url()); }
  // Runs raw SQL against the database, bypassing the store, as an operator or an attacker might.
  virtual Status Exec(const std::string& sql) = 0;
  // First column of the first row of a raw query.
  virtual Result<int64_t> QueryInt(const std::string& sql) = 0;
  // Records a schema version newer than this build knows.
  virtual Status SetFutureSchemaVersion() = 0;
};

std::string VersionId(int n);
KeyVersionRecord MakeVersion(std::string vault, std::string name, std::string version);
RotationPolicyRecord MakePolicy(std::string vault, std::string name);
void ExpectSamePolicy(const RotationPolicyRecord& got, const RotationPolicyRecord& want);

// Several callers decide to rotate on the same snapshot: exactly one rotation lands per round.
// Threads use the stores in turn.
void RaceRounds(const std::vector<Store*>& stores, int threads, int rounds);

// The conformance suite's fixture: a fresh database and an open store per test, for each backend.
class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  bool postgres() const { return GetParam() == Backend::kPostgres; }
  void Reopen();
  void PutVault(const std::string& name);
  // Adds a version and returns its sequence (0 on failure, which the caller's checks catch).
  int64_t Add(const std::string& vault, const std::string& name, const std::string& version);
  // Raw SQL, as an operator or an attacker might run it.
  void RawExec(const std::string& sql);
  // First column of the first row of a raw query; -1 on any failure.
  int64_t RawInt(const std::string& sql);
  // Sequence of the key's latest version.
  int64_t Latest(const std::string& vault, const std::string& name);

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
};

}  // namespace coffre::store::storetest
