// RSA and ECDSA operations and key import: round trips, boundaries, and cross-checks against
// OpenSSL's own message-level APIs (EVP_DigestSign / EVP_DigestVerify), which hash the message
// themselves and so are an independent path from the digest-based functions under test.
#include "crypto/key_operations.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <string>

#include "crypto/digest.h"
#include "crypto/jwt.h"
#include "crypto/random.h"

namespace coffre::crypto {
namespace {

constexpr const char* kNeutralDecryptError = "The ciphertext could not be decrypted.";

Bytes Hex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Bytes ToBytes(const SecureBytes& s) { return Bytes(s.begin(), s.end()); }

const EVP_MD* Md(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return EVP_sha256();
    case HashAlgorithm::kSha384:
      return EVP_sha384();
    case HashAlgorithm::kSha512:
      return EVP_sha512();
  }
  return nullptr;
}

Bytes Digest(HashAlgorithm hash, ByteSpan message) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(message.data(), message.size(), out.data(), &len, Md(hash), nullptr), 1);
  out.resize(len);
  return out;
}

// Verifies over the message with OpenSSL's hash-then-verify path. For PSS, salt length = digest
// length (what Key Vault's PS* use).
bool DigestVerifyMessage(const AsymmetricKey& key, const EVP_MD* md, int padding, ByteSpan message,
                         ByteSpan signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, key.native()) == 1;
  if (ok && padding != 0) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, padding) == 1;
    if (ok && padding == RSA_PKCS1_PSS_PADDING) {
      ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
    }
  }
  ok = ok && EVP_DigestVerify(ctx, signature.data(), signature.size(), message.data(),
                              message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Bytes DigestSignMessage(const AsymmetricKey& key, const EVP_MD* md, int padding, ByteSpan message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestSignInit(ctx, &pctx, md, nullptr, key.native()) == 1;
  if (ok && padding != 0) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, padding) == 1;
    if (ok && padding == RSA_PKCS1_PSS_PADDING) {
      ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
    }
  }
  size_t len = 0;
  ok = ok && EVP_DigestSign(ctx, nullptr, &len, message.data(), message.size()) == 1;
  Bytes out(len);
  ok = ok && EVP_DigestSign(ctx, out.data(), &len, message.data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EXPECT_TRUE(ok);
  out.resize(ok ? len : 0);
  return out;
}

void ExpectBadParameter(const Status& status, const std::string& message) {
  EXPECT_EQ(status.kind(), ErrorKind::kBadRequest) << status.ToString();
  EXPECT_EQ(status.code(), "BadParameter");
  EXPECT_EQ(status.message(), message);
}

class KeyOpRsaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto key = AsymmetricKey::GenerateRsa(2048);
    ASSERT_TRUE(key.ok());
    key_ = new AsymmetricKey(*key);
    auto other = AsymmetricKey::GenerateRsa(2048);
    ASSERT_TRUE(other.ok());
    other_ = new AsymmetricKey(*other);
    auto ec = AsymmetricKey::GenerateEc(Curve::kP256);
    ASSERT_TRUE(ec.ok());
    ec_ = new AsymmetricKey(*ec);
  }
  static void TearDownTestSuite() {
    delete key_;
    delete other_;
    delete ec_;
  }
  static const AsymmetricKey& key() { return *key_; }
  static const AsymmetricKey& other() { return *other_; }
  static const AsymmetricKey& ec() { return *ec_; }
  static AsymmetricKey PublicOnly() {
    auto pub = AsymmetricKey::FromPublicDer(key_->PublicDer());
    EXPECT_TRUE(pub.ok());
    return *pub;
  }

 private:
  static inline AsymmetricKey* key_ = nullptr;
  static inline AsymmetricKey* other_ = nullptr;
  static inline AsymmetricKey* ec_ = nullptr;
};

constexpr RsaPadding kPaddings[] = {RsaPadding::kPkcs1v15, RsaPadding::kOaepSha1,
                                    RsaPadding::kOaepSha256};
constexpr HashAlgorithm kHashes[] = {HashAlgorithm::kSha256, HashAlgorithm::kSha384,
                                     HashAlgorithm::kSha512};

TEST(KeyOpHashTest, HashSizes) {
  EXPECT_EQ(HashSize(HashAlgorithm::kSha256), 32u);
  EXPECT_EQ(HashSize(HashAlgorithm::kSha384), 48u);
  EXPECT_EQ(HashSize(HashAlgorithm::kSha512), 64u);
}

TEST_F(KeyOpRsaTest, MaxPlaintextSizes) {
  EXPECT_EQ(RsaMaxPlaintextSize(key(), RsaPadding::kPkcs1v15), 256u - 11);
  EXPECT_EQ(RsaMaxPlaintextSize(key(), RsaPadding::kOaepSha1), 256u - 42);
  EXPECT_EQ(RsaMaxPlaintextSize(key(), RsaPadding::kOaepSha256), 256u - 66);
  EXPECT_EQ(RsaMaxPlaintextSize(ec(), RsaPadding::kOaepSha256), 0u);
}

