// SQLite-only tests of the SQLite Store: file mode, file-level errors, WAL reads. The contract of
// store.h is tested against every backend in store_conformance_test.cc.
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_support.h"

namespace coffre::store {
namespace {

using storetest::MakeVersion;
using storetest::VersionId;
using ::testing::Test;

class SqliteStoreTest : public Test {
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

  std::string dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, FileIsCreatedWithMode0600) {
  PutVault("v");  // forces the WAL file into existence
  for (const std::string& file : {path_, path_ + "-wal"}) {
    struct stat st {};
    ASSERT_EQ(stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
}

TEST_F(SqliteStoreTest, OpenFailsCleanlyOnMissingDirectory) {
  auto opened = OpenSqliteStore(dir_ + "/no/such/dir/coffre.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().kind(), ErrorKind::kInternal);
}

TEST_F(SqliteStoreTest, ReadsProceedWhileAnotherProcessHoldsTheWriteLock) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "BEGIN IMMEDIATE; UPDATE key_versions SET enabled = 0 "
                         "WHERE name_key = 'k';",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto got = store_->GetKeyVersion("v", "k", "");  // WAL: not blocked, sees the committed state
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->enabled);
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  got = store_->GetKeyVersion("v", "k", "");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->enabled);
}

}  // namespace
}  // namespace coffre::store
