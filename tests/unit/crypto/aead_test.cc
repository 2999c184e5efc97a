#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace coffre::crypto {
namespace {

class AeadTest : public ::testing::Test {
 protected:
  SecureBytes key_ = RandomSecureBytes(kAes256KeySize);
  Bytes plaintext_ = RandomBytes(100);
  Bytes aad_ = {'c', 't', 'x'};

  Bytes Seal() {
    auto sealed = SealAes256Gcm(key_, plaintext_, aad_);
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return sealed.ok() ? *sealed : Bytes{};
  }

  // Every failure must look the same.
  static void ExpectOpenError(const Result<SecureBytes>& opened) {
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().kind(), ErrorKind::kBadRequest);
    EXPECT_EQ(opened.status().code(), "BadParameter");
    EXPECT_EQ(opened.status().message(), "unable to open sealed data");
  }
};

TEST_F(AeadTest, RoundTripAndLayout) {
  Bytes sealed = Seal();
  ASSERT_EQ(sealed.size(), kGcmNonceSize + plaintext_.size() + kGcmTagSize);
  // The ciphertext must not contain the plaintext in the clear.
  EXPECT_NE(Bytes(sealed.begin() + kGcmNonceSize, sealed.end() - kGcmTagSize), plaintext_);
  auto opened = OpenAes256Gcm(key_, sealed, aad_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Bytes(opened->begin(), opened->end()), plaintext_);
}

TEST_F(AeadTest, FreshNonceEachTime) {
  Bytes a = Seal(), b = Seal();
  EXPECT_NE(Bytes(a.begin(), a.begin() + kGcmNonceSize),
            Bytes(b.begin(), b.begin() + kGcmNonceSize));
  EXPECT_NE(a, b);
}

TEST_F(AeadTest, EmptyPlaintextAndAad) {
  auto sealed = SealAes256Gcm(key_, {}, {});
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), kGcmNonceSize + kGcmTagSize);
  auto opened = OpenAes256Gcm(key_, *sealed, {});
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
  ExpectOpenError(OpenAes256Gcm(key_, *sealed, aad_));
}

TEST_F(AeadTest, TamperingAnyByteFails) {
  const Bytes sealed = Seal();
  // Covers the nonce, the ciphertext and the tag.
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes tampered = sealed;
    tampered[i] ^= 0x01;
    ExpectOpenError(OpenAes256Gcm(key_, tampered, aad_));
  }
}

TEST_F(AeadTest, WrongAadOrKeyFails) {
  const Bytes sealed = Seal();
  ExpectOpenError(OpenAes256Gcm(key_, sealed, Bytes{'c', 't', 'y'}));
  ExpectOpenError(OpenAes256Gcm(key_, sealed, {}));
  ExpectOpenError(OpenAes256Gcm(RandomSecureBytes(kAes256KeySize), sealed, aad_));
}

TEST_F(AeadTest, TruncationAndExtensionFail) {
  const Bytes sealed = Seal();
  for (size_t len = 0; len < sealed.size(); ++len) {
    ExpectOpenError(OpenAes256Gcm(key_, ByteSpan(sealed.data(), len), aad_));
  }
  Bytes extended = sealed;
  extended.push_back(0);
  ExpectOpenError(OpenAes256Gcm(key_, extended, aad_));
}

TEST_F(AeadTest, RejectsWrongKeySize) {
  const Bytes short_key(16, 0x11);
  EXPECT_FALSE(SealAes256Gcm(short_key, plaintext_, aad_).ok());
  EXPECT_FALSE(OpenAes256Gcm(short_key, Seal(), aad_).ok());
}

}  // namespace
}  // namespace coffre::crypto