TEST_F(KeyOpRsaTest, EncryptDecryptRoundTripAllPaddings) {
  for (RsaPadding padding : kPaddings) {
    for (size_t size : {size_t{1}, size_t{32}, RsaMaxPlaintextSize(key(), padding)}) {
      Bytes plaintext = RandomBytes(size);
      auto ciphertext = RsaEncrypt(key(), padding, plaintext);
      ASSERT_TRUE(ciphertext.ok()) << ciphertext.status().ToString();
      EXPECT_EQ(ciphertext->size(), 256u);
      auto decrypted = RsaDecrypt(key(), padding, *ciphertext);
      ASSERT_TRUE(decrypted.ok()) << decrypted.status().ToString();
      EXPECT_EQ(ToBytes(*decrypted), plaintext);
      // Randomized padding: the same plaintext never gives the same ciphertext.
      auto again = RsaEncrypt(key(), padding, plaintext);
      ASSERT_TRUE(again.ok());
      EXPECT_NE(*again, *ciphertext);
    }
  }
}

TEST_F(KeyOpRsaTest, EncryptWithPublicOnlyKey) {
  AsymmetricKey pub = PublicOnly();
  Bytes plaintext = RandomBytes(40);
  auto ciphertext = RsaEncrypt(pub, RsaPadding::kOaepSha256, plaintext);
  ASSERT_TRUE(ciphertext.ok());
  auto decrypted = RsaDecrypt(key(), RsaPadding::kOaepSha256, *ciphertext);
  ASSERT_TRUE(decrypted.ok());
  EXPECT_EQ(ToBytes(*decrypted), plaintext);
  ExpectBadParameter(RsaDecrypt(pub, RsaPadding::kOaepSha256, *ciphertext).status(),
                     "The key has no private part.");
}

TEST_F(KeyOpRsaTest, PlaintextBoundary) {
  const struct {
    RsaPadding padding;
    const char* message;
  } cases[] = {
      {RsaPadding::kPkcs1v15,
       "The value is too long for RSA1_5 with a 2048-bit key (at most 245 bytes)."},
      {RsaPadding::kOaepSha1,
       "The value is too long for RSA-OAEP with a 2048-bit key (at most 214 bytes)."},
      {RsaPadding::kOaepSha256,
       "The value is too long for RSA-OAEP-256 with a 2048-bit key (at most 190 bytes)."},
  };
  for (const auto& c : cases) {
    const size_t max = RsaMaxPlaintextSize(key(), c.padding);
    EXPECT_TRUE(RsaEncrypt(key(), c.padding, Bytes(max, 0x41)).ok());
    auto too_long = RsaEncrypt(key(), c.padding, Bytes(max + 1, 0x41));
    ASSERT_FALSE(too_long.ok());
    ExpectBadParameter(too_long.status(), c.message);
  }
}

TEST_F(KeyOpRsaTest, CiphertextMustBeModulusSize) {
  auto ciphertext = RsaEncrypt(key(), RsaPadding::kOaepSha256, Bytes{1, 2, 3});
  ASSERT_TRUE(ciphertext.ok());
  Bytes shorter(ciphertext->begin() + 1, ciphertext->end());
  ExpectBadParameter(RsaDecrypt(key(), RsaPadding::kOaepSha256, shorter).status(),
                     "The ciphertext for RSA-OAEP-256 with a 2048-bit key must be 256 bytes.");
  Bytes longer = *ciphertext;
  longer.push_back(0);
  EXPECT_FALSE(RsaDecrypt(key(), RsaPadding::kOaepSha256, longer).ok());
  // A value >= n is publicly invalid: the neutral error.
  ExpectBadParameter(RsaDecrypt(key(), RsaPadding::kOaepSha256, Bytes(256, 0xff)).status(),
                     kNeutralDecryptError);
  ExpectBadParameter(RsaDecrypt(key(), RsaPadding::kPkcs1v15, Bytes(256, 0xff)).status(),
                     kNeutralDecryptError);
}

TEST_F(KeyOpRsaTest, OaepFailuresAreNeutral) {
  Bytes plaintext = RandomBytes(20);
  for (RsaPadding padding : {RsaPadding::kOaepSha1, RsaPadding::kOaepSha256}) {
    auto ciphertext = RsaEncrypt(key(), padding, plaintext);
    ASSERT_TRUE(ciphertext.ok());
    Bytes tampered = *ciphertext;
    tampered[100] ^= 0x01;
    ExpectBadParameter(RsaDecrypt(key(), padding, tampered).status(), kNeutralDecryptError);
    // Wrong key, and the other OAEP hash, fail exactly the same way.
    ExpectBadParameter(RsaDecrypt(other(), padding, *ciphertext).status(), kNeutralDecryptError);
    RsaPadding wrong =
        padding == RsaPadding::kOaepSha1 ? RsaPadding::kOaepSha256 : RsaPadding::kOaepSha1;
    ExpectBadParameter(RsaDecrypt(key(), wrong, *ciphertext).status(), kNeutralDecryptError);
  }
}

// RSA1_5 decryption never fails for a bad padding: it returns a synthetic message that depends
// only on the key and the ciphertext (implicit rejection).
TEST_F(KeyOpRsaTest, Pkcs1v15BadPaddingGivesDeterministicSyntheticMessage) {
  Bytes plaintext = RandomBytes(24);
  auto ciphertext = RsaEncrypt(key(), RsaPadding::kPkcs1v15, plaintext);
  ASSERT_TRUE(ciphertext.ok());
  Bytes tampered = *ciphertext;
  tampered[10] ^= 0x80;
  auto first = RsaDecrypt(key(), RsaPadding::kPkcs1v15, tampered);
  auto second = RsaDecrypt(key(), RsaPadding::kPkcs1v15, tampered);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(ToBytes(*first), ToBytes(*second));
  EXPECT_NE(ToBytes(*first), plaintext);
  // At most k - 11 bytes, like any real message.
  EXPECT_LE(first->size(), 245u);
  // Under another key the ciphertext is either a synthetic message or, when it is not below
  // that key's modulus (public knowledge, so refusing leaks nothing), an error.
  auto wrong_key = RsaDecrypt(other(), RsaPadding::kPkcs1v15, *ciphertext);
  if (wrong_key.ok()) {
    EXPECT_NE(ToBytes(*wrong_key), plaintext);
  } else {
    EXPECT_EQ(wrong_key.status().kind(), ErrorKind::kBadRequest) << wrong_key.status().ToString();
  }
}

