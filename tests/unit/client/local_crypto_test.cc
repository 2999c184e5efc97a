// Local public-key operations against keys and signatures made with OpenSSL directly.
#include "client/local_crypto.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>

namespace coffre::keys::cryptography::_detail {
namespace {

using Bytes = std::vector<uint8_t>;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyFree>;

Bytes BnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  return out;
}

JsonWebKey RsaJwk(EVP_PKEY* key) {
  JsonWebKey jwk;
  jwk.KeyType = KeyVaultKeyType::Rsa;
  jwk.N = BnParam(key, OSSL_PKEY_PARAM_RSA_N);
  jwk.E = BnParam(key, OSSL_PKEY_PARAM_RSA_E);
  return jwk;
}

JsonWebKey EcJwk(EVP_PKEY* key, const KeyCurveName& curve, size_t size) {
  JsonWebKey jwk;
  jwk.KeyType = KeyVaultKeyType::Ec;
  jwk.CurveName = curve;
  Bytes point(1 + 2 * size);
  size_t len = 0;
  EXPECT_EQ(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                            point.size(), &len),
            1);
  jwk.X.assign(point.begin() + 1, point.begin() + 1 + static_cast<long>(size));
  jwk.Y.assign(point.begin() + 1 + static_cast<long>(size), point.end());
  return jwk;
}

Bytes SignDigest(EVP_PKEY* key, const Bytes& digest, const EVP_MD* md, int padding) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  EXPECT_EQ(EVP_PKEY_sign_init(ctx.get()), 1);
  if (padding != 0) {
    EXPECT_GT(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding), 0);
    EXPECT_GT(EVP_PKEY_CTX_set_signature_md(ctx.get(), md), 0);
    if (padding == RSA_PKCS1_PSS_PADDING) {
      EXPECT_GT(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST), 0);
    }
  }
  size_t size = 0;
  EXPECT_EQ(EVP_PKEY_sign(ctx.get(), nullptr, &size, digest.data(), digest.size()), 1);
  Bytes sig(size);
  EXPECT_EQ(EVP_PKEY_sign(ctx.get(), sig.data(), &size, digest.data(), digest.size()), 1);
  sig.resize(size);
  return sig;
}

// DER ECDSA-Sig-Value -> r||s with fixed-size halves, the way Key Vault returns signatures.
Bytes DerToRaw(const Bytes& der, size_t size) {
  const uint8_t* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  Bytes raw(2 * size);
  BN_bn2binpad(r, raw.data(), static_cast<int>(size));
  BN_bn2binpad(s, raw.data() + size, static_cast<int>(size));
  ECDSA_SIG_free(sig);
  return raw;
}

Bytes Decrypt(EVP_PKEY* key, const Bytes& ciphertext, int padding, const EVP_MD* md) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  EXPECT_EQ(EVP_PKEY_decrypt_init(ctx.get()), 1);
  EXPECT_GT(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding), 0);
  if (md != nullptr) {
    EXPECT_GT(EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md), 0);
    EXPECT_GT(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md), 0);
  }
  size_t size = 0;
  EXPECT_EQ(EVP_PKEY_decrypt(ctx.get(), nullptr, &size, ciphertext.data(), ciphertext.size()), 1);
  Bytes out(size);
  EXPECT_EQ(EVP_PKEY_decrypt(ctx.get(), out.data(), &size, ciphertext.data(), ciphertext.size()),
            1);
  out.resize(size);
  return out;
}

class LocalCryptoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { rsa_ = Pkey(EVP_RSA_gen(2048)); }
  static void TearDownTestSuite() { rsa_.reset(); }
  static Pkey rsa_;
};
Pkey LocalCryptoTest::rsa_;

TEST_F(LocalCryptoTest, RsaEncryptDecryptsWithThePrivateKey) {
  JsonWebKey jwk = RsaJwk(rsa_.get());
  Bytes plaintext = {'h', 'e', 'l', 'l', 'o'};
  auto oaep = LocalRsaEncrypt(jwk, "RSA-OAEP", plaintext);
  ASSERT_TRUE(oaep.has_value());
  EXPECT_EQ(oaep->size(), 256u);
  EXPECT_EQ(Decrypt(rsa_.get(), *oaep, RSA_PKCS1_OAEP_PADDING, EVP_sha1()), plaintext);
  auto oaep256 = LocalRsaEncrypt(jwk, "RSA-OAEP-256", plaintext);
  ASSERT_TRUE(oaep256.has_value());
  EXPECT_EQ(Decrypt(rsa_.get(), *oaep256, RSA_PKCS1_OAEP_PADDING, EVP_sha256()), plaintext);
  auto v15 = LocalRsaEncrypt(jwk, "RSA1_5", plaintext);
  ASSERT_TRUE(v15.has_value());
  EXPECT_EQ(Decrypt(rsa_.get(), *v15, RSA_PKCS1_PADDING, nullptr), plaintext);
  // Randomised padding: two encryptions differ.
  EXPECT_NE(*LocalRsaEncrypt(jwk, "RSA-OAEP", plaintext), *oaep);
}

TEST_F(LocalCryptoTest, RsaEncryptDeclinesWhatItCannotDo) {
  JsonWebKey jwk = RsaJwk(rsa_.get());
  EXPECT_FALSE(LocalRsaEncrypt(jwk, "A256GCM", {1}).has_value());
  EXPECT_FALSE(LocalRsaEncrypt(jwk, "RSA-OAEP", Bytes(300, 1)).has_value());  // too long
  JsonWebKey ec;
  ec.KeyType = KeyVaultKeyType::Ec;
  EXPECT_FALSE(LocalRsaEncrypt(ec, "RSA-OAEP", {1}).has_value());
}

