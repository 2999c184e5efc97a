// VaultAdmin over a real SQLite store: the admin rules (vault settings, set-policy merging, role
// assignment scopes, principals by name or id) and who is told after each change.
#include "service/vault_admin.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "service/resource_groups.h"

namespace coffre::service {
namespace {

constexpr int64_t kNow = 1700000000;

AccessPolicyChange Change(std::string vault, std::string object_id) {
  AccessPolicyChange change;
  change.vault = std::move(vault);
  change.object_id = std::move(object_id);
  return change;
}

class VaultAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "coffre-vaultadmin-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    vaults_ = std::make_unique<VaultDirectory>(*store_);
    VaultAdmin::Hooks hooks;
    hooks.access_changed = [this] { ++access_changes_; };
    hooks.vault_created = [this](const Vault& vault) {
      created_.push_back(vault.name);
      return hook_status_;
    };
    admin_ = std::make_unique<VaultAdmin>(*store_, *vaults_, clock_, std::move(hooks));
  }
  void TearDown() override {
    admin_.reset();
    vaults_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Vault MustCreate(std::string_view name, VaultSettings settings = {}) {
    auto vault = admin_->CreateVault(name, settings);
    EXPECT_TRUE(vault.ok()) << vault.status().ToString();
    return vault.ok() ? *vault : Vault{};
  }

  std::string dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<VaultDirectory> vaults_;
  std::unique_ptr<VaultAdmin> admin_;
  int access_changes_ = 0;
  std::vector<std::string> created_;
  Status hook_status_ = Status::Ok();
};

TEST_F(VaultAdminTest, CreateVaultAppliesDefaultsAndRules) {
  Vault vault = MustCreate("MyVault");
  EXPECT_EQ(vault.name, "myvault");
  EXPECT_EQ(vault.retention_days, 90);
  EXPECT_FALSE(vault.purge_protection);
  EXPECT_FALSE(vault.rbac_authorization);
  EXPECT_EQ(vault.created, kNow);
  EXPECT_EQ(created_, std::vector<std::string>{"myvault"});
  EXPECT_EQ(access_changes_, 1);
  ASSERT_TRUE(admin_->GetVault("MYVAULT").ok());

  EXPECT_EQ(admin_->CreateVault("myvault", {}).status().kind(), ErrorKind::kConflict);
  EXPECT_EQ(admin_->CreateVault("x", {}).status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(admin_->CreateVault("other", {.retention_days = 6}).status().kind(),
            ErrorKind::kBadRequest);
  EXPECT_EQ(admin_->CreateVault("other", {.retention_days = 91}).status().kind(),
            ErrorKind::kBadRequest);
  EXPECT_EQ(created_.size(), 1u);

  // The hook's error is the caller's; the vault exists all the same.
  hook_status_ = Status::Internal("certificate");
  EXPECT_EQ(admin_->CreateVault("hooked", {}).status().kind(), ErrorKind::kInternal);
  EXPECT_TRUE(admin_->GetVault("hooked").ok());
}

TEST_F(VaultAdminTest, UpdateVaultOnlyRaisesRetentionAndKeepsPurgeProtection) {
  MustCreate("vault", {.retention_days = 30});
  access_changes_ = 0;
  auto updated = admin_->UpdateVault("VAULT", {.retention_days = 60, .purge_protection = true});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->retention_days, 60);
  EXPECT_TRUE(updated->purge_protection);
  EXPECT_EQ(access_changes_, 1);
  // The directory serves the new settings at once.
  auto found = admin_->GetVault("vault");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->retention_days, 60);

  EXPECT_EQ(admin_->UpdateVault("vault", {.retention_days = 30}).status().kind(),
            ErrorKind::kBadRequest);
  EXPECT_EQ(admin_->UpdateVault("vault", {.purge_protection = false}).status().kind(),
            ErrorKind::kBadRequest);
  updated = admin_->UpdateVault("vault", {.rbac_authorization = true});
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->rbac_authorization);
  EXPECT_EQ(updated->retention_days, 60);

  auto missing = admin_->UpdateVault("nope", {});
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(missing.status().code(), "VaultNotFound");
}