TEST_F(KeyOpRsaTest, WrongKeyFamilyRejected) {
  ExpectBadParameter(RsaEncrypt(ec(), RsaPadding::kOaepSha256, Bytes{1}).status(),
                     "RSA-OAEP-256 needs an RSA key.");
  ExpectBadParameter(RsaDecrypt(ec(), RsaPadding::kPkcs1v15, Bytes(256)).status(),
                     "RSA1_5 needs an RSA key.");
  Bytes digest(32, 1);
  ExpectBadParameter(
      RsaSignDigest(ec(), RsaSignatureScheme::kPss, HashAlgorithm::kSha256, digest).status(),
      "PS256 needs an RSA key.");
  ExpectBadParameter(RsaVerifyDigest(ec(), RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256,
                                     digest, Bytes(256))
                         .status(),
                     "RS256 needs an RSA key.");
  ExpectBadParameter(RsaSignRaw(ec(), digest).status(), "RSNULL needs an RSA key.");
  ExpectBadParameter(EcdsaSignDigest(key(), digest).status(), "ECDSA needs an EC key.");
  ExpectBadParameter(EcdsaVerifyDigest(key(), digest, Bytes(64)).status(),
                     "ECDSA needs an EC key.");
}

TEST_F(KeyOpRsaTest, SignVerifyAllSchemesAndHashes) {
  const Bytes message = {'c', 'o', 'f', 'f', 'r', 'e'};
  for (RsaSignatureScheme scheme : {RsaSignatureScheme::kPkcs1v15, RsaSignatureScheme::kPss}) {
    for (HashAlgorithm hash : kHashes) {
      SCOPED_TRACE(static_cast<int>(scheme) * 10 + static_cast<int>(hash));
      Bytes digest = Digest(hash, message);
      auto signature = RsaSignDigest(key(), scheme, hash, digest);
      ASSERT_TRUE(signature.ok()) << signature.status().ToString();
      EXPECT_EQ(signature->size(), 256u);
      auto verified = RsaVerifyDigest(key(), scheme, hash, digest, *signature);
      ASSERT_TRUE(verified.ok());
      EXPECT_TRUE(*verified);
      // A public-only key verifies too.
      auto by_public = RsaVerifyDigest(PublicOnly(), scheme, hash, digest, *signature);
      ASSERT_TRUE(by_public.ok());
      EXPECT_TRUE(*by_public);

      // Independent path: OpenSSL hashes the message itself.
      const int padding =
          scheme == RsaSignatureScheme::kPss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
      EXPECT_TRUE(DigestVerifyMessage(key(), Md(hash), padding, message, *signature));
      Bytes theirs = DigestSignMessage(key(), Md(hash), padding, message);
      auto their_verified = RsaVerifyDigest(key(), scheme, hash, digest, theirs);
      ASSERT_TRUE(their_verified.ok());
      EXPECT_TRUE(*their_verified);

      // PKCS#1 v1.5 is deterministic, PSS randomized.
      auto again = RsaSignDigest(key(), scheme, hash, digest);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again == *signature, scheme == RsaSignatureScheme::kPkcs1v15);

      Bytes tampered = *signature;
      tampered[17] ^= 0x04;
      auto bad = RsaVerifyDigest(key(), scheme, hash, digest, tampered);
      ASSERT_TRUE(bad.ok());
      EXPECT_FALSE(*bad);
      Bytes other_digest = digest;
      other_digest[0] ^= 1;
      auto wrong_digest = RsaVerifyDigest(key(), scheme, hash, other_digest, *signature);
      ASSERT_TRUE(wrong_digest.ok());
      EXPECT_FALSE(*wrong_digest);
      auto other_key = RsaVerifyDigest(other(), scheme, hash, digest, *signature);
      ASSERT_TRUE(other_key.ok());
      EXPECT_FALSE(*other_key);
      Bytes shorter(signature->begin(), signature->end() - 1);
      auto short_sig = RsaVerifyDigest(key(), scheme, hash, digest, shorter);
      ASSERT_TRUE(short_sig.ok());
      EXPECT_FALSE(*short_sig);
      // Greater than the modulus: not a signature, not an error.
      auto huge = RsaVerifyDigest(key(), scheme, hash, digest, Bytes(256, 0xff));
      ASSERT_TRUE(huge.ok());
      EXPECT_FALSE(*huge);
    }
  }
}

TEST_F(KeyOpRsaTest, SchemesDoNotCrossVerify) {
  Bytes digest = Digest(HashAlgorithm::kSha256, Bytes{1, 2, 3});
  auto pkcs1 = RsaSignDigest(key(), RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, digest);
  ASSERT_TRUE(pkcs1.ok());
  auto as_pss =
      RsaVerifyDigest(key(), RsaSignatureScheme::kPss, HashAlgorithm::kSha256, digest, *pkcs1);
  ASSERT_TRUE(as_pss.ok());
  EXPECT_FALSE(*as_pss);
  // The hash is part of the DigestInfo: an RS256 signature is no RS384 one even if the lengths
  // were made to match.
  Bytes digest48 = Digest(HashAlgorithm::kSha384, Bytes{1, 2, 3});
  auto rs384 = RsaVerifyDigest(key(), RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha384,
                               digest48, *pkcs1);
  ASSERT_TRUE(rs384.ok());
  EXPECT_FALSE(*rs384);
}

