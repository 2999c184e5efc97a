// The Store conformance suite for certificates: versions written with their key and managed
// secret in one transaction, policy, the pending operation, and soft delete, recover and purge
// cascading to the key and secret; run against every backend with the same assertions.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_support.h"

namespace coffre::store::storetest {
namespace {

constexpr char kPolicy[] = R"({"issuer":{"name":"Self"}})";

class StoreCertificateConformanceTest : public StoreTest {
 protected:
  struct Three {
    CertificateVersionRecord certificate;
    KeyVersionRecord key;
    SecretVersionRecord secret;
  };

  static Three Make(const std::string& vault, const std::string& name, const std::string& version) {
    Three t;
    t.certificate.vault = t.key.vault = t.secret.vault = vault;
    t.certificate.name = t.key.name = t.secret.name = name;
    t.certificate.version = t.key.version = t.secret.version = version;
    t.certificate.cer = {0x30, 0x82, 0x00, 0x01};
    t.certificate.x5t = {0xaa, 0xbb};
    t.certificate.created = t.certificate.updated = 100;
    t.certificate.not_before = 90;
    t.certificate.expires = 1000;
    t.certificate.tags = {{"env", "test"}};
    t.key = MakeVersion(vault, name, version);
    t.secret.content_type = "application/x-pkcs12";
    t.secret.created = t.secret.updated = 100;
    t.secret.managed = true;
    t.secret.key_id = "https://v/keys/" + name + "/" + version;
    t.secret.sealed_value = {0x01, 0x02};
    return t;
  }

  Status AddCert(const std::string& vault, const std::string& name, const std::string& version,
                 const std::optional<CertificateOperationRecord>& op = std::nullopt) {
    Three t = Make(vault, name, version);
    return store_->AddCertificateVersion(t.certificate, t.key, t.secret, kPolicy, op);
  }

  static CertificateOperationRecord MakeOperation(const std::string& vault, const std::string& name,
                                                  const std::string& status) {
    CertificateOperationRecord op;
    op.vault = vault;
    op.name = name;
    op.request_id = "0123456789abcdef0123456789abcdef";
    op.status = status;
    op.issuer = "Unknown";
    op.target_version = VersionId(7);
    op.csr = {0x30, 0x01};
    op.key_type = "RSA";
    op.public_key = {0x30, 0x02};
    op.sealed_private_key = {0x05, 0x06};
    op.created = op.updated = 50;
    return op;
  }

  static int Count(const Result<int>& purged) { return purged.ok() ? *purged : -1; }

  std::vector<std::string> Problems() {
    auto problems = store_->maintenance().CheckConsistency();
    EXPECT_TRUE(problems.ok()) << problems.status().ToString();
    return problems.ok() ? *problems : std::vector<std::string>{"check failed"};
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreCertificateConformanceTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(StoreCertificateConformanceTest, AVersionWritesCertificateKeyAndSecretTogether) {
  PutVault("v");
  Three t = Make("v", "Web", VersionId(1));
  ASSERT_TRUE(
      store_->AddCertificateVersion(t.certificate, t.key, t.secret, kPolicy, std::nullopt).ok());
  EXPECT_EQ(t.certificate.sequence, 1);
  EXPECT_EQ(t.certificate.key_version, VersionId(1));
  EXPECT_EQ(t.certificate.secret_version, VersionId(1));
  EXPECT_EQ(t.key.sequence, 1);
  EXPECT_EQ(t.secret.sequence, 1);
  ASSERT_TRUE(AddCert("v", "web", VersionId(2)).ok());

  auto latest = store_->GetCertificateVersion("v", "WEB", "");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->name, "Web");
  EXPECT_EQ(latest->version, VersionId(2));
  EXPECT_EQ(latest->sequence, 2);
  EXPECT_EQ(latest->cer, Bytes({0x30, 0x82, 0x00, 0x01}));
  EXPECT_EQ(latest->x5t, Bytes({0xaa, 0xbb}));
  EXPECT_EQ(latest->tags, (Tags{{"env", "test"}}));
  EXPECT_EQ(latest->expires, 1000);
  auto first = store_->GetCertificateVersion("v", "web", VersionId(1));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->sequence, 1);
  EXPECT_EQ(store_->GetCertificateVersion("v", "web", VersionId(9)).status().kind(),
            ErrorKind::kNotFound);

