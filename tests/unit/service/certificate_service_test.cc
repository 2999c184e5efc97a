// Tests for CertificateService over a real SQLite store: Self issuance completes at once and
// writes a usable key and a PFX secret; Unknown waits for a merge that must carry the pending
// key; imports of PFX (with and without password) and PEM; delete, recover and purge cascade;
// hostile inputs get clean errors.
#include "service/certificate_service.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "common/base64url.h"
#include "crypto/certificate.h"
#include "crypto/random.h"
#include "service/material_barrier.h"
#include "service/secret_service.h"
#include "store/store.h"

namespace coffre::service {
namespace {

constexpr int64_t kNow = 1'767'225'600;

class CertificateServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "coffre-certservice-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    barrier_ = std::make_unique<MaterialBarrier>(Barrier(crypto::RandomSecureBytes(32)));
    service_ = std::make_unique<CertificateService>(
        *store_, *barrier_, clock_,
        [](const store::VaultRecord& v) { return "https://" + v.name + ".vault.azure.net"; });
    secrets_ = std::make_unique<SecretService>(*store_, *barrier_, clock_);
    vault_.name = "dev";
    vault_.created = kNow;
    ASSERT_TRUE(store_->PutVault(vault_).ok());
  }
  void TearDown() override {
    service_.reset();
    secrets_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  CreateCertificateRequest Create(std::string name, std::string_view policy_json) {
    CreateCertificateRequest r;
    r.name = std::move(name);
    auto policy =
        ParseCertificatePolicy(boost::json::parse(policy_json), DefaultCertificatePolicy());
    EXPECT_TRUE(policy.ok()) << policy.status().ToString();
    if (policy.ok()) r.policy = *policy;
    return r;
  }

  std::string dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<MaterialBarrier> barrier_;
  std::unique_ptr<CertificateService> service_;
  std::unique_ptr<SecretService> secrets_;
  store::VaultRecord vault_;
};

constexpr char kDefault[] =
    R"({"x509_props":{"subject":"CN=DefaultPolicy"},"issuer":{"name":"Self"}})";

TEST_F(CertificateServiceTest, SelfIssuanceCompletesAtOnceWithKeyAndPfxSecret) {
  auto op = service_->CreateCertificate(vault_, Create("web", kDefault));
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  EXPECT_EQ(op->status, "completed");
  EXPECT_FALSE(op->target_version.empty());

  auto cert = service_->GetCertificate(vault_, "web", "");
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->version, op->target_version);
  EXPECT_EQ(cert->x5t, crypto::Thumbprint(cert->cer));
  EXPECT_EQ(cert->policy.x509.subject, "CN=DefaultPolicy");
  auto facts = crypto::ReadCertificate(cert->cer);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(cert->attributes.expires, facts->not_after);

  auto key = store_->GetKeyVersion("dev", "web", cert->version);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->public_key, facts->public_key);
  EXPECT_EQ(key->key_type, "RSA");

  auto secret = secrets_->GetSecret(vault_, "web", cert->version);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_TRUE(secret->managed);
  EXPECT_EQ(secret->content_type, "application/x-pkcs12");
  EXPECT_EQ(secret->key_id, "https://dev.vault.azure.net/keys/web/" + cert->version);
  auto pfx = Base64UrlDecode(std::string(secret->value.begin(), secret->value.end()));
  ASSERT_TRUE(pfx.has_value());
  auto opened = crypto::ParsePkcs12(*pfx, "", 10);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->key.PublicDer(), facts->public_key);

  // The secrets API does not change or delete it.
  EXPECT_EQ(secrets_->DeleteSecret(vault_, "web").status().inner_code(), "SecretManagedByKeyVault");
}

