#include "crypto/asymmetric_key.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/base64url.h"
#include "crypto/random.h"

namespace coffre::crypto {
namespace {

// A 1024-bit DSA key (openssl genpkey), as PKCS#8 and as SubjectPublicKeyInfo.
constexpr std::string_view kDsaPkcs8 =
    "MIIBSwIBADCCASsGByqGSM44BAEwggEeAoGBAKwvtYLU3Fx5pCMRWVf3NwoTdX8pGrn8UmwocEdOysZwf4/"
    "G5GJyjRf5lfbB8DJDpngm3Ve3LC2LeXQv2q5sby/zec90axenjewLOjXCa53+YZwHWMWo1CuOT6wEw4vz9HogMPnFmOV"
    "bIDjkZ2AH4krY55bM1iidX8PRDIYhrhlFAhUA+yPsgTvRk+y43zWi/GqbzlGQvTECgYBGMp9qvA4vxQFCMhkpc3f2cVd"
    "6ILEDWtKrUE6zdvVvTdXmpugSSbZjirnKcgqYoK1VWIIbxaqtP2mypjYm+1556+dZ4zzpWUQvc5eU9mhcJ8N+bkiDm/"
    "OoqHM1XBBIUXNe6SjhEe3d8Rp46r4acanKu0Y9icEQuTXEnunb2J6CwwQXAhUA92AnbFZjUFvufGZKnb2Rp1NEeBU=";
constexpr std::string_view kDsaSpki =
    "MIIBtjCCASsGByqGSM44BAEwggEeAoGBAKwvtYLU3Fx5pCMRWVf3NwoTdX8pGrn8UmwocEdOysZwf4/"
    "G5GJyjRf5lfbB8DJDpngm3Ve3LC2LeXQv2q5sby/zec90axenjewLOjXCa53+YZwHWMWo1CuOT6wEw4vz9HogMPnFmOV"
    "bIDjkZ2AH4krY55bM1iidX8PRDIYhrhlFAhUA+yPsgTvRk+y43zWi/GqbzlGQvTECgYBGMp9qvA4vxQFCMhkpc3f2cVd"
    "6ILEDWtKrUE6zdvVvTdXmpugSSbZjirnKcgqYoK1VWIIbxaqtP2mypjYm+1556+dZ4zzpWUQvc5eU9mhcJ8N+bkiDm/"
    "OoqHM1XBBIUXNe6SjhEe3d8Rp46r4acanKu0Y9icEQuTXEnunb2J6CwwOBhAACgYBaDVMbOSJfRQHvTcbBRwGJFdTXyU"
    "NUFjJET+0AlVtwvLsrvCvO8bZ5+hf3k2UjwO/yfjAaX3tts9glw5S1Ite9Hfp79995NDnG2WKDIEW2SUNr2xuFk7R1Sb"
    "I2OP8+nqTo2yYUVHzBwai1NRUWTrjapSyb4dtcJcyXUtRCN5KNaA==";

Bytes Decode(std::string_view b64) {
  auto bytes = Base64UrlDecode(b64);
  EXPECT_TRUE(bytes.has_value());
  return bytes.value_or(Bytes{});
}

// PKCS#8 and SPKI DER of a key made directly with OpenSSL (for types we must refuse).
Bytes Pkcs8Of(EVP_PKEY* pkey) {
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(pkey);
  unsigned char* data = nullptr;
  int len = p8 != nullptr ? i2d_PKCS8_PRIV_KEY_INFO(p8, &data) : -1;
  Bytes out;
  if (len > 0) out.assign(data, data + len);
  OPENSSL_free(data);
  PKCS8_PRIV_KEY_INFO_free(p8);
  return out;
}
Bytes SpkiOf(EVP_PKEY* pkey) {
  unsigned char* data = nullptr;
  int len = i2d_PUBKEY(pkey, &data);
  Bytes out;
  if (len > 0) out.assign(data, data + len);
  OPENSSL_free(data);
  return out;
}

Bytes ToBytes(const SecureBytes& s) { return Bytes(s.begin(), s.end()); }

TEST(CurveTest, Names) {
  for (Curve c : {Curve::kP256, Curve::kP384, Curve::kP521, Curve::kP256K}) {
    EXPECT_EQ(CurveFromName(CurveName(c)), c);
  }
  EXPECT_EQ(CurveName(Curve::kP256K), "P-256K");
  EXPECT_EQ(CurveCoordinateSize(Curve::kP256), 32u);
  EXPECT_EQ(CurveCoordinateSize(Curve::kP384), 48u);
  EXPECT_EQ(CurveCoordinateSize(Curve::kP521), 66u);
  EXPECT_EQ(CurveCoordinateSize(Curve::kP256K), 32u);
  EXPECT_FALSE(CurveFromName("p-256").has_value());
  EXPECT_FALSE(CurveFromName("secp256k1").has_value());
  EXPECT_FALSE(CurveFromName("").has_value());
}

TEST(AsymmetricKeyTest, Rsa2048) {
  auto key = AsymmetricKey::GenerateRsa(2048);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->family(), KeyFamily::kRsa);
  EXPECT_EQ(key->bits(), 2048);
  EXPECT_TRUE(key->has_private());
  EXPECT_FALSE(key->curve().has_value());
  PublicKeyParams params = key->PublicParams();
  EXPECT_EQ(params.family, KeyFamily::kRsa);
  ASSERT_EQ(params.n.size(), 256u);
  EXPECT_NE(params.n[0], 0);
  EXPECT_EQ(params.e, (Bytes{0x01, 0x00, 0x01}));

