#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "common/base64url.h"
#include "crypto/digest.h"
#include "crypto/random.h"

namespace coffre::crypto {
namespace {

TEST(DigestTest, Sha256KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals(std::string_view(""), std::string_view("")));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("abc"), std::string_view("abc")));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("abc"), std::string_view("abd")));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("abc"), std::string_view("ab")));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view(""), std::string_view("a")));
  const Bytes a = {1, 2, 3}, b = {1, 2, 3}, c = {0, 2, 3};
  EXPECT_TRUE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals(a, c));
}

TEST(RandomTest, SizesAndVariety) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(33).size(), 33u);
  EXPECT_EQ(RandomSecureBytes(32).size(), 32u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
  std::string hex = RandomHex(16);
  EXPECT_EQ(hex.size(), 32u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(RandomTest, UuidIsVersion4) {
  const std::regex pattern("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string uuid = RandomUuid();
    EXPECT_TRUE(std::regex_match(uuid, pattern)) << uuid;
    seen.insert(uuid);
  }
  EXPECT_EQ(seen.size(), 200u);
}

}  // namespace
}  // namespace coffre::crypto