TEST_F(VaultAdminTest, DeleteVaultForgetsItAndRefusesWhileItHoldsKeys) {
  MustCreate("vault");
  store::KeyVersionRecord key;
  key.vault = "vault";
  key.name = "k";
  key.version = std::string(32, 'a');
  key.key_type = "oct";
  ASSERT_TRUE(store_->AddKeyVersion(key).ok());
  Status refused = admin_->DeleteVault("vault");
  EXPECT_EQ(refused.kind(), ErrorKind::kConflict);
  EXPECT_NE(refused.message().find("still holds keys"), std::string::npos);
  ASSERT_TRUE(store_->DeleteKey("vault", "k", kNow, kNow + 1).ok());
  ASSERT_TRUE(store_->PurgeKey("vault", "k").ok());

  access_changes_ = 0;
  ASSERT_TRUE(admin_->DeleteVault("VAULT").ok());
  EXPECT_EQ(access_changes_, 1);
  EXPECT_EQ(admin_->GetVault("vault").status().kind(), ErrorKind::kNotFound);
}

TEST_F(VaultAdminTest, SetAccessPolicyReplacesOnlyTheKindsNamed) {
  MustCreate("vault");
  access_changes_ = 0;
  AccessPolicyChange keys_only = Change("VAULT", "OID");
  keys_only.keys = {"get", "sign"};
  auto policy = admin_->SetAccessPolicy(keys_only);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->object_id, "oid");
  EXPECT_EQ(policy->keys, (std::vector<std::string>{"get", "sign"}));
  EXPECT_TRUE(policy->secrets.empty());

  AccessPolicyChange secrets_only = Change("vault", "oid");
  secrets_only.secrets = {"list"};
  policy = admin_->SetAccessPolicy(secrets_only);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->keys, (std::vector<std::string>{"get", "sign"}));
  EXPECT_EQ(policy->secrets, std::vector<std::string>{"list"});
  EXPECT_EQ(access_changes_, 2);

  auto listed = admin_->ListAccessPolicies("VAULT");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);

  auto missing = admin_->SetAccessPolicy(Change("nope", "oid"));
  EXPECT_EQ(missing.status().code(), "VaultNotFound");
  EXPECT_EQ(admin_->ListAccessPolicies("nope").status().code(), "VaultNotFound");

  ASSERT_TRUE(admin_->DeleteAccessPolicy("vault", "OID", "").ok());
  EXPECT_EQ(access_changes_, 3);
  EXPECT_EQ(admin_->DeleteAccessPolicy("vault", "oid", "").kind(), ErrorKind::kNotFound);
}