  // PKCS#8 round trip keeps the same key.
  SecureBytes der = key->PrivateDer();
  ASSERT_FALSE(der.empty());
  auto reloaded = AsymmetricKey::FromPrivateDer(der);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_TRUE(reloaded->has_private());
  EXPECT_EQ(reloaded->PublicDer(), key->PublicDer());
  EXPECT_EQ(ToBytes(reloaded->PrivateDer()), ToBytes(der));

  // SPKI round trip gives a public-only key with the same parameters.
  auto pub = AsymmetricKey::FromPublicDer(key->PublicDer());
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_FALSE(pub->has_private());
  EXPECT_TRUE(pub->PrivateDer().empty());
  EXPECT_TRUE(pub->PrivatePem().empty());
  EXPECT_EQ(pub->PublicParams().n, params.n);
  EXPECT_EQ(pub->PublicParams().e, params.e);

  // PEM round trip.
  SecureString pem = key->PrivatePem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  auto from_pem = AsymmetricKey::FromPrivatePem(std::string_view(pem));
  ASSERT_TRUE(from_pem.ok()) << from_pem.status().ToString();
  EXPECT_EQ(from_pem->PublicDer(), key->PublicDer());
}

TEST(AsymmetricKeyTest, RsaExponentAndSizeLimits) {
  auto key = AsymmetricKey::GenerateRsa(2048, 3);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->PublicParams().e, Bytes{0x03});
  EXPECT_FALSE(AsymmetricKey::GenerateRsa(1024).ok());
  EXPECT_FALSE(AsymmetricKey::GenerateRsa(2048, 65536).ok());
  EXPECT_FALSE(AsymmetricKey::GenerateRsa(2048, 1).ok());
}

TEST(AsymmetricKeyTest, ParsesRsa1024) {
  // Parsing accepts smaller keys; callers decide which sizes they allow.
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  ASSERT_NE(pkey, nullptr);
  auto key = AsymmetricKey::FromPrivateDer(Pkcs8Of(pkey));
  EVP_PKEY_free(pkey);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->bits(), 1024);
}

class EcKeyTest : public ::testing::TestWithParam<std::pair<Curve, int>> {};

TEST_P(EcKeyTest, GenerateSerializeAndParams) {
  const auto [curve, bits] = GetParam();
  auto key = AsymmetricKey::GenerateEc(curve);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->family(), KeyFamily::kEc);
  EXPECT_EQ(key->curve(), curve);
  EXPECT_EQ(key->bits(), bits);
  PublicKeyParams params = key->PublicParams();
  EXPECT_EQ(params.family, KeyFamily::kEc);
  EXPECT_EQ(params.curve, curve);
  EXPECT_EQ(params.x.size(), CurveCoordinateSize(curve));
  EXPECT_EQ(params.y.size(), CurveCoordinateSize(curve));
  EXPECT_NE(params.x, params.y);

  auto reloaded = AsymmetricKey::FromPrivateDer(key->PrivateDer());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->curve(), curve);
  EXPECT_EQ(reloaded->PublicDer(), key->PublicDer());

  auto pub = AsymmetricKey::FromPublicDer(key->PublicDer());
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_FALSE(pub->has_private());
  EXPECT_EQ(pub->curve(), curve);
  EXPECT_EQ(pub->PublicParams().x, params.x);
  EXPECT_EQ(pub->PublicParams().y, params.y);

  auto from_pem = AsymmetricKey::FromPrivatePem(std::string_view(key->PrivatePem()));
  ASSERT_TRUE(from_pem.ok()) << from_pem.status().ToString();
  EXPECT_EQ(from_pem->PublicDer(), key->PublicDer());
}