TEST_F(KeyOpRsaTest, PssWithOtherSaltLengthIsRejected) {
  const Bytes message = {'s', 'a', 'l', 't'};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  ASSERT_EQ(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key().native()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 20), 1);
  Bytes signature(256);
  size_t len = signature.size();
  ASSERT_EQ(EVP_DigestSign(ctx, signature.data(), &len, message.data(), message.size()), 1);
  EVP_MD_CTX_free(ctx);
  auto verified = RsaVerifyDigest(key(), RsaSignatureScheme::kPss, HashAlgorithm::kSha256,
                                  Digest(HashAlgorithm::kSha256, message), signature);
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(*verified);
}

TEST_F(KeyOpRsaTest, DigestLengthMustMatchHash) {
  ExpectBadParameter(
      RsaSignDigest(key(), RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, Bytes(31))
          .status(),
      "The digest for RS256 must be 32 bytes.");
  ExpectBadParameter(
      RsaSignDigest(key(), RsaSignatureScheme::kPss, HashAlgorithm::kSha384, Bytes(32)).status(),
      "The digest for PS384 must be 48 bytes.");
  ExpectBadParameter(RsaVerifyDigest(key(), RsaSignatureScheme::kPss, HashAlgorithm::kSha512,
                                     Bytes(48), Bytes(256))
                         .status(),
                     "The digest for PS512 must be 64 bytes.");
  ExpectBadParameter(
      RsaSignDigest(key(), RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, {}).status(),
      "The digest for RS256 must be 32 bytes.");
}

TEST_F(KeyOpRsaTest, SignNeedsPrivateKey) {
  ExpectBadParameter(
      RsaSignDigest(PublicOnly(), RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, Bytes(32))
          .status(),
      "The key has no private part.");
  ExpectBadParameter(RsaSignRaw(PublicOnly(), Bytes(32)).status(), "The key has no private part.");
}

// Known answer from OpenSSL's test data (evppkey_rsa_common.txt, "DigestSign = SHA256",
// Input "Hello World"): PKCS#1 v1.5 is deterministic, so signing the SHA-256 digest must give
// exactly this signature.
TEST(KeyOpRsaKatTest, Pkcs1v15Sha256KnownAnswer) {
  constexpr std::string_view kPem =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDNAIHqeyrh6gbV\n"
      "n3xz2f+5SglhXC5Lp8Y2zvCN01M+wxhVJbAVx2m5mnfWclv5w1Mqm25fZifV+4UW\n"
      "B2jT3anL01l0URcX3D0wnS/EfuQfl+Mq23+d2GShxHZ6Zm7NcbwarPXnUX9LOFlP\n"
      "6psF5C1a2pkSAIAT5FMWpNm7jtCGuI0odYusr5ItRqhotIXSOcm66w4rZFknEPQr\n"
      "LR6gpLSALAvsqzKPimiwBzvbVG/uqYCdKEmRKzkMFTK8finHZY+BdfrkbzQzL/h7\n"
      "yrPkBkm5hXeGnaDqcYNT8HInVIhpE2SHYNEivmduD8SD3SD/wxvalqMZZsmqLnWt\n"
      "A95H4cRPAgMBAAECggEAYCl6x5kbFnoG1rJHWLjL4gi+ubLZ7Jc4vYD5Ci41AF3X\n"
      "ziktnim6iFvTFv7x8gkTvArJDWsICLJBTYIQREHYYkozzgIzyPeApIs3Wv8C12cS\n"
      "IopwJITbP56+zM+77hcJ26GCgA2Unp5CFuC/81WDiPi9kNo3Oh2CdD7D+90UJ/0W\n"
      "glplejFpEuhpU2URfKL4RckJQF/KxV+JX8FdIDhsJu54yemQdQKaF4psHkzwwgDo\n"
      "qc+yfp0Vb4bmwq3CKxqEoc1cpbJ5CHXXlAfISzUjlcuBzD/tW7BDtp7eDAcgRVAC\n"
      "XO6MX0QBcLYSC7SOD3R7zY9SIRCFDfBDxCjf0YcFMQKBgQD2+WG0fLwDXTrt68fe\n"
      "hQqVa2Xs25z2B2QGPxWqSFU8WNly/mZ1BW413f3De/O58vYi7icTNyVoScm+8hdv\n"
      "6PfD+LuRujdN1TuvPeyBTSvewQwf3IjN0Wh28mse36PwlBl+301C/x+ylxEDuJjK\n"
      "hZxCcocIaoQqtBC7ac8tNa9r4wKBgQDUfnJKf/QQSLJwwlJKQQGHi3MVm7c9PbwY\n"
      "eyIOY1s1NPluJDoYTZP4YLa/u2txwe2aHh9FhYMCPDAelqaSwaCLU9DsnKkQEA2A\n"
      "RR47fcagG6xK7O+N95iEa8I1oIy7os9MBoBMwRIZ6VYIxxTj8UMNSR+tu6MqV1Gg\n"
      "T5d0WDTJpQKBgCHyRSu5uV39AoyRS/eZ8cp36JqV1Q08FtOE+EVfi9evnrPfo9WR\n"
      "2YQt7yNfdjCo5IwIj/ZkLhAXlFNakz4el2+oUJ/HKLLaDEoaCNf883q6rh/zABrK\n"
      "HcG7sF2d/7qhoJ9/se7zgjfZ68zHIrkzhDbd5xGREnmMJoCcGo3sQyBhAoGAH3UQ\n"
      "qmLC2N5KPFMoJ4H0HgLQ6LQCrnhDLkScSBEBYaEUA/AtAYgKjcyTgVLXlyGkcRpg\n"
      "esRHHr+WSBD5W+R6ReYEmeKfTJdzyDdzQE9gZjdyjC0DUbsDwybIu3OnIef6VEDq\n"
      "IXK7oUZfzDDcsNn4mTDoFaoff5cpqFfgDgM43VkCgYBNHw11b+d+AQmaZS9QqIt7\n"
      "aF3FvwCYHV0jdv0Mb+Kc1bY4c0R5MFpzrTwVmdOerjuuA1+9b+0Hwo3nBZM4eaBu\n"
      "SOamA2hu2OJWCl9q8fLCT69KqWDjghhvFe7c6aJJGucwaA3Uz3eLcPqoaCarMiNH\n"
      "fMkTd7GabVourqIZdgvu1Q==\n"
      "-----END PRIVATE KEY-----\n";
  auto key = AsymmetricKey::FromPrivatePem(kPem);
  ASSERT_TRUE(key.ok());
  const Bytes digest = Hex("a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e");
  const Bytes expected = Hex(
      "ba8c24b86f18633767ed1778ef12d283a508d0bef32dd50b4a67cbd6b75df0f4ef6e69bfafbc809b01b93ab34a"
      "ad9a33908644efca6eca04db1afda1016d1c1603183d2263597cf85ce5b7acd6a4872cbcc401b90b221d85aa0a"
      "2d0e1f159fc0843e0a55c47dc108c3f207d000e954605fabbb8c938050f280e29653aa1438109d02e53dfbdcb8"
      "cb9b46d372dd39ba7317a3f4c0020dba1ddd247b3d58addb1df7208785a62a8e3e4372c1fa6d24a17cd6413f7f"
      "5c046ba40a881c21875fde848b3b56fea7264430eca15b27c5c3b72fedcbcc124f8d939ffc11e6d3172c7eb491"
      "d378902093fcc3bf3a2835a1fcfabf457c13abf7b37f08595ed72332e27034");
  auto signature =
      RsaSignDigest(*key, RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, digest);
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(*signature, expected);
  auto verified = RsaVerifyDigest(*key, RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256,
                                  digest, expected);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(*verified);
}

