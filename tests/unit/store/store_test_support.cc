#include "store_test_support.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "postgres_fixture.h"

namespace coffre::store::storetest {
namespace {

class SqliteDatabase final : public TestDatabase {
 public:
  static Result<std::unique_ptr<TestDatabase>> Create() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return Status::Internal("mkdtemp failed");
    return std::unique_ptr<TestDatabase>(new SqliteDatabase(tmpl));
  }
  ~SqliteDatabase() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Backend backend() const override { return Backend::kSqlite; }
  std::string url() const override { return "sqlite:" + path_; }

  Status Exec(const std::string& sql) override {
    sqlite3* db = nullptr;
    if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return Status::Internal("cannot open " + path_);
    }
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    if (rc != SQLITE_OK) return Status::Internal(message);
    return Status::Ok();
  }

  Result<int64_t> QueryInt(const std::string& sql) override {
    sqlite3* db = nullptr;
    if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return Status::Internal("cannot open " + path_);
    }
    sqlite3_stmt* stmt = nullptr;
    Result<int64_t> value = Status::Internal("query failed: " + sql);
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = static_cast<int64_t>(sqlite3_column_int64(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  Status SetFutureSchemaVersion() override { return Exec("PRAGMA user_version = 999"); }

 private:
  explicit SqliteDatabase(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/coffre.db") {}

  std::string dir_;
  std::string path_;
};

class PostgresDatabase final : public TestDatabase {
 public:
  static Result<std::unique_ptr<TestDatabase>> Create() {
    COFFRE_ASSIGN_OR_RETURN(pgtest::PostgresServer * server, pgtest::PostgresServer::Get());
    COFFRE_ASSIGN_OR_RETURN(std::string url, server->CreateSchema());
    return std::unique_ptr<TestDatabase>(new PostgresDatabase(std::move(url)));
  }

  Backend backend() const override { return Backend::kPostgres; }
  std::string url() const override { return url_; }
  Status Exec(const std::string& sql) override { return pgtest::PgExec(url_, sql); }
  Result<int64_t> QueryInt(const std::string& sql) override {
    return pgtest::PgQueryInt(url_, sql);
  }
  Status SetFutureSchemaVersion() override {
    return Exec("INSERT INTO coffre_schema (version, applied) VALUES (999, 0)");
  }

 private:
  explicit PostgresDatabase(std::string url) : url_(std::move(url)) {}

  std::string url_;
};

}  // namespace

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

void PrintTo(Backend backend, std::ostream* os) {
  *os << (backend == Backend::kSqlite ? "Sqlite" : "Postgres");
}

Result<std::unique_ptr<TestDatabase>> TestDatabase::Create(Backend backend) {
  return backend == Backend::kSqlite ? SqliteDatabase::Create() : PostgresDatabase::Create();
}

std::string VersionId(int n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%032x", n);
  return buf;
}

KeyVersionRecord MakeVersion(std::string vault, std::string name, std::string version) {
  KeyVersionRecord r;
  r.vault = std::move(vault);
  r.name = std::move(name);
  r.version = std::move(version);
  r.key_type = "EC";
  r.key_ops = {"sign", "verify"};
  r.created = 1000;
  r.updated = 1000;
  r.tags = {{"env", "test"}};
  r.public_key = {0x30, 0x00, 0x01};
  r.sealed_private_key = {0x01, 0xff, 0x00, 0x7f};
  return r;
}

RotationPolicyRecord MakePolicy(std::string vault, std::string name) {
  RotationPolicyRecord p;
  p.vault = std::move(vault);
  p.name = std::move(name);
  p.actions = {{"Rotate", "timeAfterCreate", "P90D"}, {"Notify", "timeBeforeExpiry", "P30D"}};
  p.expiry_time = "P2Y";
  p.created = 500;
  p.updated = 500;
  return p;
}

void ExpectSamePolicy(const RotationPolicyRecord& got, const RotationPolicyRecord& want) {
  EXPECT_EQ(got.vault, want.vault);
  EXPECT_EQ(got.name, want.name);
  ASSERT_EQ(got.actions.size(), want.actions.size());
  for (size_t i = 0; i < got.actions.size(); ++i) {
    EXPECT_EQ(got.actions[i].action, want.actions[i].action) << i;
    EXPECT_EQ(got.actions[i].trigger, want.actions[i].trigger) << i;
    EXPECT_EQ(got.actions[i].duration, want.actions[i].duration) << i;
  }
  EXPECT_EQ(got.expiry_time, want.expiry_time);
  EXPECT_EQ(got.created, want.created);
  EXPECT_EQ(got.updated, want.updated);
}

void RaceRounds(const std::vector<Store*>& stores, int threads, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    auto latest = stores[0]->GetKeyVersion("v", "k", "");
    ASSERT_TRUE(latest.ok());
    const int64_t expected = latest->sequence;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::atomic<int> won{0};
    std::atomic<int> stale{0};
    std::atomic<int> other{0};
    std::vector<std::thread> racers;
    for (int t = 0; t < threads; ++t) {
      racers.emplace_back([&, t] {
        Store* store = stores[static_cast<size_t>(t) % stores.size()];
        KeyVersionRecord r = MakeVersion("v", "k", VersionId(10000 + round * 100 + t));
        ready++;
        while (!go.load()) std::this_thread::yield();
        Status s = store->AddKeyVersion(r, expected);
        if (s.ok() && r.sequence == expected + 1) {
          won++;
        } else if (s.kind() == ErrorKind::kConflict && s.inner_code() == "stale") {
          stale++;
        } else {
          other++;
        }
      });
    }
    while (ready.load() < threads) std::this_thread::yield();
    go = true;
    for (auto& racer : racers) racer.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(stale.load(), threads - 1) << "round " << round;
    EXPECT_EQ(other.load(), 0) << "round " << round;
    auto after = stores[0]->GetKeyVersion("v", "k", "");
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->sequence, expected + 1);
  }
}

void StoreTest::SetUp() {
  auto db = TestDatabase::Create(GetParam());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_ = std::move(db).value();
  Reopen();
}

void StoreTest::TearDown() {
  store_.reset();
  db_.reset();
}

void StoreTest::Reopen() {
  store_.reset();
  auto opened = db_->Open();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(opened).value();
}

void StoreTest::PutVault(const std::string& name) {
  VaultRecord v;
  v.name = name;
  v.created = 1;
  ASSERT_TRUE(store_->PutVault(v).ok());
}

int64_t StoreTest::Add(const std::string& vault, const std::string& name,
                       const std::string& version) {
  KeyVersionRecord r = MakeVersion(vault, name, version);
  Status s = store_->AddKeyVersion(r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return s.ok() ? r.sequence : 0;
}

void StoreTest::RawExec(const std::string& sql) {
  Status s = db_->Exec(sql);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

int64_t StoreTest::RawInt(const std::string& sql) {
  auto value = db_->QueryInt(sql);
  return value.ok() ? *value : -1;
}

int64_t StoreTest::Latest(const std::string& vault, const std::string& name) {
  auto latest = store_->GetKeyVersion(vault, name, "");
  EXPECT_TRUE(latest.ok()) << latest.status().ToString();
  return latest.ok() ? latest->sequence : 0;
}

}  // namespace coffre::store::storetest
