#include "crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

#include "crypto/asymmetric_key.h"

namespace coffre::crypto {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr Parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

// The equivalent of `openssl verify -purpose sslserver -CAfile ca.pem leaf.pem`.
bool VerifyChain(X509* ca, X509* leaf) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  bool ok = store != nullptr && ctx != nullptr && X509_STORE_add_cert(store, ca) == 1 &&
            X509_STORE_CTX_init(ctx, store, leaf, nullptr) == 1 &&
            X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) == 1 &&
            X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

bool MatchesHost(X509* cert, const std::string& host) {
  return X509_check_host(cert, host.data(), host.size(), 0, nullptr) == 1;
}

bool MatchesIp(X509* cert, const char* ip) { return X509_check_ip_asc(cert, ip, 0) == 1; }

class X509Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto ca = CreateDevCa("Coffre Dev CA", 3650);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = new CertificateAndKey(std::move(*ca));
    auto leaf = IssueServerCertificate(*ca_, {"dev.localhost", "*.vault.azure.net", "localhost"},
                                       {"127.0.0.1", "::1"}, 365);
    ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
    leaf_ = new CertificateAndKey(std::move(*leaf));
  }
  static void TearDownTestSuite() {
    delete ca_;
    delete leaf_;
  }

  static CertificateAndKey* ca_;
  static CertificateAndKey* leaf_;
};
CertificateAndKey* X509Test::ca_ = nullptr;
CertificateAndKey* X509Test::leaf_ = nullptr;

TEST_F(X509Test, CaCertificate) {
  X509Ptr ca = Parse(ca_->cert_pem);
  ASSERT_TRUE(ca);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_TRUE(X509_get_key_usage(ca.get()) & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(X509_get_key_usage(ca.get()) & KU_CRL_SIGN);
  EXPECT_NE(X509_get0_subject_key_id(ca.get()), nullptr);
  EXPECT_EQ(X509_check_issued(ca.get(), ca.get()), X509_V_OK);
  int crit = 0;
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(ca.get(), NID_basic_constraints, &crit, nullptr));
  ASSERT_NE(bc, nullptr);
  EXPECT_EQ(crit, 1);
  EXPECT_TRUE(bc->ca);
  BASIC_CONSTRAINTS_free(bc);

  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(ca.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "Coffre Dev CA");
  EXPECT_EQ(X509_get_signature_nid(ca.get()), NID_ecdsa_with_SHA256);

  auto key = AsymmetricKey::FromPrivatePem(std::string_view(ca_->key_pem));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->curve(), Curve::kP256);
  EXPECT_EQ(X509_check_private_key(ca.get(), key->native()), 1);
}

TEST_F(X509Test, LeafVerifiesAgainstCa) {
  X509Ptr ca = Parse(ca_->cert_pem);
  X509Ptr leaf = Parse(leaf_->cert_pem);
  ASSERT_TRUE(ca && leaf);
  EXPECT_TRUE(VerifyChain(ca.get(), leaf.get()));

  // A leaf from another CA does not verify.
  auto other_ca = CreateDevCa("Other CA", 30);
  ASSERT_TRUE(other_ca.ok());
  X509Ptr other = Parse(other_ca->cert_pem);
  EXPECT_FALSE(VerifyChain(other.get(), leaf.get()));
}

// The dev CA is name-constrained to the names it issues for: shells that trust it cannot be
// fooled by a certificate its key signs for any other host.
TEST_F(X509Test, DevCaIsNameConstrained) {
  X509Ptr ca = Parse(ca_->cert_pem);
  ASSERT_TRUE(ca);
  int crit = 0;
  auto* constraints = static_cast<NAME_CONSTRAINTS*>(
      X509_get_ext_d2i(ca.get(), NID_name_constraints, &crit, nullptr));
  ASSERT_NE(constraints, nullptr);
  EXPECT_EQ(crit, 1);
  NAME_CONSTRAINTS_free(constraints);
  auto constrained = CertificateIsNameConstrained(ca_->cert_pem);
  ASSERT_TRUE(constrained.ok());
  EXPECT_TRUE(*constrained);

  for (const char* name : {"evil.example.com", "localhost.evil.com", "vault.azure.net.evil.com"}) {
    auto leaf = IssueServerCertificate(*ca_, {name}, {}, 30);
    ASSERT_TRUE(leaf.ok());
    X509Ptr cert = Parse(leaf->cert_pem);
    EXPECT_FALSE(VerifyChain(ca.get(), cert.get())) << name;
  }
  auto ip_leaf = IssueServerCertificate(*ca_, {}, {"10.1.2.3"}, 30);
  ASSERT_TRUE(ip_leaf.ok());
  X509Ptr ip_cert = Parse(ip_leaf->cert_pem);
  EXPECT_FALSE(VerifyChain(ca.get(), ip_cert.get()));
  for (const char* name : {"localhost", "other.localhost", "myvault.vault.azure.net"}) {
    auto leaf = IssueServerCertificate(*ca_, {name}, {"127.0.0.1", "::1"}, 30);
    ASSERT_TRUE(leaf.ok());
    X509Ptr cert = Parse(leaf->cert_pem);
    EXPECT_TRUE(VerifyChain(ca.get(), cert.get())) << name;
  }
}