TEST_F(KeyOpRsaTest, RsnullRoundTripAndBoundary) {
  Bytes data = RandomBytes(36);  // e.g. a TLS 1.1 MD5||SHA-1 digest
  auto signature = RsaSignRaw(key(), data);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(signature->size(), 256u);
  auto verified = RsaVerifyRaw(key(), data, *signature);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(*verified);
  Bytes other_data = data;
  other_data[0] ^= 1;
  auto wrong = RsaVerifyRaw(key(), other_data, *signature);
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(*wrong);
  Bytes tampered = *signature;
  tampered[5] ^= 1;
  auto bad = RsaVerifyRaw(key(), data, tampered);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(*bad);

  EXPECT_TRUE(RsaSignRaw(key(), Bytes(245, 7)).ok());
  ExpectBadParameter(RsaSignRaw(key(), Bytes(246, 7)).status(),
                     "The value is too long for RSNULL with a 2048-bit key (at most 245 bytes).");
  ExpectBadParameter(RsaSignRaw(key(), {}).status(), "The value for RSNULL must not be empty.");
}

// RSNULL over DigestInfo(SHA-256) || digest must be byte-identical to an RS256 signature: it is
// exactly the padding RS256 uses, minus the DigestInfo that RSNULL leaves to the caller.
TEST_F(KeyOpRsaTest, RsnullOverDigestInfoEqualsRs256) {
  Bytes digest = Digest(HashAlgorithm::kSha256, Bytes{'x'});
  Bytes digest_info = Hex("3031300d060960864801650304020105000420");
  digest_info.insert(digest_info.end(), digest.begin(), digest.end());
  auto raw = RsaSignRaw(key(), digest_info);
  auto rs256 = RsaSignDigest(key(), RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, digest);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(rs256.ok());
  EXPECT_EQ(*raw, *rs256);
  // And RS256 verification of the RSNULL signature works.
  auto verified =
      RsaVerifyDigest(key(), RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, digest, *raw);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(*verified);
}

// ---- ECDSA

struct CurveCase {
  Curve curve;
  HashAlgorithm hash;
  size_t signature_size;
  const char* alg;
};
constexpr CurveCase kCurveCases[] = {
    {Curve::kP256, HashAlgorithm::kSha256, 64, "ES256"},
    {Curve::kP384, HashAlgorithm::kSha384, 96, "ES384"},
    {Curve::kP521, HashAlgorithm::kSha512, 132, "ES512"},
    {Curve::kP256K, HashAlgorithm::kSha256, 64, "ES256K"},
};