INSTANTIATE_TEST_SUITE_P(Curves, EcKeyTest,
                         ::testing::Values(std::pair{Curve::kP256, 256},
                                           std::pair{Curve::kP384, 384},
                                           std::pair{Curve::kP521, 521},
                                           std::pair{Curve::kP256K, 256}));

TEST(AsymmetricKeyTest, EcCoordinatesArePadded) {
  // About one key in 128 has a coordinate with a leading zero byte; generate until both the
  // P-521 top byte (always 0 or 1) and a P-256 leading zero are seen.
  auto p521 = AsymmetricKey::GenerateEc(Curve::kP521);
  ASSERT_TRUE(p521.ok());
  EXPECT_LE(p521->PublicParams().x[0], 1);
  bool saw_zero = false;
  for (int i = 0; i < 2000 && !saw_zero; ++i) {
    auto key = AsymmetricKey::GenerateEc(Curve::kP256);
    ASSERT_TRUE(key.ok());
    PublicKeyParams params = key->PublicParams();
    ASSERT_EQ(params.x.size(), 32u);
    ASSERT_EQ(params.y.size(), 32u);
    saw_zero = params.x[0] == 0 || params.y[0] == 0;
  }
  EXPECT_TRUE(saw_zero);
}

TEST(AsymmetricKeyTest, ReadsTraditionalPem) {
  auto key = AsymmetricKey::GenerateEc(Curve::kP384);
  ASSERT_TRUE(key.ok());
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey_traditional(bio, key->native(), nullptr, nullptr, 0, nullptr,
                                                 nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  EXPECT_NE(pem.find("BEGIN EC PRIVATE KEY"), std::string::npos);
  auto parsed = AsymmetricKey::FromPrivatePem(pem);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->PublicDer(), key->PublicDer());
}

TEST(AsymmetricKeyTest, RejectsEd25519) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_NE(pkey, nullptr);
  Bytes pkcs8 = Pkcs8Of(pkey);
  Bytes spki = SpkiOf(pkey);
  EVP_PKEY_free(pkey);
  ASSERT_FALSE(pkcs8.empty());
  ASSERT_FALSE(spki.empty());
  auto priv = AsymmetricKey::FromPrivateDer(pkcs8);
  ASSERT_FALSE(priv.ok());
  EXPECT_EQ(priv.status().kind(), ErrorKind::kBadRequest);
  EXPECT_FALSE(AsymmetricKey::FromPublicDer(spki).ok());
}

TEST(AsymmetricKeyTest, RejectsDsa) {
  auto priv = AsymmetricKey::FromPrivateDer(Decode(kDsaPkcs8));
  ASSERT_FALSE(priv.ok());
  EXPECT_EQ(priv.status().message(), "unsupported key type");
  auto pub = AsymmetricKey::FromPublicDer(Decode(kDsaSpki));
  ASSERT_FALSE(pub.ok());
  EXPECT_EQ(pub.status().message(), "unsupported key type");
}

TEST(AsymmetricKeyTest, RejectsUnsupportedCurve) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp224r1");
  ASSERT_NE(pkey, nullptr);
  Bytes pkcs8 = Pkcs8Of(pkey);
  Bytes spki = SpkiOf(pkey);
  EVP_PKEY_free(pkey);
  auto priv = AsymmetricKey::FromPrivateDer(pkcs8);
  ASSERT_FALSE(priv.ok());
  EXPECT_EQ(priv.status().message(), "unsupported elliptic curve");
  EXPECT_FALSE(AsymmetricKey::FromPublicDer(spki).ok());
}