TEST_F(VaultAdminTest, RoleAssignmentsNeedTheirVaultAndFilterByScope) {
  MustCreate("vault");
  access_changes_ = 0;
  auto missing = admin_->AddRoleAssignment("Key Vault Reader", "P", "/vaults/nope");
  EXPECT_EQ(missing.status().code(), "VaultNotFound");
  auto at_key = admin_->AddRoleAssignment("Key Vault Reader", "P1", "/vaults/vault/keys/k");
  ASSERT_TRUE(at_key.ok()) << at_key.status().ToString();
  EXPECT_EQ(at_key->principal_id, "p1");
  EXPECT_EQ(at_key->created, kNow);
  EXPECT_EQ(at_key->id.size(), 36u);
  ASSERT_TRUE(admin_->AddRoleAssignment("Key Vault Administrator", "p2", "/").ok());
  EXPECT_EQ(access_changes_, 2);

  auto all = admin_->ListRoleAssignments(std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  auto root = admin_->ListRoleAssignments(std::string("/"));
  ASSERT_TRUE(root.ok());
  ASSERT_EQ(root->size(), 1u);
  EXPECT_EQ((*root)[0].principal_id, "p2");

  std::string id = at_key->id;
  for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_TRUE(admin_->DeleteRoleAssignment(id).ok());
  EXPECT_EQ(access_changes_, 3);
  all = admin_->ListRoleAssignments(std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(VaultAdminTest, PrincipalsAreFoundByClientIdOrName) {
  Principal p{.name = "My App",
              .client_id = "11111111-2222-3333-4444-555555555555",
              .object_id = "66666666-7777-8888-9999-000000000000",
              .secret_hash = "hash",
              .created = kNow};
  ASSERT_TRUE(admin_->AddPrincipal(p).ok());
  EXPECT_EQ(admin_->AddPrincipal(p).kind(), ErrorKind::kConflict);
  auto by_id = admin_->FindPrincipal(p.client_id);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->name, "My App");
  auto by_name = admin_->FindPrincipal("my app");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->client_id, p.client_id);
  auto missing = admin_->FindPrincipal("nobody");
  EXPECT_EQ(missing.status().code(), "PrincipalNotFound");

  ASSERT_TRUE(admin_->DeletePrincipal(*by_name).ok());
  auto listed = admin_->ListPrincipals();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

// ---- Resource Manager: groups, soft-deleted vaults, purge

TEST_F(VaultAdminTest, ResourceGroupDeleteSoftDeletesItsVaultsAndPurgeRemovesThem) {
  ResourceGroups groups(*store_, *admin_, clock_);
  EXPECT_EQ(groups.Put("bad/name", "westeurope", {}).status().code(), "InvalidResourceGroupName");
  EXPECT_EQ(groups.Put("rg", "", {}).status().code(), "LocationRequired");
  auto put = groups.Put("Quickstart-RG", "WestEurope", {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_TRUE(put->created);
  EXPECT_EQ(put->group.location, "westeurope");
  EXPECT_EQ(groups.Put("quickstart-rg", "eastus", {}).status().code(),
            "InvalidResourceGroupLocation");

  VaultSettings in_group;
  in_group.resource_group = "Quickstart-RG";
  in_group.location = "westeurope";
  in_group.retention_days = 7;
  in_group.purge_protection = true;
  MustCreate("qs-vault", in_group);
  VaultSettings nowhere = in_group;
  nowhere.resource_group = "no-such-rg";
  EXPECT_EQ(admin_->CreateVault("other-vault", nowhere).status().code(), "ResourceGroupNotFound");
  EXPECT_EQ(groups.VaultsIn("quickstart-rg")->size(), 1u);

  ASSERT_TRUE(groups.Delete("QUICKSTART-RG").ok());
  EXPECT_EQ(groups.Get("quickstart-rg").status().code(), "ResourceGroupNotFound");
  // Soft-deleted: not found as a vault, listed as deleted, serves nothing, name still taken.
  EXPECT_EQ(admin_->GetVault("qs-vault").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(admin_->ListVaults()->empty());
  ASSERT_EQ(admin_->ListDeletedVaults()->size(), 1u);
  auto deleted = admin_->GetDeletedVault("QS-VAULT");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted_date, kNow);
  EXPECT_EQ(deleted->scheduled_purge_date, kNow + 7 * 86400);
  EXPECT_FALSE(vaults_->Find("qs-vault")->has_value());
  EXPECT_EQ(admin_->CreateVault("qs-vault", {}).status().kind(), ErrorKind::kConflict);
  EXPECT_EQ(admin_->SoftDeleteVault("qs-vault").status().kind(), ErrorKind::kNotFound);

  // Purge protection: not before the scheduled purge date.
  EXPECT_EQ(admin_->PurgeDeletedVault("qs-vault").kind(), ErrorKind::kConflict);
  clock_.Advance(7 * 86400);
  ASSERT_TRUE(admin_->PurgeDeletedVault("qs-vault").ok());
  EXPECT_EQ(admin_->GetDeletedVault("qs-vault").status().code(), "DeletedVaultNotFound");
  EXPECT_EQ(admin_->PurgeDeletedVault("qs-vault").code(), "DeletedVaultNotFound");
  MustCreate("qs-vault");  // the name is free again
}

}  // namespace
}  // namespace coffre::service
