#include "crypto/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "common/base64url.h"

namespace coffre::crypto {
namespace {

std::vector<std::string> SplitToken(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

std::string Decoded(const std::string& part) {
  auto bytes = Base64UrlDecode(part);
  return bytes ? std::string(AsChars(*bytes)) : "<invalid>";
}

// Signs an arbitrary header with a valid ES256 signature, to check that Verify looks at the
// header and not only at the signature.
std::string SignWithHeader(const AsymmetricKey& key, std::string_view header,
                           std::string_view payload) {
  std::string input = Base64UrlEncode(AsBytes(header)) + "." + Base64UrlEncode(AsBytes(payload));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.native()), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, AsBytes(input).data(), input.size()), 1);
  Bytes der(len);
  EXPECT_EQ(EVP_DigestSign(ctx, der.data(), &len, AsBytes(input).data(), input.size()), 1);
  EVP_MD_CTX_free(ctx);
  der.resize(len);
  auto raw = EcdsaDerToRaw(der, 32);
  EXPECT_TRUE(raw.ok());
  return input + "." + Base64UrlEncode(raw.ok() ? *raw : Bytes{});
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = AsymmetricKey::GenerateEc(Curve::kP256);
    ASSERT_TRUE(key.ok());
    key_.emplace(std::move(*key));
    auto token = SignJwtEs256(*key_, "key-1", payload_);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    token_ = *token;
  }

  void ExpectRejected(std::string_view token) {
    auto result = VerifyJwtEs256(*key_, token);
    ASSERT_FALSE(result.ok()) << token;
    EXPECT_EQ(result.status().kind(), ErrorKind::kUnauthorized) << token;
  }

  std::optional<AsymmetricKey> key_;
  std::string payload_ = R"({"sub":"app","aud":"https://vault.azure.net","exp":2000000000})";
  std::string token_;
};

TEST_F(JwtTest, RoundTrip) {
  std::vector<std::string> parts = SplitToken(token_);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(Decoded(parts[0]), R"({"alg":"ES256","typ":"JWT","kid":"key-1"})");
  EXPECT_EQ(Decoded(parts[1]), payload_);
  auto signature = Base64UrlDecode(parts[2]);
  ASSERT_TRUE(signature.has_value());
  EXPECT_EQ(signature->size(), 64u);

  auto verified = VerifyJwtEs256(*key_, token_);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(*verified, payload_);

  // A public-only copy of the key verifies too.
  auto pub = AsymmetricKey::FromPublicDer(key_->PublicDer());
  ASSERT_TRUE(pub.ok());
  auto verified_pub = VerifyJwtEs256(*pub, token_);
  ASSERT_TRUE(verified_pub.ok());
  EXPECT_EQ(*verified_pub, payload_);
}

TEST_F(JwtTest, KeyIdIsEscaped) {
  auto token = SignJwtEs256(*key_, "a\"b", "{}");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(Decoded(SplitToken(*token)[0]), R"({"alg":"ES256","typ":"JWT","kid":"a\"b"})");
  EXPECT_TRUE(VerifyJwtEs256(*key_, *token).ok());
}

TEST_F(JwtTest, TamperedPartsFail) {
  std::vector<std::string> parts = SplitToken(token_);
  std::string other_header =
      Base64UrlEncode(AsBytes(R"({"alg":"ES256","typ":"JWT","kid":"key-2"})"));
  ExpectRejected(other_header + "." + parts[1] + "." + parts[2]);
  std::string other_payload = Base64UrlEncode(AsBytes(R"({"sub":"admin"})"));
  ExpectRejected(parts[0] + "." + other_payload + "." + parts[2]);

  Bytes signature = *Base64UrlDecode(parts[2]);
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
    Bytes bad = signature;
    bad[i] ^= 0x80;
    ExpectRejected(parts[0] + "." + parts[1] + "." + Base64UrlEncode(bad));
  }
  // Signature of the wrong length, or missing.
  ExpectRejected(parts[0] + "." + parts[1] + "." + Base64UrlEncode(ByteSpan(signature.data(), 63)));
  ExpectRejected(parts[0] + "." + parts[1] + ".");
}

