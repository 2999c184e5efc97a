// SQLite-only tests of the SQLite Store's schema: version numbers, STRICT tables and migration of
// databases written by earlier builds. Rotation behaviour is tested against every backend in
// store_rotation_conformance_test.cc.
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_support.h"

namespace coffre::store {
namespace {

using storetest::ExpectSamePolicy;
using storetest::MakePolicy;
using storetest::MakeVersion;
using storetest::VersionId;
using ::testing::Test;

// The schema version a fresh database gets (the number of migrations): bump with every migration.
constexpr int kCurrentSchemaVersion = 8;  // 7: (certificates), 8: users, ARM

// Schema migration #1 as released: a database created by the previous build.
constexpr const char kSchemaV1[] = R"sql(
CREATE TABLE vaults (
  name TEXT PRIMARY KEY,
  retention_days INTEGER NOT NULL,
  purge_protection INTEGER NOT NULL,
  created INTEGER NOT NULL
) STRICT;

CREATE TABLE keys (
  vault TEXT NOT NULL REFERENCES vaults (name),
  name_key TEXT NOT NULL,
  name TEXT NOT NULL,
  deleted_date INTEGER,
  scheduled_purge_date INTEGER,
  next_sequence INTEGER NOT NULL,
  PRIMARY KEY (vault, name_key),
  CHECK ((deleted_date IS NULL) = (scheduled_purge_date IS NULL))
) STRICT;
CREATE INDEX keys_by_purge_date ON keys (scheduled_purge_date) WHERE deleted_date IS NOT NULL;

CREATE TABLE key_versions (
  vault TEXT NOT NULL,
  name_key TEXT NOT NULL,
  version TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  key_type TEXT NOT NULL,
  key_ops TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  not_before INTEGER,
  expires INTEGER,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  tags TEXT NOT NULL,
  public_key BLOB NOT NULL,
  sealed_private_key BLOB NOT NULL,
  PRIMARY KEY (vault, name_key, version),
  UNIQUE (vault, name_key, sequence),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
) STRICT;

CREATE TABLE principals (
  name_key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  client_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
  object_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
)sql";

// Schema migration #2 as released.
constexpr const char kSchemaV2[] = R"sql(
CREATE TABLE rotation_policies (
  vault TEXT NOT NULL,
  name_key TEXT NOT NULL,
  actions TEXT NOT NULL,
  expiry_time TEXT,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (vault, name_key),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
) STRICT;

CREATE TABLE key_events (
  id INTEGER PRIMARY KEY,
  vault TEXT NOT NULL,
  name_key TEXT NOT NULL,
  version TEXT NOT NULL,
  kind TEXT NOT NULL,
  time INTEGER NOT NULL,
  UNIQUE (vault, name_key, version, kind),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
) STRICT;
)sql";

class SqliteStoreRotationTest : public Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/coffre.db";
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    store_.reset();
    auto opened = OpenSqliteStore(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  void PutVault(const std::string& name) {
    VaultRecord v;
    v.name = name;
    v.created = 1;
    ASSERT_TRUE(store_->PutVault(v).ok());
  }

  // Adds a version and returns its sequence (0 on failure, which the caller's checks catch).
  int64_t Add(const std::string& vault, const std::string& name, const std::string& version) {
    KeyVersionRecord r = MakeVersion(vault, name, version);
    Status s = store_->AddKeyVersion(r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return s.ok() ? r.sequence : 0;
  }

  // Runs raw SQL against the database file, bypassing the store.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  // First column of the first row of a raw query; -1 on any failure.
  int64_t RawInt(const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return -1;
    }
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

// ---- schema

TEST_F(SqliteStoreRotationTest, FreshDatabaseIsAtCurrentSchemaVersionWithStrictTables) {
  PutVault("v");
  EXPECT_EQ(RawInt("PRAGMA user_version"), kCurrentSchemaVersion);
  for (const char* table :
       {"rotation_policies", "key_events", "job_leases", "access_policies", "role_assignments"}) {
    EXPECT_EQ(
        RawInt(std::string("SELECT strict FROM pragma_table_list WHERE name = '") + table + "'"), 1)
        << table;
  }
  // Reopening an up-to-date database changes nothing and keeps the data.
  Add("v", "k", VersionId(1));
  ASSERT_TRUE(store_->PutRotationPolicy(MakePolicy("v", "k")).ok());
  ASSERT_TRUE(store_->RecordKeyEvent({"v", "k", VersionId(1), "NearExpiry", 1}).ok());
  Reopen();
  Reopen();
  EXPECT_EQ(RawInt("PRAGMA user_version"), kCurrentSchemaVersion);
  auto policy = store_->GetRotationPolicy("v", "k");
  ASSERT_TRUE(policy.ok());
  ASSERT_TRUE(policy->has_value());
  ExpectSamePolicy(**policy, MakePolicy("v", "k"));
  auto events = store_->ListKeyEvents("v", "k");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
}

TEST_F(SqliteStoreRotationTest, MigratesVersionOneDatabase) {
  store_.reset();
  std::filesystem::remove(path_);
  std::filesystem::remove(path_ + "-wal");
  std::filesystem::remove(path_ + "-shm");
  RawExec(std::string(kSchemaV1) +
          "INSERT INTO vaults VALUES ('v', 90, 0, 1);"
          "INSERT INTO keys VALUES ('v', 'old', 'Old', NULL, NULL, 3);"
          "INSERT INTO key_versions VALUES ('v', 'old', '" +
          VersionId(1) +
          "', 1, 'EC', '[\"sign\"]', 1, NULL, NULL, 5, 5, '[]', X'3000', X'01');"
          "INSERT INTO key_versions VALUES ('v', 'old', '" +
          VersionId(2) +
          "', 2, 'EC', '[\"sign\"]', 1, NULL, NULL, 6, 6, '[[\"a\",\"b\"]]', X'3001', X'02');"
          "PRAGMA user_version = 1;");
  ASSERT_EQ(RawInt("PRAGMA user_version"), 1);

  Reopen();
  EXPECT_EQ(RawInt("PRAGMA user_version"), kCurrentSchemaVersion);
  auto latest = store_->GetKeyVersion("v", "old", "");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->name, "Old");
  EXPECT_EQ(latest->sequence, 2);
  EXPECT_EQ(latest->tags, (Tags{{"a", "b"}}));
  EXPECT_EQ(latest->sealed_private_key, Bytes({0x02}));

  auto none = store_->GetRotationPolicy("v", "old");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store_->PutRotationPolicy(MakePolicy("v", "old")).ok());
  auto recorded = store_->RecordKeyEvent({"v", "old", VersionId(2), "NearExpiry", 1});
  ASSERT_TRUE(recorded.ok());
  EXPECT_TRUE(*recorded);
  KeyVersionRecord next = MakeVersion("v", "old", VersionId(3));
  ASSERT_TRUE(store_->AddKeyVersion(next, 2).ok());
  EXPECT_EQ(next.sequence, 3);

  Reopen();
  EXPECT_EQ(RawInt("PRAGMA user_version"), kCurrentSchemaVersion);
  auto policy = store_->GetRotationPolicy("v", "old");
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(policy->has_value());
}

TEST_F(SqliteStoreRotationTest, MigratesVersionTwoDatabase) {
  store_.reset();
  std::filesystem::remove(path_);
  std::filesystem::remove(path_ + "-wal");
  std::filesystem::remove(path_ + "-shm");
  RawExec(std::string(kSchemaV1) + kSchemaV2 +
          "INSERT INTO vaults VALUES ('v', 90, 0, 1);"
          "INSERT INTO keys VALUES ('v', 'old', 'Old', NULL, NULL, 2);"
          "INSERT INTO key_versions VALUES ('v', 'old', '" +
          VersionId(1) +
          "', 1, 'EC', '[\"sign\"]', 1, NULL, NULL, 5, 5, '[]', X'3000', X'01');"
          "INSERT INTO rotation_policies VALUES ('v', 'old', '[]', NULL, 7, 8);"
          "PRAGMA user_version = 2;");
  ASSERT_EQ(RawInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 'job_leases'"), 0);

  Reopen();
  EXPECT_EQ(RawInt("PRAGMA user_version"), kCurrentSchemaVersion);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 'job_leases'"), 1);
  auto latest = store_->GetKeyVersion("v", "old", "");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->sequence, 1);
  auto policy = store_->GetRotationPolicy("v", "old");
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(policy->has_value());
  auto taken = store_->maintenance().TryAcquireJobLease("purge", "me", 10, 60);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_TRUE(*taken);
}

}  // namespace
}  // namespace coffre::store