TEST_F(LocalCryptoTest, RsaSignaturesVerify) {
  JsonWebKey jwk = RsaJwk(rsa_.get());
  struct Case {
    const char* alg;
    const EVP_MD* md;
    int padding;
  } cases[] = {{"RS256", EVP_sha256(), RSA_PKCS1_PADDING},
               {"RS384", EVP_sha384(), RSA_PKCS1_PADDING},
               {"RS512", EVP_sha512(), RSA_PKCS1_PADDING},
               {"PS256", EVP_sha256(), RSA_PKCS1_PSS_PADDING},
               {"PS384", EVP_sha384(), RSA_PKCS1_PSS_PADDING},
               {"PS512", EVP_sha512(), RSA_PKCS1_PSS_PADDING}};
  for (const auto& c : cases) {
    Bytes digest = DigestFor(c.alg, {'d', 'a', 't', 'a'});
    EXPECT_EQ(digest.size(), static_cast<size_t>(EVP_MD_get_size(c.md))) << c.alg;
    Bytes sig = SignDigest(rsa_.get(), digest, c.md, c.padding);
    EXPECT_EQ(LocalVerify(jwk, c.alg, digest, sig), std::optional<bool>(true)) << c.alg;
    sig[10] ^= 1;
    EXPECT_EQ(LocalVerify(jwk, c.alg, digest, sig), std::optional<bool>(false)) << c.alg;
  }
  // A digest of the wrong size is left to the service.
  EXPECT_FALSE(LocalVerify(jwk, "RS256", Bytes(20, 0), Bytes(256, 0)).has_value());
}

TEST(LocalCrypto, EcdsaRawSignaturesVerifyOnEveryCurve) {
  struct Case {
    const char* group;
    KeyCurveName curve;
    size_t size;
    const char* alg;
    const EVP_MD* md;
  } cases[] = {{"P-256", KeyCurveName::P256, 32, "ES256", EVP_sha256()},
               {"secp256k1", KeyCurveName::P256K, 32, "ES256K", EVP_sha256()},
               {"P-384", KeyCurveName::P384, 48, "ES384", EVP_sha384()},
               {"P-521", KeyCurveName::P521, 66, "ES512", EVP_sha512()}};
  for (const auto& c : cases) {
    Pkey key(EVP_EC_gen(c.group));
    ASSERT_NE(key, nullptr) << c.group;
    JsonWebKey jwk = EcJwk(key.get(), c.curve, c.size);
    Bytes digest = DigestFor(c.alg, {'m', 's', 'g'});
    Bytes raw = DerToRaw(SignDigest(key.get(), digest, c.md, 0), c.size);
    EXPECT_EQ(raw.size(), 2 * c.size);
    EXPECT_EQ(LocalVerify(jwk, c.alg, digest, raw), std::optional<bool>(true)) << c.alg;
    raw.back() ^= 1;
    EXPECT_EQ(LocalVerify(jwk, c.alg, digest, raw), std::optional<bool>(false)) << c.alg;
    EXPECT_EQ(LocalVerify(jwk, c.alg, digest, Bytes(5, 1)), std::optional<bool>(false));
  }
  // Curve and algorithm must match; RSA algorithms need RSA keys.
  Pkey p256(EVP_EC_gen("P-256"));
  JsonWebKey jwk = EcJwk(p256.get(), KeyCurveName::P256, 32);
  EXPECT_FALSE(LocalVerify(jwk, "ES384", Bytes(48, 0), Bytes(96, 0)).has_value());
  EXPECT_FALSE(LocalVerify(jwk, "RS256", Bytes(32, 0), Bytes(256, 0)).has_value());
}

TEST(LocalCrypto, RawToDerShape) {
  Bytes raw(64, 0);
  raw[31] = 1;  // r = 1
  raw[63] = 2;  // s = 2
  auto der = EcdsaRawToDer(raw);
  ASSERT_TRUE(der.has_value());
  EXPECT_EQ(*der, (Bytes{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}));
  // A high bit gets a leading zero in DER.
  Bytes high(64, 0);
  high[0] = 0x80;
  high[63] = 1;
  auto der_high = EcdsaRawToDer(high);
  ASSERT_TRUE(der_high.has_value());
  EXPECT_EQ((*der_high)[3], 33);
  EXPECT_FALSE(EcdsaRawToDer(Bytes(63, 1)).has_value());
  EXPECT_FALSE(EcdsaRawToDer({}).has_value());
}

TEST(LocalCrypto, Digests) {
  EXPECT_EQ(DigestFor("ES256K", {}).size(), 32u);
  EXPECT_EQ(DigestFor("PS384", {}).size(), 48u);
  EXPECT_EQ(DigestFor("ES512", {}).size(), 64u);
  // SHA-256("abc")
  Bytes abc = DigestFor("RS256", {'a', 'b', 'c'});
  EXPECT_EQ(abc[0], 0xba);
  EXPECT_EQ(abc[31], 0xad);
  EXPECT_THROW(DigestFor("HS256", {}), std::invalid_argument);
  EXPECT_EQ(RandomIv().size(), 16u);
}

}  // namespace
}  // namespace coffre::keys::cryptography::_detail
