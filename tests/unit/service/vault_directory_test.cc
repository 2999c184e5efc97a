// Tests for service/vault_directory: the cache in front of the store is bounded by kCacheTtl on
// the directory's clock, and Forget drops an entry at once.
#include "service/vault_directory.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"

namespace coffre::service {
namespace {

class VaultDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-vaults-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    vaults_ = std::make_unique<VaultDirectory>(*store_, clock_);
    store::VaultRecord vault;
    vault.name = "Team-A";
    vault.created = clock_.NowSeconds();
    ASSERT_TRUE(vaults_->Ensure(vault).ok());
  }

  void TearDown() override {
    vaults_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  bool Found(std::string_view name) {
    auto found = vaults_->Find(name);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() && found->has_value();
  }

  std::string dir_;
  ManualClock clock_{1'700'000'000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<VaultDirectory> vaults_;
};

TEST_F(VaultDirectoryTest, FindsByNameCaseInsensitively) {
  EXPECT_TRUE(Found("team-a"));
  EXPECT_TRUE(Found("TEAM-A"));
  EXPECT_FALSE(Found("team-b"));
  EXPECT_FALSE(Found("no_such_name!"));
}

TEST_F(VaultDirectoryTest, ADeletionElsewhereIsSeenWithinTheCacheBound) {
  ASSERT_TRUE(Found("team-a"));
  ASSERT_TRUE(store_->DeleteVault("team-a").ok());  // as another replica would
  clock_.Advance(VaultDirectory::kCacheTtl / 2);
  EXPECT_TRUE(Found("team-a"));  // still cached
  clock_.Advance(VaultDirectory::kCacheTtl / 2);
  EXPECT_FALSE(Found("team-a"));
}

TEST_F(VaultDirectoryTest, ForgetDropsTheEntryAtOnce) {
  ASSERT_TRUE(Found("team-a"));
  ASSERT_TRUE(store_->DeleteVault("team-a").ok());
  vaults_->Forget("TEAM-A");
  EXPECT_FALSE(Found("team-a"));
}

}  // namespace
}  // namespace coffre::service
