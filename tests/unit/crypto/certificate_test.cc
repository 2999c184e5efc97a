// X.509 helpers of the certificates API: self-signed certificates and requests carry the
// policy's properties, PFX and PEM bundles round-trip and bad ones give clean errors.
#include "crypto/certificate.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>

#include "gtest/gtest.h"

namespace coffre::crypto {
namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

X509Properties Properties() {
  X509Properties p;
  p.subject = "CN=web.internal, O=Coffre";
  p.dns_names = {"web.internal", "www.web.internal"};
  p.emails = {"ops@example.com"};
  p.upns = {"svc@example.com"};
  p.ekus = {"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"};
  p.key_usage = {"digitalSignature", "keyEncipherment"};
  p.validity_months = 12;
  return p;
}

X509* Parse(const Bytes& der) {
  const unsigned char* p = der.data();
  return d2i_X509(nullptr, &p, static_cast<long>(der.size()));
}

TEST(CertificateTest, SelfSignedCarriesThePolicy) {
  auto key = AsymmetricKey::GenerateRsa(2048);
  ASSERT_TRUE(key.ok());
  auto der = SelfSignCertificate(*key, Properties(), kNow);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto facts = ReadCertificate(*der);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->not_before, kNow);
  EXPECT_EQ(facts->not_after, 1798761600);  // 2027-01-01: twelve calendar months
  EXPECT_EQ(facts->public_key, key->PublicDer());
  EXPECT_NE(facts->subject.find("CN=web.internal"), std::string::npos);
  EXPECT_EQ(Thumbprint(*der).size(), 20u);

  X509* cert = Parse(*der);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_verify(cert, X509_get0_pubkey(cert)), 1);
  EXPECT_EQ(X509_check_host(cert, "www.web.internal", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_email(cert, "ops@example.com", 0, 0), 1);
  EXPECT_TRUE(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER);
  EXPECT_TRUE(X509_get_key_usage(cert) & KU_KEY_ENCIPHERMENT);
  EXPECT_FALSE(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN);
  X509_free(cert);
}

TEST(CertificateTest, RequestIsSignedByTheKey) {
  auto key = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(key.ok());
  auto csr = CreateCertificateRequest(*key, Properties());
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  const unsigned char* p = csr->data();
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr->size()));
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(X509_REQ_verify(req, key->native()), 1);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  EXPECT_EQ(sk_X509_EXTENSION_num(exts), 3);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
}

TEST(CertificateTest, BadSubjectsAndKeyUsagesAreRefused) {
  auto key = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(key.ok());
  for (const char* subject : {"", "CN", "=x", "CN=a,", "NOPE=x"}) {
    X509Properties p = Properties();
    p.subject = subject;
    EXPECT_EQ(SelfSignCertificate(*key, p, kNow).status().kind(), ErrorKind::kBadRequest)
        << subject;
  }
  X509Properties p = Properties();
  p.key_usage = {"signEverything"};
  EXPECT_EQ(SelfSignCertificate(*key, p, kNow).status().kind(), ErrorKind::kBadRequest);
  p = Properties();
  p.ekus = {"not-an-oid"};
  EXPECT_EQ(CreateCertificateRequest(*key, p).status().kind(), ErrorKind::kBadRequest);
}

TEST(CertificateTest, PfxAndPemRoundTrip) {
  auto key = AsymmetricKey::GenerateEc(Curve::kP384);
  ASSERT_TRUE(key.ok());
  auto der = SelfSignCertificate(*key, Properties(), kNow);
  ASSERT_TRUE(der.ok());
  KeyAndChain bundle{*key, {*der}};

  auto pfx = BuildPkcs12(bundle);
  ASSERT_TRUE(pfx.ok()) << pfx.status().ToString();
  auto back = ParsePkcs12(*pfx, "", 10);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->key.PublicDer(), key->PublicDer());
  ASSERT_EQ(back->chain.size(), 1u);
  EXPECT_EQ(back->chain[0], *der);

  auto pem = BuildPem(bundle);
  ASSERT_TRUE(pem.ok());
  std::string text(pem->begin(), pem->end());
  EXPECT_NE(text.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  auto from_pem = ParsePemBundle(text, 10);
  ASSERT_TRUE(from_pem.ok()) << from_pem.status().ToString();
  EXPECT_EQ(from_pem->chain[0], *der);
  EXPECT_EQ(from_pem->key.PublicDer(), key->PublicDer());
}

TEST(CertificateTest, HostileBundlesGetCleanErrors) {
  auto key = AsymmetricKey::GenerateEc(Curve::kP256);
  auto other = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(key.ok() && other.ok());
  auto der = SelfSignCertificate(*key, Properties(), kNow);
  ASSERT_TRUE(der.ok());
  auto pfx = BuildPkcs12(KeyAndChain{*key, {*der}});
  ASSERT_TRUE(pfx.ok());

  Bytes corrupt = *pfx;
  corrupt.resize(corrupt.size() / 2);
  EXPECT_EQ(ParsePkcs12(corrupt, "", 10).status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(ParsePkcs12(Bytes{0x30, 0x00}, "", 10).status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(ParsePkcs12(*pfx, "wrong", 10).status().kind(), ErrorKind::kBadRequest);

  auto pem = BuildPem(KeyAndChain{*key, {*der}});
  ASSERT_TRUE(pem.ok());
  std::string text(pem->begin(), pem->end());
  std::string cert_only = text.substr(text.find("-----BEGIN CERTIFICATE-----"));
  EXPECT_EQ(ParsePemBundle(cert_only, 10).status().kind(), ErrorKind::kBadRequest);
  // A key that is not the certificate's.
  SecureString other_pem = other->PrivatePem();
  std::string mismatched(other_pem.begin(), other_pem.end());
  mismatched += cert_only;
  EXPECT_EQ(ParsePemBundle(mismatched, 10).status().kind(), ErrorKind::kBadRequest);
  // Too many certificates.
  std::string many = text;
  for (int i = 0; i < 3; ++i) many += cert_only;
  EXPECT_EQ(ParsePemBundle(many, 2).status().kind(), ErrorKind::kBadRequest);

  EXPECT_EQ(ParseCertificates(Bytes{0x01, 0x02}, 10).status().kind(), ErrorKind::kBadRequest);
  auto certs = ParseCertificates(AsBytes(cert_only), 10);
  ASSERT_TRUE(certs.ok());
  EXPECT_EQ(certs->front(), *der);
  EXPECT_EQ(ReadCertificate(Bytes{0x30, 0x03, 0x01}).status().kind(), ErrorKind::kBadRequest);
}

}  // namespace
}  // namespace coffre::crypto
