// Ready contexts: reused for the same key object only, freed once their key is gone, bounded.
#include "crypto/ready_contexts.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "crypto/digest.h"
#include "crypto/key_operations.h"

namespace coffre::crypto {
namespace {

using internal::ReadyContexts;

Bytes Digest() {
  auto digest = Sha256(AsBytes(std::string_view("ready contexts")));
  return Bytes(digest.begin(), digest.end());
}

TEST(ReadyContextsTest, SignaturesOfOneKeyReuseOneContextAndStayValid) {
  auto key = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(key.ok());
  ReadyContexts& ready = ReadyContexts::ForThisThread();
  const size_t before = ready.size();
  for (int i = 0; i < 3; ++i) {
    auto signature = EcdsaSignDigest(*key, Digest());
    ASSERT_TRUE(signature.ok()) << signature.status().ToString();
    auto verified = EcdsaVerifyDigest(*key, Digest(), *signature);
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(*verified);
    Bytes tampered = *signature;
    tampered[5] ^= 1;
    EXPECT_FALSE(*EcdsaVerifyDigest(*key, Digest(), tampered));
  }
  EXPECT_EQ(ready.size(), before + 2);  // one signing, one verifying context
}

TEST(ReadyContextsTest, AnotherKeyNeverGetsTheContextOfTheFirst) {
  auto first = AsymmetricKey::GenerateEc(Curve::kP256);
  auto second = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(first.ok() && second.ok());
  auto signature = EcdsaSignDigest(*first, Digest());
  ASSERT_TRUE(signature.ok());
  auto by_second = EcdsaSignDigest(*second, Digest());
  ASSERT_TRUE(by_second.ok());
  // Each signature verifies under its own key only.
  EXPECT_TRUE(*EcdsaVerifyDigest(*first, Digest(), *signature));
  EXPECT_FALSE(*EcdsaVerifyDigest(*second, Digest(), *signature));
  EXPECT_TRUE(*EcdsaVerifyDigest(*second, Digest(), *by_second));
  EXPECT_FALSE(*EcdsaVerifyDigest(*first, Digest(), *by_second));
}

TEST(ReadyContextsTest, ContextsOfADroppedKeyAreFreedAndTheCacheIsBounded) {
  ReadyContexts& ready = ReadyContexts::ForThisThread();
  {
    std::vector<AsymmetricKey> keys;
    for (size_t i = 0; i < ReadyContexts::kCapacity + 3; ++i) {
      auto key = AsymmetricKey::GenerateEc(Curve::kP256);
      ASSERT_TRUE(key.ok());
      keys.push_back(*key);
      ASSERT_TRUE(EcdsaSignDigest(keys.back(), Digest()).ok());
      EXPECT_LE(ready.size(), ReadyContexts::kCapacity);
    }
    EXPECT_EQ(ready.size(), ReadyContexts::kCapacity);
  }  // every key object is gone
  auto other = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(EcdsaSignDigest(*other, Digest()).ok());
  EXPECT_EQ(ready.size(), 1u);  // the next lookup freed the rest
}

TEST(ReadyContextsTest, RsaSignAndOaepDecryptThroughReadyContexts) {
  auto key = AsymmetricKey::GenerateRsa(2048);
  ASSERT_TRUE(key.ok());
  for (int i = 0; i < 2; ++i) {
    auto pkcs1 =
        RsaSignDigest(*key, RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256, Digest());
    ASSERT_TRUE(pkcs1.ok());
    EXPECT_TRUE(*RsaVerifyDigest(*key, RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256,
                                 Digest(), *pkcs1));
    // A PSS context is another purpose: its signature does not verify as PKCS#1 v1.5.
    auto pss = RsaSignDigest(*key, RsaSignatureScheme::kPss, HashAlgorithm::kSha256, Digest());
    ASSERT_TRUE(pss.ok());
    EXPECT_TRUE(
        *RsaVerifyDigest(*key, RsaSignatureScheme::kPss, HashAlgorithm::kSha256, Digest(), *pss));
    EXPECT_FALSE(*RsaVerifyDigest(*key, RsaSignatureScheme::kPkcs1v15, HashAlgorithm::kSha256,
                                  Digest(), *pss));
    for (RsaPadding padding : {RsaPadding::kOaepSha1, RsaPadding::kOaepSha256}) {
      auto sealed = RsaEncrypt(*key, padding, Digest());
      ASSERT_TRUE(sealed.ok());
      auto opened = RsaDecrypt(*key, padding, *sealed);
      ASSERT_TRUE(opened.ok());
      EXPECT_EQ(Bytes(opened->begin(), opened->end()), Digest());
      // The other OAEP digest has its own context and refuses this ciphertext.
      RsaPadding other =
          padding == RsaPadding::kOaepSha1 ? RsaPadding::kOaepSha256 : RsaPadding::kOaepSha1;
      EXPECT_FALSE(RsaDecrypt(*key, other, *sealed).ok());
      // A failed decryption leaves the ready context usable.
      EXPECT_TRUE(RsaDecrypt(*key, padding, *sealed).ok());
    }
  }
}

}  // namespace
}  // namespace coffre::crypto