TEST_F(CertificateServiceTest, UnknownIssuerWaitsForAMergeOfItsOwnKey) {
  auto op =
      service_->CreateCertificate(vault_, Create("ext", R"({"key_props":{"kty":"EC","crv":"P-256"},
          "secret_props":{"contentType":"application/x-pem-file"},
          "x509_props":{"subject":"CN=ext"},"issuer":{"name":"Unknown"}})"));
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  EXPECT_EQ(op->status, "inProgress");
  EXPECT_FALSE(op->csr.empty());
  EXPECT_EQ(service_->GetCertificate(vault_, "ext", "").status().kind(), ErrorKind::kNotFound);
  // A second create while pending is a conflict.
  EXPECT_EQ(service_->CreateCertificate(vault_, Create("ext", kDefault)).status().kind(),
            ErrorKind::kConflict);

  // A CA signs the request (the test plays the CA with its own key).
  const unsigned char* p = op->csr.data();
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(op->csr.size()));
  ASSERT_NE(req, nullptr);
  auto ca_key = crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP256);
  ASSERT_TRUE(ca_key.ok());
  X509* leaf = X509_new();
  X509_set_version(leaf, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(leaf), 7);
  X509_set_subject_name(leaf, X509_REQ_get_subject_name(req));
  X509_NAME* ca_name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(ca_name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Test CA"), -1, -1, 0);
  X509_set_issuer_name(leaf, ca_name);
  X509_gmtime_adj(X509_getm_notBefore(leaf), 0);
  X509_gmtime_adj(X509_getm_notAfter(leaf), 86400 * 30);
  X509_set_pubkey(leaf, X509_REQ_get0_pubkey(req));
  ASSERT_GT(X509_sign(leaf, ca_key->native(), EVP_sha256()), 0);
  Bytes leaf_der(static_cast<size_t>(i2d_X509(leaf, nullptr)));
  unsigned char* out = leaf_der.data();
  i2d_X509(leaf, &out);
  X509_free(leaf);
  X509_NAME_free(ca_name);
  X509_REQ_free(req);

  // A certificate of another key is refused.
  auto foreign = crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP256);
  crypto::X509Properties props;
  props.subject = "CN=ext";
  auto foreign_der = crypto::SelfSignCertificate(*foreign, props, kNow);
  ASSERT_TRUE(foreign_der.ok());
  EXPECT_EQ(
      service_->MergeCertificate(vault_, "ext", {*foreign_der}, {}, std::nullopt).status().kind(),
      ErrorKind::kBadRequest);
  EXPECT_EQ(
      service_->MergeCertificate(vault_, "ext", {Bytes{1, 2, 3}}, {}, std::nullopt).status().kind(),
      ErrorKind::kBadRequest);

  auto merged = service_->MergeCertificate(vault_, "ext", {leaf_der}, {}, std::nullopt);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  auto after = service_->GetOperation(vault_, "ext");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, "completed");
  // The operation names its target only once it completed: the merged version.
  EXPECT_TRUE(op->target_version.empty());
  EXPECT_EQ(merged->version, after->target_version);
  auto secret = secrets_->GetSecret(vault_, "ext", "");
  ASSERT_TRUE(secret.ok());
  std::string pem(secret->value.begin(), secret->value.end());
  EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  auto bundle = crypto::ParsePemBundle(pem, 10);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(bundle->chain[0], leaf_der);
}