TEST_F(X509Test, LeafNamesAndExtensions) {
  X509Ptr ca = Parse(ca_->cert_pem);
  X509Ptr leaf = Parse(leaf_->cert_pem);
  ASSERT_TRUE(ca && leaf);
  EXPECT_TRUE(MatchesHost(leaf.get(), "dev.localhost"));
  EXPECT_TRUE(MatchesHost(leaf.get(), "foo.vault.azure.net"));
  EXPECT_TRUE(MatchesHost(leaf.get(), "localhost"));
  EXPECT_FALSE(MatchesHost(leaf.get(), "a.b.vault.azure.net"));
  EXPECT_FALSE(MatchesHost(leaf.get(), "example.com"));
  EXPECT_TRUE(MatchesIp(leaf.get(), "127.0.0.1"));
  EXPECT_TRUE(MatchesIp(leaf.get(), "::1"));
  EXPECT_FALSE(MatchesIp(leaf.get(), "127.0.0.2"));

  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_TRUE(X509_get_extended_key_usage(leaf.get()) & XKU_SSL_SERVER);
  EXPECT_TRUE(X509_get_key_usage(leaf.get()) & KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(X509_get_key_usage(leaf.get()) & KU_KEY_CERT_SIGN);
  EXPECT_EQ(X509_get_signature_nid(leaf.get()), NID_ecdsa_with_SHA256);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(leaf.get());
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(ca.get());
  ASSERT_NE(aki, nullptr);
  ASSERT_NE(ski, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, ski), 0);

  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(leaf.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "dev.localhost");

  // Random 16-byte serial.
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf.get()), nullptr);
  ASSERT_NE(serial, nullptr);
  EXPECT_GT(BN_num_bits(serial), 64);
  EXPECT_LE(BN_num_bytes(serial), 16);
  BN_free(serial);

  // notBefore is backdated by about an hour.
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notBefore(leaf.get())), 1);
  int64_t offset = int64_t{days} * 86400 + secs;
  EXPECT_LE(offset, -3500);
  EXPECT_GE(offset, -3700);

  auto key = AsymmetricKey::FromPrivatePem(std::string_view(leaf_->key_pem));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->curve(), Curve::kP256);
  EXPECT_EQ(X509_check_private_key(leaf.get(), key->native()), 1);
}

TEST_F(X509Test, ReadBackNamesAndExpiry) {
  auto names = CertificateDnsNames(leaf_->cert_pem);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"dev.localhost", "*.vault.azure.net", "localhost"}));
  auto ca_names = CertificateDnsNames(ca_->cert_pem);
  ASSERT_TRUE(ca_names.ok());
  EXPECT_TRUE(ca_names->empty());

  auto not_after = CertificateNotAfter(leaf_->cert_pem);
  ASSERT_TRUE(not_after.ok());
  int64_t expected = static_cast<int64_t>(std::time(nullptr)) + 365 * 86400;
  EXPECT_NEAR(static_cast<double>(*not_after), static_cast<double>(expected), 120.0);

  EXPECT_FALSE(CertificateDnsNames("").ok());
  EXPECT_FALSE(CertificateDnsNames("-----BEGIN CERTIFICATE-----\nAAAA\n").ok());
  EXPECT_FALSE(CertificateNotAfter("garbage").ok());
}

TEST_F(X509Test, IpOnlyCertificate) {
  auto leaf = IssueServerCertificate(*ca_, {}, {"10.1.2.3"}, 10);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  X509Ptr cert = Parse(leaf->cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_TRUE(MatchesIp(cert.get(), "10.1.2.3"));
  auto names = CertificateDnsNames(leaf->cert_pem);
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_F(X509Test, RejectsBadInput) {
  EXPECT_FALSE(CreateDevCa("", 10).ok());
  EXPECT_FALSE(CreateDevCa("CA", 0).ok());
  EXPECT_FALSE(IssueServerCertificate(*ca_, {}, {}, 10).ok());
  EXPECT_FALSE(IssueServerCertificate(*ca_, {"bad name"}, {}, 10).ok());
  EXPECT_FALSE(IssueServerCertificate(*ca_, {"a,DNS:evil.com"}, {}, 10).ok());
  EXPECT_FALSE(IssueServerCertificate(*ca_, {"ok.localhost"}, {"999.1.1.1"}, 10).ok());
  EXPECT_FALSE(IssueServerCertificate(*ca_, {"ok.localhost"}, {"localhost"}, 10).ok());
  EXPECT_FALSE(IssueServerCertificate(*ca_, {"ok.localhost"}, {}, -1).ok());

  // The CA key must belong to the CA certificate.
  auto other = CreateDevCa("Other", 10);
  ASSERT_TRUE(other.ok());
  CertificateAndKey mismatched{ca_->cert_pem, other->key_pem};
  EXPECT_FALSE(IssueServerCertificate(mismatched, {"ok.localhost"}, {}, 10).ok());
  CertificateAndKey garbage{"not a cert", ca_->key_pem};
  EXPECT_FALSE(IssueServerCertificate(garbage, {"ok.localhost"}, {}, 10).ok());
}

}  // namespace
}  // namespace coffre::crypto
