// Secrets in both permission models: access-policy secret permissions, the secrets data actions
// of the built-in roles, and scopes down to one secret.
#include <gtest/gtest.h>

#include "auth/access_control.h"

namespace coffre::auth {
namespace {

const Caller kAlice{"alice", "app", "issuer"};
constexpr char kGet[] = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
constexpr char kMetadata[] = "Microsoft.KeyVault/vaults/secrets/readMetadata/action";
constexpr char kSet[] = "Microsoft.KeyVault/vaults/secrets/setSecret/action";

TEST(AccessControlSecrets, PoliciesCheckTheSecretList) {
  AccessPolicyEntry entry{"alice", "", {"get", "list"}, {"get"}, {}};
  EXPECT_TRUE(CheckAccessPolicies({entry}, kAlice, "v", "get", PermissionKind::kSecrets).ok());
  Status denied = CheckAccessPolicies({entry}, kAlice, "v", "list", PermissionKind::kSecrets);
  EXPECT_EQ(denied.kind(), ErrorKind::kForbidden);
  EXPECT_EQ(denied.inner_code(), "AccessDenied");
  EXPECT_NE(denied.message().find("does not have secrets list permission on key vault 'v;"),
            std::string::npos)
      << denied.message();
  // The key list does not count for secrets.
  EXPECT_TRUE(CheckAccessPolicies({entry}, kAlice, "v", "list", PermissionKind::kKeys).ok());
}

TEST(AccessControlSecrets, SecretPermissionNamesAreAzures) {
  EXPECT_EQ(AllPermissions(PermissionKind::kSecrets),
            (std::vector<std::string>{"get", "list", "set", "delete", "recover", "backup",
                                      "restore", "purge"}));
  EXPECT_EQ(CanonicalPermission(PermissionKind::kSecrets, "SET"), "set");
  EXPECT_FALSE(CanonicalPermission(PermissionKind::kSecrets, "create").has_value());
}

TEST(AccessControlSecrets, RolesAndScopes) {
  auto assignment = [](const char* role, const char* scope) {
    return RoleAssignment{"id", role, "alice", scope};
  };
  auto allowed = [&](const RoleAssignment& a, const char* secret, const char* action) {
    return CheckRoleAssignments({a}, kAlice, "v", secret, action, PermissionKind::kSecrets).ok();
  };
  const auto user = assignment("Key Vault Secrets User", "/vaults/v");
  EXPECT_TRUE(allowed(user, "s", kGet));
  EXPECT_TRUE(allowed(user, "", kMetadata));
  EXPECT_FALSE(allowed(user, "s", kSet));
  const auto reader = assignment("Key Vault Reader", "/");
  EXPECT_TRUE(allowed(reader, "", kMetadata));
  EXPECT_FALSE(allowed(reader, "s", kGet));
  const auto officer = assignment("Key Vault Secrets Officer", "/vaults/v");
  EXPECT_TRUE(allowed(officer, "s", kSet));
  EXPECT_TRUE(allowed(officer, "s", "Microsoft.KeyVault/vaults/secrets/purge/action"));
  EXPECT_FALSE(allowed(officer, "s", "Microsoft.KeyVault/vaults/keys/read"));
  EXPECT_TRUE(allowed(assignment("Key Vault Administrator", "/vaults/v"), "s", kSet));

  const auto one = assignment("Key Vault Secrets User", "/vaults/v/secrets/s");
  EXPECT_TRUE(allowed(one, "S", kGet));
  EXPECT_FALSE(allowed(one, "t", kGet));
  EXPECT_FALSE(allowed(one, "", kMetadata));  // listing is vault-level
  // A key scope of the same name is not the secret's.
  EXPECT_FALSE(allowed(assignment("Key Vault Administrator", "/vaults/v/keys/s"), "s", kGet));
  Status denied = CheckRoleAssignments({one}, kAlice, "v", "t", kGet, PermissionKind::kSecrets);
  EXPECT_EQ(denied.inner_code(), "ForbiddenByRbac");
  EXPECT_NE(denied.message().find("Resource: '/vaults/v/secrets/t'"), std::string::npos);

  EXPECT_EQ(NormalizeScope("/vaults/V/Secrets/S"), "/vaults/v/secrets/s");
  EXPECT_FALSE(NormalizeScope("/vaults/v/certificates/c").has_value());
}

}  // namespace
}  // namespace coffre::auth