TEST_F(JwtTest, WrongKeyFails) {
  auto other = AsymmetricKey::GenerateEc(Curve::kP256);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(VerifyJwtEs256(*other, token_).ok());
}

TEST_F(JwtTest, OnlyEs256IsAccepted) {
  const std::string payload = Base64UrlEncode(AsBytes(payload_));
  // "none" with an empty or a copied signature.
  const std::string none = Base64UrlEncode(AsBytes(R"({"alg":"none","typ":"JWT"})"));
  ExpectRejected(none + "." + payload + ".");
  ExpectRejected(none + "." + payload + "." + SplitToken(token_)[2]);
  // Validly signed with our key, but a header naming another algorithm or none at all.
  ExpectRejected(SignWithHeader(*key_, R"({"alg":"none"})", payload_));
  ExpectRejected(SignWithHeader(*key_, R"({"alg":"HS256"})", payload_));
  ExpectRejected(SignWithHeader(*key_, R"({"alg":"es256"})", payload_));
  ExpectRejected(SignWithHeader(*key_, R"({"typ":"JWT"})", payload_));
  ExpectRejected(SignWithHeader(*key_, R"({"alg":["ES256"]})", payload_));
  ExpectRejected(SignWithHeader(*key_, R"({"alg":"ES256","crit":["exp"]})", payload_));
  ExpectRejected(SignWithHeader(*key_, R"(["ES256"])", payload_));
  ExpectRejected(SignWithHeader(*key_, "not json", payload_));
  // The same helper with a proper header does verify (the helper itself is sound).
  EXPECT_TRUE(VerifyJwtEs256(*key_, SignWithHeader(*key_, R"({"alg":"ES256"})", payload_)).ok());
}

TEST_F(JwtTest, MalformedStructureFails) {
  std::vector<std::string> parts = SplitToken(token_);
  ExpectRejected("");
  ExpectRejected(parts[0] + "." + parts[1]);
  ExpectRejected(token_ + "." + parts[2]);
  ExpectRejected(token_ + ".");
  ExpectRejected("." + parts[1] + "." + parts[2]);
  ExpectRejected(parts[0] + ".." + parts[2]);
  // Padding, standard-alphabet characters and junk are not compact JWS.
  ExpectRejected(token_ + "=");
  ExpectRejected(parts[0] + "=." + parts[1] + "." + parts[2]);
  ExpectRejected(parts[0] + "." + parts[1] + "+." + parts[2]);
  ExpectRejected(parts[0] + " ." + parts[1] + "." + parts[2]);
  ExpectRejected(parts[0] + "." + parts[1] + "." + parts[2].substr(0, parts[2].size() - 1));
}

TEST_F(JwtTest, OversizeTokenFails) {
  std::string big_payload = R"({"pad":")" + std::string(16 * 1024, 'a') + R"("})";
  auto token = SignJwtEs256(*key_, "key-1", big_payload);
  ASSERT_TRUE(token.ok());
  auto result = VerifyJwtEs256(*key_, *token);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "token too large");
}

TEST_F(JwtTest, SigningNeedsP256PrivateKey) {
  auto p384 = AsymmetricKey::GenerateEc(Curve::kP384);
  ASSERT_TRUE(p384.ok());
  EXPECT_FALSE(SignJwtEs256(*p384, "k", "{}").ok());
  EXPECT_FALSE(VerifyJwtEs256(*p384, token_).ok());
  auto pub = AsymmetricKey::FromPublicDer(key_->PublicDer());
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(SignJwtEs256(*pub, "k", "{}").ok());
}

// --- ECDSA signature format conversion ---

Bytes SignDer(const AsymmetricKey& key, const EVP_MD* md, std::string_view message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, md, nullptr, key.native()), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, AsBytes(message).data(), message.size()), 1);
  Bytes der(len);
  EXPECT_EQ(EVP_DigestSign(ctx, der.data(), &len, AsBytes(message).data(), message.size()), 1);
  EVP_MD_CTX_free(ctx);
  der.resize(len);
  return der;
}