TEST(KeyOpEcdsaTest, SignVerifyEachCurve) {
  const Bytes message = {'e', 'c', 'd', 's', 'a'};
  for (const CurveCase& c : kCurveCases) {
    SCOPED_TRACE(c.alg);
    auto key = AsymmetricKey::GenerateEc(c.curve);
    ASSERT_TRUE(key.ok());
    auto other = AsymmetricKey::GenerateEc(c.curve);
    ASSERT_TRUE(other.ok());
    Bytes digest = Digest(c.hash, message);
    auto signature = EcdsaSignDigest(*key, digest);
    ASSERT_TRUE(signature.ok()) << signature.status().ToString();
    EXPECT_EQ(signature->size(), c.signature_size);
    auto verified = EcdsaVerifyDigest(*key, digest, *signature);
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(*verified);

    // Independent path: raw -> DER, then OpenSSL hashes the message and verifies.
    auto der = EcdsaRawToDer(*signature);
    ASSERT_TRUE(der.ok());
    EXPECT_TRUE(DigestVerifyMessage(*key, Md(c.hash), 0, message, *der));
    // And the other way round: OpenSSL's DER signature over the message, converted to raw.
    Bytes theirs = DigestSignMessage(*key, Md(c.hash), 0, message);
    auto theirs_raw = EcdsaDerToRaw(theirs, CurveCoordinateSize(c.curve));
    ASSERT_TRUE(theirs_raw.ok());
    auto their_verified = EcdsaVerifyDigest(*key, digest, *theirs_raw);
    ASSERT_TRUE(their_verified.ok());
    EXPECT_TRUE(*their_verified);

    for (size_t i : {size_t{0}, c.signature_size / 2, c.signature_size - 1}) {
      Bytes tampered = *signature;
      tampered[i] ^= 0x01;
      auto bad = EcdsaVerifyDigest(*key, digest, tampered);
      ASSERT_TRUE(bad.ok());
      EXPECT_FALSE(*bad);
    }
    Bytes other_digest = digest;
    other_digest.back() ^= 1;
    auto wrong_digest = EcdsaVerifyDigest(*key, other_digest, *signature);
    ASSERT_TRUE(wrong_digest.ok());
    EXPECT_FALSE(*wrong_digest);
    auto wrong_key = EcdsaVerifyDigest(*other, digest, *signature);
    ASSERT_TRUE(wrong_key.ok());
    EXPECT_FALSE(*wrong_key);

    // Wrong lengths (including the DER form) are "does not verify", not errors.
    for (const Bytes& wrong_length :
         {Bytes(signature->begin(), signature->end() - 1), *der, Bytes{}, Bytes(256, 1)}) {
      auto result = EcdsaVerifyDigest(*key, digest, wrong_length);
      ASSERT_TRUE(result.ok());
      EXPECT_FALSE(*result);
    }
    auto zeros = EcdsaVerifyDigest(*key, digest, Bytes(c.signature_size, 0));
    ASSERT_TRUE(zeros.ok());
    EXPECT_FALSE(*zeros);

    // The digest length follows the curve.
    const std::string message_text = std::string("The digest for ") + c.alg + " must be " +
                                     std::to_string(HashSize(c.hash)) + " bytes.";
    Bytes wrong_size(HashSize(c.hash) == 32 ? 48 : 32, 1);
    ExpectBadParameter(EcdsaSignDigest(*key, wrong_size).status(), message_text);
    ExpectBadParameter(EcdsaVerifyDigest(*key, wrong_size, *signature).status(), message_text);
  }
}

TEST(KeyOpEcdsaTest, PublicOnlyKeyVerifiesButCannotSign) {
  auto key = AsymmetricKey::GenerateEc(Curve::kP384);
  ASSERT_TRUE(key.ok());
  auto pub = AsymmetricKey::FromPublicDer(key->PublicDer());
  ASSERT_TRUE(pub.ok());
  Bytes digest(48, 9);
  auto signature = EcdsaSignDigest(*key, digest);
  ASSERT_TRUE(signature.ok());
  auto verified = EcdsaVerifyDigest(*pub, digest, *signature);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(*verified);
  ExpectBadParameter(EcdsaSignDigest(*pub, digest).status(), "The key has no private part.");
}

// ---- Import

Bytes BnParam(const AsymmetricKey& key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key.native(), name, &bn), 1) << name;
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_clear_free(bn);
  return out;
}

struct RsaParts {
  Bytes n, e, d, p, q, dp, dq, qi;
  RsaPrivateComponents View() const { return {n, e, d, p, q, dp, dq, qi}; }
};

RsaParts PartsOf(const AsymmetricKey& key) {
  return {
      BnParam(key, OSSL_PKEY_PARAM_RSA_N),         BnParam(key, OSSL_PKEY_PARAM_RSA_E),
      BnParam(key, OSSL_PKEY_PARAM_RSA_D),         BnParam(key, OSSL_PKEY_PARAM_RSA_FACTOR1),
      BnParam(key, OSSL_PKEY_PARAM_RSA_FACTOR2),   BnParam(key, OSSL_PKEY_PARAM_RSA_EXPONENT1),
      BnParam(key, OSSL_PKEY_PARAM_RSA_EXPONENT2), BnParam(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1)};
}

// Imported and original keys must be interchangeable: each verifies the other's signature.
void ExpectSameRsaKey(const AsymmetricKey& a, const AsymmetricKey& b) {
  EXPECT_EQ(a.PublicDer(), b.PublicDer());
  Bytes digest = Digest(HashAlgorithm::kSha256, Bytes{'i', 'm', 'p'});
  auto by_a = RsaSignDigest(a, RsaSignatureScheme::kPss, HashAlgorithm::kSha256, digest);
  auto by_b = RsaSignDigest(b, RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, digest);
  ASSERT_TRUE(by_a.ok());
  ASSERT_TRUE(by_b.ok());
  auto b_verifies =
      RsaVerifyDigest(b, RsaSignatureScheme::kPss, HashAlgorithm::kSha256, digest, *by_a);
  auto a_verifies =
      RsaVerifyDigest(a, RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, digest, *by_b);
  ASSERT_TRUE(b_verifies.ok());
  ASSERT_TRUE(a_verifies.ok());
  EXPECT_TRUE(*b_verifies);
  EXPECT_TRUE(*a_verifies);
}