TEST_F(CertificateServiceTest, ImportsPfxWithPasswordAndPemAndRefusesBadOnes) {
  auto key = crypto::AsymmetricKey::GenerateRsa(2048);
  crypto::X509Properties props;
  props.subject = "CN=imported";
  auto der = crypto::SelfSignCertificate(*key, props, kNow);
  ASSERT_TRUE(der.ok());
  crypto::KeyAndChain kc{*key, {*der}};
  auto pfx = crypto::BuildPkcs12(kc);
  ASSERT_TRUE(pfx.ok());

  ImportCertificateRequest request;
  request.name = "imp";
  std::string b64 = Base64Encode(*pfx);
  request.value.assign(b64.begin(), b64.end());
  auto imported = service_->ImportCertificate(vault_, request);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->cer, *der);
  EXPECT_EQ(imported->policy.issuer, "Unknown");
  EXPECT_EQ(imported->policy.key_size, 2048);

  auto pem = crypto::BuildPem(kc);
  ASSERT_TRUE(pem.ok());
  ImportCertificateRequest pem_request;
  pem_request.name = "imp-pem";
  pem_request.value = *pem;
  auto from_pem = service_->ImportCertificate(vault_, pem_request);
  ASSERT_TRUE(from_pem.ok()) << from_pem.status().ToString();
  EXPECT_EQ(from_pem->policy.content_type, kPemContentType);

  ImportCertificateRequest bad = request;
  bad.name = "bad";
  bad.value = "not base64!";
  EXPECT_EQ(service_->ImportCertificate(vault_, bad).status().kind(), ErrorKind::kBadRequest);
  std::string half = b64.substr(0, b64.size() / 2);
  bad.value.assign(half.begin(), half.end());
  EXPECT_EQ(service_->ImportCertificate(vault_, bad).status().kind(), ErrorKind::kBadRequest);
  bad.value.assign(b64.begin(), b64.end());
  bad.password = "wrong";
  EXPECT_EQ(service_->ImportCertificate(vault_, bad).status().kind(), ErrorKind::kBadRequest);
  std::string text(pem->begin(), pem->end());
  std::string cert_only = text.substr(text.find("-----BEGIN CERTIFICATE-----"));
  bad.value.assign(cert_only.begin(), cert_only.end());
  bad.password.clear();
  EXPECT_EQ(service_->ImportCertificate(vault_, bad).status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(service_->GetCertificate(vault_, "bad", "").status().kind(), ErrorKind::kNotFound);
}

