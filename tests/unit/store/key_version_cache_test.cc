#include "store/key_version_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "store_test_support.h"

namespace coffre::store {
namespace {

using storetest::Backend;
using storetest::MakeVersion;
using storetest::TestDatabase;
using storetest::VersionId;

class KeyVersionCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create(Backend::kSqlite);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto inner = db_->Open();
    ASSERT_TRUE(inner.ok());
    cached_ = WithKeyVersionCache(std::move(*inner), clock_);
    auto other = db_->Open();  // another process on the same file
    ASSERT_TRUE(other.ok());
    other_ = std::move(*other);
    VaultRecord vault;
    vault.name = "v1";
    vault.created = 1;
    ASSERT_TRUE(cached_->PutVault(vault).ok());
    Add(VersionId(1));
  }

  void Add(const std::string& version) {
    KeyVersionRecord r = MakeVersion("v1", "k1", version);
    ASSERT_TRUE(cached_->AddKeyVersion(r).ok());
  }

  std::string Latest() {
    auto r = cached_->GetKeyVersion("v1", "K1", "");
    return r.ok() ? r->version : r.status().ToString();
  }

  ManualClock clock_{1'700'000'000};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> cached_;
  std::unique_ptr<Store> other_;
};

TEST_F(KeyVersionCacheTest, WritesThroughTheCacheAreSeenAtOnce) {
  ASSERT_EQ(Latest(), VersionId(1));
  Add(VersionId(2));
  EXPECT_EQ(Latest(), VersionId(2));

  auto version = cached_->GetKeyVersion("v1", "k1", VersionId(1));
  ASSERT_TRUE(version.ok());
  ASSERT_TRUE(version->enabled);
  version->enabled = false;
  ASSERT_TRUE(cached_->UpdateKeyVersion(*version).ok());
  auto updated = cached_->GetKeyVersion("v1", "k1", VersionId(1));
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->enabled);

  ASSERT_TRUE(cached_->DeleteKey("v1", "k1", 10, 20).ok());
  EXPECT_EQ(cached_->GetKeyVersion("v1", "k1", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(cached_->GetKeyVersion("v1", "k1", VersionId(1)).status().kind(), ErrorKind::kNotFound);
  ASSERT_TRUE(cached_->RecoverKey("v1", "k1").ok());
  EXPECT_EQ(Latest(), VersionId(2));
  ASSERT_TRUE(cached_->DeleteKey("v1", "k1", 10, 20).ok());
  ASSERT_TRUE(cached_->PurgeKey("v1", "k1").ok());
  EXPECT_EQ(cached_->GetKeyVersion("v1", "k1", "").status().kind(), ErrorKind::kNotFound);
}

TEST_F(KeyVersionCacheTest, SecretWritesThroughTheCacheAreSeenAtOnce) {
  auto add = [&](int n) {
    SecretVersionRecord r;
    r.vault = "v1";
    r.name = "s1";
    r.version = VersionId(n);
    r.sealed_value = {static_cast<uint8_t>(n)};
    ASSERT_TRUE(cached_->AddSecretVersion(r).ok());
  };
  auto latest = [&]() {
    auto r = cached_->GetSecretVersion("v1", "S1", "");
    return r.ok() ? r->version : r.status().ToString();
  };
  add(1);
  ASSERT_EQ(latest(), VersionId(1));
  add(2);
  EXPECT_EQ(latest(), VersionId(2));
  // A key of the same name is another object.
  EXPECT_EQ(cached_->GetKeyVersion("v1", "s1", "").status().kind(), ErrorKind::kNotFound);

  auto version = cached_->GetSecretVersion("v1", "s1", VersionId(1));
  ASSERT_TRUE(version.ok());
  version->enabled = false;
  ASSERT_TRUE(cached_->UpdateSecretVersion(*version).ok());
  EXPECT_FALSE(cached_->GetSecretVersion("v1", "s1", VersionId(1))->enabled);

  ASSERT_TRUE(cached_->DeleteSecret("v1", "s1", 10, 20).ok());
  EXPECT_EQ(cached_->GetSecretVersion("v1", "s1", "").status().kind(), ErrorKind::kNotFound);
  ASSERT_TRUE(cached_->RecoverSecret("v1", "s1").ok());
  EXPECT_EQ(latest(), VersionId(2));
  ASSERT_TRUE(cached_->DeleteSecret("v1", "s1", 10, 20).ok());
  ASSERT_TRUE(cached_->PurgeExpiredSecrets(30).ok());
  EXPECT_EQ(cached_->GetSecretVersion("v1", "s1", "").status().kind(), ErrorKind::kNotFound);

  // Another process's write is seen once the entry ages out.
  add(3);
  ASSERT_EQ(latest(), VersionId(3));
  SecretVersionRecord elsewhere;
  elsewhere.vault = "v1";
  elsewhere.name = "s1";
  elsewhere.version = VersionId(4);
  elsewhere.sealed_value = {4};
  ASSERT_TRUE(other_->AddSecretVersion(elsewhere).ok());
  EXPECT_EQ(latest(), VersionId(3));
  clock_.Advance(kKeyVersionCacheTtl);
  EXPECT_EQ(latest(), VersionId(4));
}

TEST_F(KeyVersionCacheTest, WritesElsewhereAreSeenWithinTheBound) {
  ASSERT_EQ(Latest(), VersionId(1));
  KeyVersionRecord r = MakeVersion("v1", "k1", VersionId(2));
  ASSERT_TRUE(other_->AddKeyVersion(r).ok());
  // Served from memory: this is what the cache saves, and why its bound is documented.
  EXPECT_EQ(Latest(), VersionId(1));
  clock_.Advance(kKeyVersionCacheTtl + std::chrono::milliseconds(50));
  EXPECT_EQ(Latest(), VersionId(2));
}

TEST_F(KeyVersionCacheTest, ConcurrentReadsAndWritesNeverLeaveAStaleLatest) {
  // Readers race with a writer adding versions; once the writer is done, the latest read through
  // the cache must be the last version written.
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) (void)cached_->GetKeyVersion("v1", "k1", "");
    });
  }
  for (int i = 2; i <= 40; ++i) {
    Add(VersionId(i));
    EXPECT_EQ(Latest(), VersionId(i));
  }
  done.store(true);
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(Latest(), VersionId(40));
}

}  // namespace
}  // namespace coffre::store