constexpr const char* kRsaInconsistent = "The RSA key is invalid: its parameters are inconsistent.";

class KeyOpImportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto key = AsymmetricKey::GenerateRsa(2048);
    ASSERT_TRUE(key.ok());
    key_ = new AsymmetricKey(*key);
    auto other = AsymmetricKey::GenerateRsa(2048);
    ASSERT_TRUE(other.ok());
    other_ = new AsymmetricKey(*other);
  }
  static void TearDownTestSuite() {
    delete key_;
    delete other_;
  }
  static inline AsymmetricKey* key_ = nullptr;
  static inline AsymmetricKey* other_ = nullptr;
};

TEST_F(KeyOpImportTest, RsaFromOwnComponentsRoundTrips) {
  RsaParts parts = PartsOf(*key_);
  auto imported = RsaKeyFromComponents(parts.View());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_TRUE(imported->has_private());
  EXPECT_EQ(imported->bits(), 2048);
  ExpectSameRsaKey(*imported, *key_);
  EXPECT_FALSE(imported->PrivateDer().empty());
  // Leading zero bytes on the wire are harmless.
  RsaParts padded = parts;
  padded.n.insert(padded.n.begin(), 0);
  padded.d.insert(padded.d.begin(), {0, 0});
  EXPECT_TRUE(RsaKeyFromComponents(padded.View()).ok());
}

TEST_F(KeyOpImportTest, RsaFromNEDOnlyRecoversTheRest) {
  RsaParts parts = PartsOf(*key_);
  RsaPrivateComponents ned{parts.n, parts.e, parts.d, {}, {}, {}, {}, {}};
  auto imported = RsaKeyFromComponents(ned);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  ExpectSameRsaKey(*imported, *key_);
  // The recovered CRT values are the original ones (p > q as OpenSSL orders them).
  RsaParts recovered = PartsOf(*imported);
  EXPECT_EQ(recovered.d, parts.d);
  EXPECT_TRUE((recovered.p == parts.p && recovered.q == parts.q) ||
              (recovered.p == parts.q && recovered.q == parts.p));
  // Storable as PKCS#8, which needs the CRT values.
  SecureBytes der = imported->PrivateDer();
  ASSERT_FALSE(der.empty());
  auto reparsed = AsymmetricKey::FromPrivateDer(der);
  ASSERT_TRUE(reparsed.ok());
  ExpectSameRsaKey(*reparsed, *key_);
  // RSA1_5 decryption (implicit rejection derives from d) works the same with the imported key.
  auto ciphertext = RsaEncrypt(*key_, RsaPadding::kPkcs1v15, Bytes{1, 2, 3});
  ASSERT_TRUE(ciphertext.ok());
  auto decrypted = RsaDecrypt(*imported, RsaPadding::kPkcs1v15, *ciphertext);
  ASSERT_TRUE(decrypted.ok());
  EXPECT_EQ(ToBytes(*decrypted), (Bytes{1, 2, 3}));
}

TEST_F(KeyOpImportTest, RsaInconsistentKeysRejected) {
  const RsaParts good = PartsOf(*key_);
  const RsaParts other = PartsOf(*other_);
  auto expect_rejected = [](const RsaParts& parts, const char* what) {
    SCOPED_TRACE(what);
    auto result = RsaKeyFromComponents(parts.View());
    ASSERT_FALSE(result.ok());
    ExpectBadParameter(result.status(), kRsaInconsistent);
  };
  RsaParts p = good;
  p.d.back() ^= 0x02;  // stays odd
  expect_rejected(p, "tampered d");
  p = good;
  p.d = other.d;
  expect_rejected(p, "d of another key");
  p = good;
  std::swap(p.p, p.q);  // dp, dq, qi now belong to the other order
  expect_rejected(p, "p and q swapped");
  p = good;
  p.qi.back() ^= 0x01;
  expect_rejected(p, "wrong qi");
  p = good;
  p.dp.back() ^= 0x02;
  expect_rejected(p, "wrong dp");
  p = good;
  p.n = other.n;
  expect_rejected(p, "n of another key");
  p = good;
  p.e = Bytes{0x01, 0x00, 0x03};
  expect_rejected(p, "other e");

  // Only n, e, d: a d that does not belong to n and e.
  RsaParts ned = good;
  ned.p = ned.q = ned.dp = ned.dq = ned.qi = {};
  ned.d.back() ^= 0x02;
  expect_rejected(ned, "n, e, d with tampered d");
  ned.d = other.d;
  expect_rejected(ned, "n, e, d with d of another key");
}