  auto key = store_->GetKeyVersion("v", "web", "");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->version, VersionId(2));
  auto secret = store_->GetSecretVersion("v", "web", VersionId(1));
  ASSERT_TRUE(secret.ok());
  EXPECT_TRUE(secret->managed);
  EXPECT_EQ(secret->sealed_value, Bytes({0x01, 0x02}));

  auto policy = store_->GetCertificatePolicy("v", "web");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->policy, kPolicy);
  EXPECT_EQ(policy->name, "Web");

  Status dup = AddCert("v", "web", VersionId(2));
  EXPECT_EQ(dup.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(HasReason(dup, reason::kVersionExists));
  EXPECT_EQ(AddCert("nowhere", "web", VersionId(1)).kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(Problems().empty());
}

TEST_P(StoreCertificateConformanceTest, AFailedPartWritesNothing) {
  PutVault("v");
  ASSERT_TRUE(AddCert("v", "c", VersionId(1)).ok());
  // The key version id is taken: neither the certificate nor the secret version may land.
  Three t = Make("v", "c", VersionId(2));
  t.key.version = VersionId(1);
  Status failed =
      store_->AddCertificateVersion(t.certificate, t.key, t.secret, kPolicy, std::nullopt);
  EXPECT_TRUE(HasReason(failed, reason::kVersionExists)) << failed.ToString();
  EXPECT_EQ(store_->GetCertificateVersion("v", "c", VersionId(2)).status().kind(),
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetSecretVersion("v", "c", VersionId(2)).status().kind(), ErrorKind::kNotFound);
  auto versions = store_->ListSecretVersions("v", "c", "", 10);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 1u);
  EXPECT_TRUE(Problems().empty());
}

TEST_P(StoreCertificateConformanceTest, KeysAndSecretsOfACertificateAreManaged) {
  PutVault("v");
  ASSERT_TRUE(AddCert("v", "c", VersionId(1)).ok());
  KeyVersionRecord key = MakeVersion("v", "c", VersionId(5));
  EXPECT_TRUE(HasReason(store_->AddKeyVersion(key), reason::kManaged));
  EXPECT_TRUE(HasReason(store_->DeleteKey("v", "c", 1, 2).status(), reason::kManaged));
  SecretVersionRecord plain = Make("v", "c", VersionId(5)).secret;
  plain.managed = false;
  EXPECT_TRUE(HasReason(store_->AddSecretVersion(plain), reason::kManaged));
  EXPECT_TRUE(HasReason(store_->DeleteSecret("v", "c", 1, 2).status(), reason::kManaged));

  // A certificate does not take over a key or secret it does not own.
  KeyVersionRecord lone = MakeVersion("v", "lone", VersionId(1));
  ASSERT_TRUE(store_->AddKeyVersion(lone).ok());
  EXPECT_TRUE(HasReason(AddCert("v", "lone", VersionId(2)), reason::kManaged));
  EXPECT_EQ(store_->GetCertificateVersion("v", "lone", "").status().kind(), ErrorKind::kNotFound);
}

TEST_P(StoreCertificateConformanceTest, DeleteRecoverPurgeCascade) {
  PutVault("v");
  ASSERT_TRUE(AddCert("v", "c", VersionId(1)).ok());
  auto deleted = store_->DeleteCertificate("v", "c", 200, 300);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->deleted_date, 200);
  EXPECT_EQ(deleted->scheduled_purge_date, 300);
  EXPECT_EQ(deleted->policy, kPolicy);
  EXPECT_EQ(store_->GetCertificateVersion("v", "c", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetKeyVersion("v", "c", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetSecretVersion("v", "c", "").status().kind(), ErrorKind::kNotFound);
  ASSERT_TRUE(store_->GetDeletedKey("v", "c").ok());
  ASSERT_TRUE(store_->GetDeletedSecret("v", "c").ok());
  EXPECT_TRUE(HasReason(AddCert("v", "c", VersionId(2)), reason::kDeleted));
  // The keys and secrets calls leave a certificate's key and secret to it.
  EXPECT_TRUE(HasReason(store_->PurgeKey("v", "c"), reason::kManaged));
  EXPECT_TRUE(HasReason(store_->RecoverSecret("v", "c").status(), reason::kManaged));
  auto listed = store_->ListDeletedCertificates("v", "", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_TRUE(Problems().empty());

  auto recovered = store_->RecoverCertificate("v", "c");
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(recovered->version, VersionId(1));
  EXPECT_TRUE(store_->GetKeyVersion("v", "c", "").ok());
  EXPECT_TRUE(store_->GetSecretVersion("v", "c", "").ok());
  EXPECT_EQ(store_->RecoverCertificate("v", "c").status().kind(), ErrorKind::kNotFound);

  ASSERT_TRUE(store_->DeleteCertificate("v", "c", 200, 300).ok());
  EXPECT_EQ(Count(store_->PurgeExpiredKeys(1000)), 0);
  EXPECT_EQ(Count(store_->PurgeExpiredSecrets(1000)), 0);
  ASSERT_TRUE(store_->PurgeCertificate("v", "c").ok());
  EXPECT_EQ(store_->GetDeletedCertificate("v", "c").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetDeletedKey("v", "c").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetDeletedSecret("v", "c").status().kind(), ErrorKind::kNotFound);
  // The name is free again, for a certificate or a plain key.
  KeyVersionRecord key = MakeVersion("v", "c", VersionId(3));
  EXPECT_TRUE(store_->AddKeyVersion(key).ok());
  EXPECT_TRUE(Problems().empty());
}

TEST_P(StoreCertificateConformanceTest, ScheduledPurgeTakesAllThree) {
  PutVault("v");
  ASSERT_TRUE(AddCert("v", "a", VersionId(1)).ok());
  ASSERT_TRUE(AddCert("v", "b", VersionId(1)).ok());
  ASSERT_TRUE(store_->DeleteCertificate("v", "a", 10, 20).ok());
  ASSERT_TRUE(store_->DeleteCertificate("v", "b", 10, 40).ok());
  EXPECT_EQ(Count(store_->PurgeExpiredCertificates(30)), 1);
  EXPECT_EQ(store_->GetDeletedKey("v", "a").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetDeletedSecret("v", "a").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->GetDeletedCertificate("v", "b").ok());
  EXPECT_TRUE(store_->GetDeletedKey("v", "b").ok());
  EXPECT_TRUE(Problems().empty());
}

TEST_P(StoreCertificateConformanceTest, PendingOperationLifecycle) {
  PutVault("v");
  CertificateOperationRecord op = MakeOperation("v", "P", "inProgress");
  ASSERT_TRUE(store_->BeginCertificateOperation(kPolicy, op).ok());
  // Only a pending operation: no version to get, none listed, but the policy and operation are.
  EXPECT_EQ(store_->GetCertificateVersion("v", "p", "").status().kind(), ErrorKind::kNotFound);
  auto listed = store_->ListCertificates("v", "", 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->items.empty());
  EXPECT_TRUE(store_->GetCertificatePolicy("v", "p").ok());
  auto got = store_->GetCertificateOperation("v", "p");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "P");
  EXPECT_EQ(got->status, "inProgress");
  EXPECT_EQ(got->csr, Bytes({0x30, 0x01}));
  EXPECT_EQ(got->sealed_private_key, Bytes({0x05, 0x06}));
  EXPECT_EQ(got->target_version, VersionId(7));
  EXPECT_TRUE(HasReason(store_->BeginCertificateOperation(kPolicy, op), reason::kPending));

  CertificateOperationRecord cancel = *got;
  cancel.cancellation_requested = true;
  cancel.updated = 60;
  auto updated = store_->UpdateCertificateOperation(cancel);
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->cancellation_requested);
  cancel.request_id = "ffffffffffffffffffffffffffffffff";
  EXPECT_EQ(store_->UpdateCertificateOperation(cancel).status().kind(), ErrorKind::kNotFound);

  // Completion (a merge) writes the version and marks the operation in one transaction.
  CertificateOperationRecord done = *got;
  done.status = "completed";
  done.sealed_private_key.clear();
  ASSERT_TRUE(AddCert("v", "p", VersionId(7), done).ok());
  auto after = store_->GetCertificateOperation("v", "p");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, "completed");
  EXPECT_TRUE(after->sealed_private_key.empty());
  EXPECT_TRUE(store_->GetCertificateVersion("v", "p", VersionId(7)).ok());

