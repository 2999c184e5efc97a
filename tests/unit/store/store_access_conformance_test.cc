// The Store conformance suite, part three: vault settings and deletion, access policies and role
// assignments, run against every backend with the same assertions.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_support.h"

namespace coffre::store::storetest {
namespace {

class StoreAccessConformanceTest : public StoreTest {};

INSTANTIATE_TEST_SUITE_P(Backends, StoreAccessConformanceTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(StoreAccessConformanceTest, UpdateVaultWritesSettingsOfAnExistingVault) {
  VaultRecord vault{.name = "V", .retention_days = 30, .created = 5};
  ASSERT_TRUE(store_->PutVault(vault).ok());
  auto got = store_->GetVault("v");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->rbac_authorization);

  VaultRecord update{.name = "V",
                     .retention_days = 7,
                     .purge_protection = true,
                     .rbac_authorization = true,
                     .created = 999};
  ASSERT_TRUE(store_->UpdateVault(update).ok());
  got = store_->GetVault("v");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->retention_days, 7);
  EXPECT_TRUE(got->purge_protection);
  EXPECT_TRUE(got->rbac_authorization);
  EXPECT_EQ(got->created, 5);  // not a setting

  VaultRecord rbac{.name = "w", .rbac_authorization = true, .created = 1};
  ASSERT_TRUE(store_->PutVault(rbac).ok());
  auto listed = store_->ListVaults();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_TRUE((*listed)[1].rbac_authorization);

  VaultRecord missing{.name = "nope", .retention_days = 1};
  EXPECT_EQ(store_->UpdateVault(missing).kind(), ErrorKind::kNotFound);
}

TEST_P(StoreAccessConformanceTest, CreateVaultRefusesATakenName) {
  VaultRecord vault{.name = "V", .retention_days = 30, .created = 5};
  ASSERT_TRUE(store_->CreateVault(vault).ok());
  VaultRecord again{.name = "v", .retention_days = 7, .purge_protection = true, .created = 9};
  Status s = store_->CreateVault(again);
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(HasReason(s, reason::kExists));
  auto got = store_->GetVault("v");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->retention_days, 30);  // the first creator's settings stay
  EXPECT_FALSE(got->purge_protection);
  EXPECT_EQ(store_->CreateVault(VaultRecord{}).kind(), ErrorKind::kBadRequest);
}

TEST_P(StoreAccessConformanceTest, ModifyVaultAppliesAChangeToTheStoredSettings) {
  ASSERT_TRUE(store_->CreateVault({.name = "v", .retention_days = 30, .created = 5}).ok());
  auto changed = store_->ModifyVault("V", [](VaultRecord& v) {
    v.retention_days += 10;
    v.rbac_authorization = true;
    v.name = "other";  // neither the name nor the creation time can change
    v.created = 1;
    return Status::Ok();
  });
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->retention_days, 40);
  auto got = store_->GetVault("v");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->retention_days, 40);
  EXPECT_TRUE(got->rbac_authorization);
  EXPECT_EQ(got->created, 5);
  EXPECT_EQ(store_->GetVault("other").status().kind(), ErrorKind::kNotFound);

  // A refused change writes nothing.
  auto refused = store_->ModifyVault("v", [](VaultRecord& v) {
    v.retention_days = 7;
    return Status::BadParameter("no");
  });
  EXPECT_EQ(refused.status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(store_->GetVault("v")->retention_days, 40);

  auto missing = store_->ModifyVault("nope", [](VaultRecord&) { return Status::Ok(); });
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
}

TEST_P(StoreAccessConformanceTest, DeleteVaultOnlyWhenEmpty) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  ASSERT_TRUE(store_->PutAccessPolicy({"v", "oid", "", {"get"}, {}, {}}).ok());
  Status s = store_->DeleteVault("V");
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
  EXPECT_EQ(s.inner_code(), "not-empty");
  ASSERT_TRUE(store_->DeleteKey("v", "k", 1, 2).ok());
  s = store_->DeleteVault("v");  // a soft-deleted key still counts
  EXPECT_EQ(s.inner_code(), "not-empty");
  ASSERT_TRUE(store_->PurgeKey("v", "k").ok());

  ASSERT_TRUE(store_->DeleteVault("V").ok());
  EXPECT_EQ(store_->GetVault("v").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->DeleteVault("v").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM access_policies"), 0);
  // The name is free again, without the old policies.
  PutVault("v");
  auto policies = store_->ListAccessPolicies("v");
  ASSERT_TRUE(policies.ok());
  EXPECT_TRUE(policies->empty());
}

