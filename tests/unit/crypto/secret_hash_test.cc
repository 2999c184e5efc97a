#include "crypto/secret_hash.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/base64url.h"

namespace coffre::crypto {
namespace {

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t pos; (pos = text.find('$', start)) != std::string::npos; start = pos + 1) {
    parts.push_back(text.substr(start, pos - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

TEST(SecretHashTest, FormatAndVerify) {
  std::string encoded = HashSecret("s3cret value");
  std::vector<std::string> parts = Split(encoded);
  ASSERT_EQ(parts.size(), 4u) << encoded;
  EXPECT_EQ(parts[0], "pbkdf2-sha256");
  EXPECT_EQ(parts[1], "200000");
  ASSERT_TRUE(Base64UrlDecode(parts[2]).has_value());
  EXPECT_EQ(Base64UrlDecode(parts[2])->size(), 16u);
  ASSERT_TRUE(Base64UrlDecode(parts[3]).has_value());
  EXPECT_EQ(Base64UrlDecode(parts[3])->size(), 32u);
  EXPECT_EQ(encoded.find('='), std::string::npos);

  EXPECT_TRUE(VerifySecret("s3cret value", encoded));
  EXPECT_FALSE(VerifySecret("s3cret valuE", encoded));
  EXPECT_FALSE(VerifySecret("", encoded));
  EXPECT_FALSE(VerifySecret("s3cret value ", encoded));
}

TEST(SecretHashTest, SaltedEachTime) {
  std::string a = HashSecret("same");
  std::string b = HashSecret("same");
  EXPECT_NE(a, b);
  EXPECT_TRUE(VerifySecret("same", a));
  EXPECT_TRUE(VerifySecret("same", b));
}

TEST(SecretHashTest, EmptySecret) {
  std::string encoded = HashSecret("");
  EXPECT_TRUE(VerifySecret("", encoded));
  EXPECT_FALSE(VerifySecret("x", encoded));
}

TEST(SecretHashTest, KnownAnswer) {
  // Python: hashlib.pbkdf2_hmac('sha256', b'correct horse battery staple', bytes(range(16)),
  // 1000, 32), both parts unpadded base64url.
  const std::string encoded =
      "pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw$ppsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ4";
  EXPECT_TRUE(VerifySecret("correct horse battery staple", encoded));
  EXPECT_FALSE(VerifySecret("correct horse battery stapl", encoded));
}

TEST(SecretHashTest, MalformedEncodingsAreFalse) {
  const std::string salt = "AAECAwQFBgcICQoLDA0ODw";
  const std::string hash = "ppsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ4";
  const std::string secret = "correct horse battery staple";
  const std::vector<std::string> bad = {
      "",
      "pbkdf2-sha256",
      "pbkdf2-sha256$1000$" + salt,
      "pbkdf2-sha256$1000$" + salt + "$" + hash + "$",
      "pbkdf2-sha1$1000$" + salt + "$" + hash,
      "PBKDF2-SHA256$1000$" + salt + "$" + hash,
      "pbkdf2-sha256$$" + salt + "$" + hash,
      "pbkdf2-sha256$999$" + salt + "$" + hash,
      "pbkdf2-sha256$0$" + salt + "$" + hash,
      "pbkdf2-sha256$-1000$" + salt + "$" + hash,
      "pbkdf2-sha256$+1000$" + salt + "$" + hash,
      "pbkdf2-sha256$01000$" + salt + "$" + hash,
      "pbkdf2-sha256$1000 $" + salt + "$" + hash,
      "pbkdf2-sha256$1e3$" + salt + "$" + hash,
      "pbkdf2-sha256$10000001$" + salt + "$" + hash,
      "pbkdf2-sha256$99999999999$" + salt + "$" + hash,
      "pbkdf2-sha256$1000$$" + hash,
      "pbkdf2-sha256$1000$AAEC$" + hash,  // 3-byte salt
      "pbkdf2-sha256$1000$" + salt + "!$" + hash,
      "pbkdf2-sha256$1000$" + salt + "$",
      "pbkdf2-sha256$1000$" + salt + "$" + hash.substr(0, 42),
      "pbkdf2-sha256$1000$" + salt + "$" + hash + "AA",
      "pbkdf2-sha256$1000$" + salt + "$" + "qpsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ4",
      "pbkdf2-sha256$1001$" + salt + "$" + hash,
  };
  for (const auto& encoded : bad) EXPECT_FALSE(VerifySecret(secret, encoded)) << encoded;
}

}  // namespace
}  // namespace coffre::crypto