TEST_F(CertificateServiceTest, DeleteRecoverPurgeCascadeAndPolicyUpdate) {
  ASSERT_TRUE(service_->CreateCertificate(vault_, Create("c", kDefault)).ok());
  int64_t updated = 0;
  auto policy = service_->UpdatePolicy(
      vault_, "c", boost::json::parse(R"({"x509_props":{"validity_months":3}})"), &updated);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->x509.validity_months, 3);
  EXPECT_EQ(
      service_
          ->UpdatePolicy(vault_, "c", boost::json::parse(R"({"x509_props":{"validity_months":0}})"),
                         &updated)
          .status()
          .kind(),
      ErrorKind::kBadRequest);

  auto deleted = service_->DeleteCertificate(vault_, "c");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(store_->GetKeyVersion("dev", "c", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(secrets_->GetSecret(vault_, "c", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(secrets_->PurgeDeletedSecret(vault_, "c").inner_code(), "SecretManagedByKeyVault");
  auto recovered = service_->RecoverDeletedCertificate(vault_, "c");
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(recovered->policy.x509.validity_months, 3);
  EXPECT_TRUE(store_->GetKeyVersion("dev", "c", "").ok());
  ASSERT_TRUE(service_->DeleteCertificate(vault_, "c").ok());
  ASSERT_TRUE(service_->PurgeDeletedCertificate(vault_, "c").ok());
  EXPECT_EQ(store_->GetDeletedKey("dev", "c").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetDeletedSecret("dev", "c").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(service_
                ->CreateCertificate(vault_, Create("x", R"({"x509_props":{"subject":"CN=x"},
      "issuer":{"name":"SomeCA"}})"))
                .status()
                .kind(),
            ErrorKind::kBadRequest);
}

TEST_F(CertificateServiceTest, BackupRestoresAllThreeViewsUnderTheSameVersions) {
  auto op = service_->CreateCertificate(vault_, Create("b", kDefault));
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  auto blob = service_->BackupCertificate(vault_, "b");
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  // Restoring over a live name is a conflict.
  EXPECT_EQ(service_->RestoreCertificate(vault_, *blob).status().kind(), ErrorKind::kConflict);
  ASSERT_TRUE(service_->DeleteCertificate(vault_, "b").ok());
  ASSERT_TRUE(service_->PurgeDeletedCertificate(vault_, "b").ok());
  auto restored = service_->RestoreCertificate(vault_, *blob);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->version, op->target_version);
  auto secret = secrets_->GetSecret(vault_, "b", op->target_version);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_TRUE(secret->managed);
  auto key = store_->GetKeyVersion("dev", "b", op->target_version);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->public_key, crypto::ReadCertificate(restored->cer)->public_key);
  Bytes corrupt = *blob;
  corrupt.back() ^= 1;
  EXPECT_EQ(service_->RestoreCertificate(vault_, corrupt).status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(service_->RestoreCertificate(vault_, Bytes{1, 2}).status().kind(),
            ErrorKind::kBadRequest);
}

TEST_F(CertificateServiceTest, IssuersContactsAndThePrivateCa) {
  EXPECT_EQ(service_->GetContacts(vault_).status().kind(), ErrorKind::kNotFound);
  auto contacts = service_->SetContacts(
      vault_, boost::json::parse(R"({"contacts":[{"email":"a@b.c","name":"A","phone":"1"}]})"));
  ASSERT_TRUE(contacts.ok()) << contacts.status().ToString();
  ASSERT_EQ(contacts->size(), 1u);
  EXPECT_EQ(service_->SetContacts(vault_, boost::json::parse(R"({"contacts":[{"name":"x"}]})"))
                .status()
                .kind(),
            ErrorKind::kBadRequest);
  ASSERT_TRUE(service_->DeleteContacts(vault_).ok());
  EXPECT_EQ(service_->GetContacts(vault_).status().kind(), ErrorKind::kNotFound);

  auto issuer = service_->SetIssuer(
      vault_, "digi",
      boost::json::parse(
          R"({"provider":"DigiCert","credentials":{"account_id":"acct","pwd":"hunter2"}})"));
  ASSERT_TRUE(issuer.ok()) << issuer.status().ToString();
  std::string shown = boost::json::serialize(issuer->document);
  EXPECT_EQ(shown.find("hunter2"), std::string::npos);
  EXPECT_NE(shown.find("acct"), std::string::npos);
  auto stored = store_->GetCertificateSetting("dev", "issuer", "digi");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->document.find("hunter2"), std::string::npos);
  // An outside CA cannot be reached: the operation fails cleanly.
  auto failed = service_->CreateCertificate(
      vault_, Create("ext", R"({"x509_props":{"subject":"CN=e"},"issuer":{"name":"digi"}})"));
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->status, "failed");
  EXPECT_TRUE(failed->error_code.has_value());

  ASSERT_TRUE(
      service_->SetIssuer(vault_, "internal", boost::json::parse(R"({"provider":"Coffre"})")).ok());
  auto ca_issuer = service_->GetIssuer(vault_, "internal");
  ASSERT_TRUE(ca_issuer.ok()) << ca_issuer.status().ToString();
  ASSERT_TRUE(ca_issuer->document.contains("ca_certificate"));
  auto ca_der = Base64UrlDecode(std::string(ca_issuer->document.at("ca_certificate").as_string()));
  ASSERT_TRUE(ca_der.has_value());
  auto op = service_->CreateCertificate(
      vault_,
      Create("svc", R"({"x509_props":{"subject":"CN=svc","sans":{"dns_names":["svc.internal"]}},
                         "issuer":{"name":"internal"}})"));
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  EXPECT_EQ(op->status, "completed");
  auto cert = service_->GetCertificate(vault_, "svc", "");
  ASSERT_TRUE(cert.ok());
  // The leaf verifies under the CA's key.
  const unsigned char* p = cert->cer.data();
  X509* leaf = d2i_X509(nullptr, &p, static_cast<long>(cert->cer.size()));
  p = ca_der->data();
  X509* ca = d2i_X509(nullptr, &p, static_cast<long>(ca_der->size()));
  ASSERT_NE(leaf, nullptr);
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(X509_verify(leaf, X509_get0_pubkey(ca)), 1);
  X509_free(leaf);
  X509_free(ca);

  auto list = service_->ListIssuers(vault_, PageRequest{});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items.size(), 2u);
  ASSERT_TRUE(service_->DeleteIssuer(vault_, "digi").ok());
  EXPECT_EQ(service_->GetIssuer(vault_, "digi").status().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace coffre::service