TEST_P(StoreAccessConformanceTest, AccessPoliciesPutReplaceListDelete) {
  PutVault("v");
  PutVault("w");
  ASSERT_TRUE(store_->PutAccessPolicy({"V", "OID-B", "", {"get", "sign"}, {"list"}, {}}).ok());
  ASSERT_TRUE(store_->PutAccessPolicy({"v", "oid-a", "APP", {"all"}, {}, {"get"}}).ok());
  ASSERT_TRUE(store_->PutAccessPolicy({"v", "oid-a", "", {}, {}, {}}).ok());
  ASSERT_TRUE(store_->PutAccessPolicy({"w", "oid-a", "", {"get"}, {}, {}}).ok());
  // Replaces the first one (ids compare case-insensitively).
  ASSERT_TRUE(store_->PutAccessPolicy({"v", "oid-b", "", {"verify"}, {}, {}}).ok());

  auto listed = store_->ListAccessPolicies("V");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].object_id, "oid-a");
  EXPECT_EQ((*listed)[0].application_id, "");
  EXPECT_EQ((*listed)[1].object_id, "oid-a");
  EXPECT_EQ((*listed)[1].application_id, "app");
  EXPECT_EQ((*listed)[1].keys, std::vector<std::string>{"all"});
  EXPECT_EQ((*listed)[1].certificates, std::vector<std::string>{"get"});
  EXPECT_EQ((*listed)[2].object_id, "oid-b");
  EXPECT_EQ((*listed)[2].vault, "v");
  EXPECT_EQ((*listed)[2].keys, std::vector<std::string>{"verify"});
  EXPECT_TRUE((*listed)[2].secrets.empty());

  EXPECT_EQ(store_->PutAccessPolicy({"nope", "oid", "", {}, {}, {}}).kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->PutAccessPolicy({"v", "", "", {}, {}, {}}).kind(), ErrorKind::kBadRequest);

  ASSERT_TRUE(store_->DeleteAccessPolicy("v", "OID-A", "app").ok());
  EXPECT_EQ(store_->DeleteAccessPolicy("v", "oid-a", "app").kind(), ErrorKind::kNotFound);
  listed = store_->ListAccessPolicies("v");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
  listed = store_->ListAccessPolicies("w");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_P(StoreAccessConformanceTest, MergeAccessPolicyReplacesOnlyTheListsGiven) {
  PutVault("v");
  // Absent: created, with empty lists for the kinds not given.
  auto merged = store_->MergeAccessPolicy({"V", "OID", "APP", {{"get", "sign"}}, {}, {}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->vault, "v");
  EXPECT_EQ(merged->object_id, "oid");
  EXPECT_EQ(merged->application_id, "app");
  EXPECT_EQ(merged->keys, (std::vector<std::string>{"get", "sign"}));
  EXPECT_TRUE(merged->secrets.empty());
  EXPECT_TRUE(merged->certificates.empty());

  // Present: the lists given replace, the rest stay (an empty list given clears).
  merged = store_->MergeAccessPolicy({"v", "oid", "app", {}, {{"list"}}, {{"get"}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->keys, (std::vector<std::string>{"get", "sign"}));
  EXPECT_EQ(merged->secrets, std::vector<std::string>{"list"});
  EXPECT_EQ(merged->certificates, std::vector<std::string>{"get"});
  merged = store_->MergeAccessPolicy({"v", "oid", "app", {std::vector<std::string>{}}, {}, {}});
  ASSERT_TRUE(merged.ok());
  EXPECT_TRUE(merged->keys.empty());
  EXPECT_EQ(merged->secrets, std::vector<std::string>{"list"});

  auto listed = store_->ListAccessPolicies("v");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].keys.empty());
  EXPECT_EQ((*listed)[0].certificates, std::vector<std::string>{"get"});

  EXPECT_EQ(store_->MergeAccessPolicy({"nope", "oid", "", {}, {}, {}}).status().kind(),
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->MergeAccessPolicy({"v", "", "", {}, {}, {}}).status().kind(),
            ErrorKind::kBadRequest);
}

// A deleted vault takes every role assignment scoped to it or to anything in it along: a new
// vault of the same name must not inherit them. Other vaults' and "/" assignments stay.
TEST_P(StoreAccessConformanceTest, DeleteVaultDeletesItsRoleAssignments) {
  PutVault("v");
  PutVault("v2");
  for (const RoleAssignmentRecord& a : std::vector<RoleAssignmentRecord>{
           {"a-vault", "Key Vault Reader", "p1", "/vaults/v", 1},
           {"a-key", "Key Vault Crypto User", "p1", "/vaults/V/keys/k", 2},
           {"a-secret", "Key Vault Secrets User", "p1", "/vaults/v/secrets/s", 3},
           {"a-cert", "Key Vault Reader", "p1", "/vaults/v/certificates/c", 4},
           {"a-other", "Key Vault Reader", "p1", "/vaults/v2", 5},
           {"a-other-key", "Key Vault Reader", "p1", "/vaults/v2/keys/k", 6},
           {"a-all", "Key Vault Administrator", "p2", "/", 7}}) {
    ASSERT_TRUE(store_->AddRoleAssignment(a).ok()) << a.id;
  }
  ASSERT_TRUE(store_->DeleteVault("V").ok());
  auto left = store_->ListRoleAssignments();
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  std::vector<std::string> ids;
  for (const auto& a : *left) ids.push_back(a.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a-other", "a-other-key", "a-all"}));

  // A failed delete (vault not empty) removes nothing.
  Add("v2", "k", VersionId(1));
  EXPECT_EQ(store_->DeleteVault("v2").kind(), ErrorKind::kConflict);
  left = store_->ListRoleAssignments();
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 3u);
}

TEST_P(StoreAccessConformanceTest, RoleAssignmentsAddListDelete) {
  ASSERT_TRUE(store_->AddRoleAssignment({"ID-2", "Key Vault Reader", "P1", "/Vaults/V", 20}).ok());
  ASSERT_TRUE(store_->AddRoleAssignment({"id-1", "Key Vault Administrator", "p2", "/", 10}).ok());
  ASSERT_TRUE(store_->AddRoleAssignment({"id-3", "Key Vault Crypto User", "p1", "/", 20}).ok());
  EXPECT_EQ(store_->AddRoleAssignment({"id-2", "Other", "p3", "/", 30}).kind(),
            ErrorKind::kConflict);
  EXPECT_EQ(store_->AddRoleAssignment({"", "Other", "p3", "/", 30}).kind(), ErrorKind::kBadRequest);

  auto all = store_->ListRoleAssignments();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "id-1");  // by created, then id
  EXPECT_EQ((*all)[1].id, "id-2");
  EXPECT_EQ((*all)[1].role, "Key Vault Reader");
  EXPECT_EQ((*all)[1].principal_id, "p1");
  EXPECT_EQ((*all)[1].scope, "/vaults/v");
  EXPECT_EQ((*all)[1].created, 20);
  EXPECT_EQ((*all)[2].id, "id-3");

  auto mine = store_->ListRoleAssignmentsFor("P1");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].id, "id-2");
  EXPECT_EQ((*mine)[1].id, "id-3");

  ASSERT_TRUE(store_->DeleteRoleAssignment("ID-2").ok());
  EXPECT_EQ(store_->DeleteRoleAssignment("id-2").kind(), ErrorKind::kNotFound);
  mine = store_->ListRoleAssignmentsFor("p1");
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->size(), 1u);
}

}  // namespace
}  // namespace coffre::store::storetest