  // Deleting the operation of a certificate with versions keeps the certificate.
  ASSERT_TRUE(store_->DeleteCertificateOperation("v", "p").ok());
  EXPECT_EQ(store_->GetCertificateOperation("v", "p").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->GetCertificateVersion("v", "p", "").ok());

  // Deleting the only operation of a certificate without versions removes the name.
  ASSERT_TRUE(
      store_->BeginCertificateOperation(kPolicy, MakeOperation("v", "q", "inProgress")).ok());
  ASSERT_TRUE(store_->DeleteCertificateOperation("v", "q").ok());
  EXPECT_EQ(store_->GetCertificatePolicy("v", "q").status().kind(), ErrorKind::kNotFound);
  KeyVersionRecord key = MakeVersion("v", "q", VersionId(1));
  EXPECT_TRUE(store_->AddKeyVersion(key).ok());
  EXPECT_TRUE(Problems().empty());
}

TEST_P(StoreCertificateConformanceTest, UpdatePolicyListAndPage) {
  PutVault("v");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(AddCert("v", "c" + std::to_string(i), VersionId(1)).ok());
  }
  ASSERT_TRUE(AddCert("v", "c0", VersionId(2)).ok());
  auto page = store_->ListCertificates("v", "", 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].version, VersionId(2));
  ASSERT_FALSE(page->next_cursor.empty());
  auto rest = store_->ListCertificates("v", page->next_cursor, 2);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_TRUE(rest->next_cursor.empty());
  auto versions = store_->ListCertificateVersions("v", "c0", "", 1);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->items.size(), 1u);
  auto more = store_->ListCertificateVersions("v", "c0", versions->next_cursor, 1);
  ASSERT_TRUE(more.ok());
  ASSERT_EQ(more->items.size(), 1u);
  EXPECT_EQ(more->items[0].version, VersionId(2));

  CertificateVersionRecord change;
  change.vault = "v";
  change.name = "c0";
  change.version = VersionId(1);
  change.enabled = false;
  change.expires = 5000;
  change.tags = {{"a", "b"}};
  change.updated = 400;
  auto updated = store_->UpdateCertificateVersion(change);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_FALSE(updated->enabled);
  EXPECT_EQ(updated->tags, (Tags{{"a", "b"}}));
  EXPECT_EQ(updated->cer, Bytes({0x30, 0x82, 0x00, 0x01}));
  auto key = store_->GetKeyVersion("v", "c0", VersionId(1));
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->enabled);
  EXPECT_EQ(key->expires, 5000);
  auto secret = store_->GetSecretVersion("v", "c0", VersionId(1));
  ASSERT_TRUE(secret.ok());
  EXPECT_FALSE(secret->enabled);

  CertificatePolicyRecord policy{"v", "c1", R"({"issuer":{"name":"Unknown"}})", 500};
  ASSERT_TRUE(store_->PutCertificatePolicy(policy).ok());
  auto read = store_->GetCertificatePolicy("v", "c1");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->policy, policy.policy);
  EXPECT_EQ(read->updated, 500);
  policy.name = "none";
  EXPECT_EQ(store_->PutCertificatePolicy(policy).status().kind(), ErrorKind::kNotFound);
  // A vault holding certificates is not deleted.
  EXPECT_TRUE(HasReason(store_->DeleteVault("v"), reason::kNotEmpty));
}

}  // namespace
}  // namespace coffre::store::storetest