bool VerifyDer(const AsymmetricKey& key, const EVP_MD* md, std::string_view message,
               const Bytes& der) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key.native()) == 1 &&
      EVP_DigestVerify(ctx, der.data(), der.size(), AsBytes(message).data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

TEST(EcdsaFormatTest, RoundTripPerCurve) {
  const std::tuple<Curve, const EVP_MD*, size_t> cases[] = {
      {Curve::kP256, EVP_sha256(), 32},
      {Curve::kP384, EVP_sha384(), 48},
      {Curve::kP521, EVP_sha512(), 66},
      {Curve::kP256K, EVP_sha256(), 32},
  };
  for (const auto& [curve, md, half] : cases) {
    auto key = AsymmetricKey::GenerateEc(curve);
    ASSERT_TRUE(key.ok());
    // Several signatures, so short r/s values (DER drops leading zeros) show up as well.
    for (int i = 0; i < 20; ++i) {
      std::string message = "message " + std::to_string(i);
      Bytes der = SignDer(*key, md, message);
      auto raw = EcdsaDerToRaw(der, half);
      ASSERT_TRUE(raw.ok()) << raw.status().ToString();
      ASSERT_EQ(raw->size(), 2 * half);
      auto back = EcdsaRawToDer(*raw);
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(*back, der);
      EXPECT_TRUE(VerifyDer(*key, md, message, *back));
    }
  }
}

TEST(EcdsaFormatTest, LeadingZerosAndHighBits) {
  // r = 1 (31 leading zero bytes), s has its top bit set (DER needs a 0x00 sign byte).
  Bytes raw(64, 0);
  raw[31] = 0x01;
  raw[32] = 0x80;
  raw[63] = 0x05;
  auto der = EcdsaRawToDer(raw);
  ASSERT_TRUE(der.ok());
  ASSERT_GE(der->size(), 8u);
  EXPECT_EQ((*der)[0], 0x30);
  EXPECT_EQ(Bytes(der->begin() + 2, der->begin() + 5), (Bytes{0x02, 0x01, 0x01}));
  EXPECT_EQ((*der)[5], 0x02);
  EXPECT_EQ((*der)[6], 33);  // s: 32 bytes plus the sign byte
  EXPECT_EQ((*der)[7], 0x00);
  auto back = EcdsaDerToRaw(*der, 32);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, raw);

  // P-521 halves are 66 bytes whose first byte is at most 0x01.
  Bytes raw521(132, 0);
  raw521[0] = 0x01;
  raw521[65] = 0x02;
  raw521[131] = 0x03;
  auto der521 = EcdsaRawToDer(raw521);
  ASSERT_TRUE(der521.ok());
  auto back521 = EcdsaDerToRaw(*der521, 66);
  ASSERT_TRUE(back521.ok());
  EXPECT_EQ(*back521, raw521);
}

TEST(EcdsaFormatTest, RejectsBadInput) {
  EXPECT_FALSE(EcdsaRawToDer({}).ok());
  EXPECT_FALSE(EcdsaRawToDer(Bytes(63, 1)).ok());
  EXPECT_FALSE(EcdsaDerToRaw({}, 32).ok());
  EXPECT_FALSE(EcdsaDerToRaw(Bytes{0x30, 0x00}, 32).ok());
  EXPECT_FALSE(EcdsaDerToRaw(Bytes{0x01, 0x02, 0x03}, 32).ok());

  Bytes raw(64, 0x7f);
  auto der = EcdsaRawToDer(raw);
  ASSERT_TRUE(der.ok());
  EXPECT_FALSE(EcdsaDerToRaw(*der, 0).ok());
  // r and s do not fit in 16-byte halves.
  EXPECT_FALSE(EcdsaDerToRaw(*der, 16).ok());
  Bytes trailing = *der;
  trailing.push_back(0);
  EXPECT_FALSE(EcdsaDerToRaw(trailing, 32).ok());
  Bytes truncated(der->begin(), der->end() - 1);
  EXPECT_FALSE(EcdsaDerToRaw(truncated, 32).ok());
}

}  // namespace
}  // namespace coffre::crypto