TEST(AsymmetricKeyTest, RejectsPointOffCurve) {
  auto key = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(key.ok());
  Bytes spki = key->PublicDer();
  spki.back() ^= 0x01;  // last byte of y
  EXPECT_FALSE(AsymmetricKey::FromPublicDer(spki).ok());

  // The point at infinity (a lone 0x00 octet) parses in OpenSSL but is no public key.
  const Bytes infinity = {0x30, 0x19, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                          0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                          0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x02, 0x00, 0x00};
  EXPECT_FALSE(AsymmetricKey::FromPublicDer(infinity).ok());
}

TEST(AsymmetricKeyTest, RejectsGarbage) {
  EXPECT_FALSE(AsymmetricKey::FromPrivateDer({}).ok());
  EXPECT_FALSE(AsymmetricKey::FromPublicDer({}).ok());
  EXPECT_FALSE(AsymmetricKey::FromPrivatePem("").ok());
  EXPECT_FALSE(AsymmetricKey::FromPrivatePem("-----BEGIN PRIVATE KEY-----\nAAAA\n").ok());
  for (int i = 0; i < 50; ++i) {
    Bytes junk = RandomBytes(static_cast<size_t>(1 + i * 7));
    EXPECT_FALSE(AsymmetricKey::FromPrivateDer(junk).ok());
    EXPECT_FALSE(AsymmetricKey::FromPublicDer(junk).ok());
  }

  auto key = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(key.ok());
  Bytes der = ToBytes(key->PrivateDer());
  Bytes spki = key->PublicDer();
  // Truncated at every length, and with trailing bytes.
  for (size_t len = 0; len < der.size(); ++len) {
    EXPECT_FALSE(AsymmetricKey::FromPrivateDer(ByteSpan(der.data(), len)).ok()) << len;
  }
  for (size_t len = 0; len < spki.size(); ++len) {
    EXPECT_FALSE(AsymmetricKey::FromPublicDer(ByteSpan(spki.data(), len)).ok()) << len;
  }
  der.push_back(0);
  spki.push_back(0);
  EXPECT_FALSE(AsymmetricKey::FromPrivateDer(der).ok());
  EXPECT_FALSE(AsymmetricKey::FromPublicDer(spki).ok());
  // A public key is not a private key and vice versa.
  spki.pop_back();
  der.pop_back();
  EXPECT_FALSE(AsymmetricKey::FromPrivateDer(spki).ok());
  EXPECT_FALSE(AsymmetricKey::FromPublicDer(der).ok());
}

TEST(AsymmetricKeyTest, RefusesEncryptedPemWithoutPrompting) {
  auto key = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(key.ok());
  BIO* bio = BIO_new(BIO_s_mem());
  static char pass[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, key->native(), EVP_aes_256_cbc(), nullptr, 0,
                                          nullptr, pass),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  EXPECT_FALSE(AsymmetricKey::FromPrivatePem(pem).ok());
}

}  // namespace
}  // namespace coffre::crypto

namespace coffre::crypto {
namespace {

TEST(EcDerTest, DirectEncodingsEqualOpenSslsForEveryCurve) {
  for (Curve curve : {Curve::kP256, Curve::kP384, Curve::kP521, Curve::kP256K}) {
    for (int i = 0; i < 40; ++i) {
      auto key = AsymmetricKey::GenerateEc(curve);
      ASSERT_TRUE(key.ok());
      EXPECT_EQ(key->PublicDer(), key->PublicDerFromEncoder()) << static_cast<int>(curve);
      EXPECT_EQ(key->PrivateDer(), key->PrivateDerFromEncoder()) << static_cast<int>(curve);
      // And they read back as the same key.
      auto reread = AsymmetricKey::FromPrivateDer(key->PrivateDer());
      ASSERT_TRUE(reread.ok());
      EXPECT_EQ(reread->PublicDer(), key->PublicDer());
      auto public_only = AsymmetricKey::FromPublicDer(key->PublicDer());
      ASSERT_TRUE(public_only.ok());
      EXPECT_EQ(public_only->PublicDer(), key->PublicDer());
      EXPECT_TRUE(public_only->PrivateDer().empty());
    }
  }
}

}  // namespace
}  // namespace coffre::crypto
