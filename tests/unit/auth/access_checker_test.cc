#include "auth/access_checker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "common/clock.h"

namespace coffre::auth {
namespace {

namespace fs = std::filesystem;

class AccessCheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/coffre-access-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    vault_.name = "v1";
    vault_.retention_days = 90;
    ASSERT_TRUE(store_->PutVault(vault_).ok());
    store::AccessPolicyRecord policy;
    policy.vault = "v1";
    policy.object_id = "alice";
    policy.keys = {"get", "list"};
    ASSERT_TRUE(store_->PutAccessPolicy(policy).ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string dir_;
  ManualClock clock_{1'700'000'000};
  std::unique_ptr<store::Store> store_;
  store::VaultRecord vault_;
  const Caller alice_{"alice", "app", "issuer"};
};

TEST_F(AccessCheckerTest, GrantsWhatThePolicyGrantsAndNothingElse) {
  AccessChecker checker(*store_, clock_);
  EXPECT_TRUE(checker.Check(vault_, alice_, "get", "", "k").ok());
  Status denied = checker.Check(vault_, alice_, "create", "", "k");
  EXPECT_EQ(denied.kind(), ErrorKind::kForbidden);
  EXPECT_FALSE(checker.Check(vault_, Caller{"bob", "app", "issuer"}, "get", "", "k").ok());
}

// An operation that names no permission is refused in both models, whoever asks.
TEST_F(AccessCheckerTest, NoPermissionNamedIsDenied) {
  AccessChecker checker(*store_, clock_);
  EXPECT_EQ(checker.Check(vault_, alice_, "", "", "k").kind(), ErrorKind::kForbidden);
  store::VaultRecord rbac = vault_;
  rbac.name = "v2";
  rbac.rbac_authorization = true;
  ASSERT_TRUE(store_->PutVault(rbac).ok());
  store::RoleAssignmentRecord admin;
  admin.id = "00000000-0000-4000-8000-0000000000a1";
  admin.role = "Key Vault Administrator";
  admin.principal_id = "alice";
  admin.scope = "/";
  ASSERT_TRUE(store_->AddRoleAssignment(admin).ok());
  EXPECT_TRUE(checker.Check(rbac, alice_, "", "Microsoft.KeyVault/vaults/keys/read", "k").ok());
  EXPECT_EQ(checker.Check(rbac, alice_, "get", "", "k").kind(), ErrorKind::kForbidden);
}

TEST_F(AccessCheckerTest, AChangeInTheStoreAppliesOnceForgotten) {
  AccessChecker checker(*store_, clock_);
  ASSERT_TRUE(checker.Check(vault_, alice_, "get", "", "k").ok());
  ASSERT_TRUE(store_->DeleteAccessPolicy("v1", "alice", "").ok());
  // Cached for at most kCacheTtl (another replica's change)...
  EXPECT_TRUE(checker.Check(vault_, alice_, "get", "", "k").ok());
  // ...but this process's admin API forgets at once.
  checker.Forget();
  EXPECT_EQ(checker.Check(vault_, alice_, "get", "", "k").kind(), ErrorKind::kForbidden);
}

TEST_F(AccessCheckerTest, AChangeInTheStoreAppliesWithinTheCacheBound) {
  AccessChecker checker(*store_, clock_);
  ASSERT_TRUE(checker.Check(vault_, alice_, "get", "", "k").ok());
  ASSERT_TRUE(store_->DeleteAccessPolicy("v1", "alice", "").ok());
  clock_.Advance(AccessChecker::kCacheTtl + std::chrono::milliseconds(50));
  EXPECT_EQ(checker.Check(vault_, alice_, "get", "", "k").kind(), ErrorKind::kForbidden);
}

}  // namespace
}  // namespace coffre::auth