TEST_F(KeyOpImportTest, RsaMalformedComponentsRejected) {
  const RsaParts good = PartsOf(*key_);
  RsaParts p = good;
  p.d = {};
  ExpectBadParameter(RsaKeyFromComponents(p.View()).status(), "The RSA key needs n, e and d.");
  p = good;
  p.dq = {};
  ExpectBadParameter(RsaKeyFromComponents(p.View()).status(),
                     "The RSA key must have all of p, q, dp, dq and qi, or none.");
  // A 512-bit modulus (odd) is refused before any arithmetic.
  p = good;
  p.n = Bytes(p.n.begin(), p.n.begin() + 64);
  p.n.back() |= 1;
  ExpectBadParameter(RsaKeyFromComponents(p.View()).status(),
                     "The RSA key size must be between 1024 and 16384 bits.");
  p = good;
  p.n = Bytes(16384 / 8 + 1, 0xff);
  ExpectBadParameter(RsaKeyFromComponents(p.View()).status(),
                     "The RSA key size must be between 1024 and 16384 bits.");
  p = good;
  p.n.back() &= 0xfe;  // even modulus
  ExpectBadParameter(RsaKeyFromComponents(p.View()).status(), kRsaInconsistent);
}

TEST(KeyOpEcImportTest, FromOwnComponentsEachCurve) {
  for (const CurveCase& c : kCurveCases) {
    SCOPED_TRACE(c.alg);
    auto key = AsymmetricKey::GenerateEc(c.curve);
    ASSERT_TRUE(key.ok());
    PublicKeyParams params = key->PublicParams();
    const size_t size = CurveCoordinateSize(c.curve);
    Bytes d(size);
    BIGNUM* priv = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(key->native(), OSSL_PKEY_PARAM_PRIV_KEY, &priv), 1);
    ASSERT_EQ(BN_bn2binpad(priv, d.data(), static_cast<int>(size)), static_cast<int>(size));
    BN_clear_free(priv);
    priv = nullptr;  // EVP_PKEY_get_bn_param would otherwise write into the freed BIGNUM

    auto imported = EcKeyFromComponents(c.curve, params.x, params.y, d);
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    EXPECT_EQ(imported->curve(), c.curve);
    EXPECT_EQ(imported->PublicDer(), key->PublicDer());
    Bytes digest(HashSize(c.hash), 0x5a);
    auto signature = EcdsaSignDigest(*imported, digest);
    ASSERT_TRUE(signature.ok());
    auto verified = EcdsaVerifyDigest(*key, digest, *signature);
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(*verified);

    const std::string name(CurveName(c.curve));
    // Point not on the curve.
    Bytes bad_y = params.y;
    bad_y[size / 2] ^= 0x01;
    ExpectBadParameter(EcKeyFromComponents(c.curve, params.x, bad_y, d).status(),
                       "The " + name + " key is invalid: (x, y) is not a point on the curve.");
    // d of another key.
    auto other = AsymmetricKey::GenerateEc(c.curve);
    ASSERT_TRUE(other.ok());
    Bytes other_d(size);
    ASSERT_EQ(EVP_PKEY_get_bn_param(other->native(), OSSL_PKEY_PARAM_PRIV_KEY, &priv), 1);
    ASSERT_EQ(BN_bn2binpad(priv, other_d.data(), static_cast<int>(size)), static_cast<int>(size));
    BN_clear_free(priv);
    ExpectBadParameter(EcKeyFromComponents(c.curve, params.x, params.y, other_d).status(),
                       "The " + name + " key is invalid: d does not match (x, y).");
    EXPECT_FALSE(EcKeyFromComponents(c.curve, params.x, params.y, Bytes(size, 0)).ok());
    // The public point of a different curve is refused (wrong length or not on this curve).
    EXPECT_FALSE(EcKeyFromComponents(c.curve == Curve::kP256 ? Curve::kP256K : Curve::kP256,
                                     params.x, params.y, d)
                     .ok());

    // Coordinate lengths.
    const std::string length_message = "The coordinates x and y of a " + name + " key must be " +
                                       std::to_string(size) + " bytes each.";
    Bytes short_x(params.x.begin() + 1, params.x.end());
    ExpectBadParameter(EcKeyFromComponents(c.curve, short_x, params.y, d).status(), length_message);
    Bytes long_y = params.y;
    long_y.insert(long_y.begin(), 0);
    ExpectBadParameter(EcKeyFromComponents(c.curve, params.x, long_y, d).status(), length_message);
    Bytes long_d = d;
    long_d.insert(long_d.begin(), 0);
    ExpectBadParameter(
        EcKeyFromComponents(c.curve, params.x, params.y, long_d).status(),
        "The private key d of a " + name + " key must be " + std::to_string(size) + " bytes.");
  }
}

// 1024-bit keys can only come from import; PS512 does not fit in them (emLen 128 < 2*64 + 2).
TEST(KeyOpRsaSmallKeyTest, Pss512NeedsRoomInTheModulus) {
  EVP_PKEY* raw = EVP_RSA_gen(1024);
  ASSERT_NE(raw, nullptr);
  AsymmetricKey key = AsymmetricKey::Adopt(raw, true);
  auto imported = RsaKeyFromComponents(PartsOf(key).View());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  ExpectBadParameter(
      RsaSignDigest(*imported, RsaSignatureScheme::kPss, HashAlgorithm::kSha512, Bytes(64))
          .status(),
      "A 1024-bit key is too small for PS512.");
  for (auto [scheme, hash] : {std::pair{RsaSignatureScheme::kPss, HashAlgorithm::kSha384},
                              std::pair{RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha512}}) {
    Bytes digest(HashSize(hash), 3);
    auto signature = RsaSignDigest(*imported, scheme, hash, digest);
    ASSERT_TRUE(signature.ok()) << signature.status().ToString();
    auto verified = RsaVerifyDigest(key, scheme, hash, digest, *signature);
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(*verified);
  }
  EXPECT_EQ(RsaMaxPlaintextSize(*imported, RsaPadding::kOaepSha256), 128u - 66);
}

}  // namespace
}  // namespace coffre::crypto
