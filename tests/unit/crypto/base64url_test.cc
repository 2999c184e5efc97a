#include "common/base64url.h"

#include <gtest/gtest.h>

#include <string>

namespace coffre {
namespace {

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

// RFC 4648 §10 test vectors.
struct Vector {
  const char* plain;
  const char* unpadded;
  const char* padded;
};
constexpr Vector kVectors[] = {
    {"", "", ""},
    {"f", "Zg", "Zg=="},
    {"fo", "Zm8", "Zm8="},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg", "Zm9vYg=="},
    {"fooba", "Zm9vYmE", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

TEST(Base64UrlTest, Rfc4648Vectors) {
  for (const auto& v : kVectors) {
    EXPECT_EQ(Base64UrlEncode(AsBytes(v.plain)), v.unpadded) << v.plain;
    EXPECT_EQ(Base64Encode(AsBytes(v.plain)), v.padded) << v.plain;
    EXPECT_EQ(Base64UrlDecode(v.unpadded), B(v.plain)) << v.unpadded;
    EXPECT_EQ(Base64UrlDecode(v.padded), B(v.plain)) << v.padded;
  }
}

TEST(Base64UrlTest, AlphabetsDiffer) {
  const Bytes data = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Base64UrlEncode(data), "-_-_");
  EXPECT_EQ(Base64Encode(data), "+/+/");
  const Bytes two = {0xfb, 0xff};
  EXPECT_EQ(Base64UrlEncode(two), "-_8");
  EXPECT_EQ(Base64Encode(two), "+/8=");
}

TEST(Base64UrlTest, DecodesLenientForms) {
  const Bytes two = {0xfb, 0xff};
  EXPECT_EQ(Base64UrlDecode("-_8"), two);
  EXPECT_EQ(Base64UrlDecode("-_8="), two);
  EXPECT_EQ(Base64UrlDecode("+/8"), two);
  EXPECT_EQ(Base64UrlDecode("+/8="), two);
  EXPECT_EQ(Base64UrlDecode("+_8"), two);
}

TEST(Base64UrlTest, RejectsMalformedInput) {
  const char* bad[] = {
      "Z",         // length % 4 == 1
      "Zm9vY",     // length % 4 == 1
      "Zg=",       // padding does not complete the quantum
      "Zm8==",     // too much padding for the length
      "Zg===",     // three '='
      "Z===",      // three '='
      "Zm9v====",  // a whole quantum of padding
      "=",         // padding only
      "==",        // padding only
      "Zg==Zg==",  // padding in the middle
      "Zm=v",      // '=' in the middle
      "Zm9v\n",    // whitespace
      "Zm 9v",     // whitespace
      " Zm9v",     // whitespace
      "Zm9v!",     // junk
      "Zm9v.",     // junk
      "Zh",        // non-zero trailing bits (would alias "Zg")
      "Zm9=",      // non-zero trailing bits (would alias "Zm8=")
  };
  for (const char* text : bad) {
    EXPECT_FALSE(Base64UrlDecode(text).has_value()) << text;
    EXPECT_FALSE(Base64UrlDecodeSecure(text).has_value()) << text;
  }
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm9v\0", 5)).has_value());
}

TEST(Base64UrlTest, RoundTripsAllLengths) {
  Bytes data;
  for (int len = 0; len < 70; ++len) {
    std::string encoded = Base64UrlEncode(data);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, data);
    auto secure = Base64UrlDecodeSecure(Base64Encode(data));
    ASSERT_TRUE(secure.has_value());
    EXPECT_EQ(Bytes(secure->begin(), secure->end()), data);
    data.push_back(static_cast<uint8_t>(len * 37 + 11));
  }
}

TEST(Base64UrlTest, HexEncode) {
  EXPECT_EQ(HexEncode({}), "");
  EXPECT_EQ(HexEncode(Bytes{0x00, 0x01, 0xab, 0xff}), "0001abff");
}

}  // namespace
}  // namespace coffre
