#include "auth/admin_token.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/base64url.h"
#include "crypto/digest.h"
#include "crypto/secret_hash.h"

namespace coffre::auth {
namespace {

class AdminTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "coffre-admin-token-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = store::OpenSqliteStore((dir_ / "coffre.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

// The token is 256 random bits: the store keeps its SHA-256, and checking a wrong token costs one
// SHA-256 instead of a 200k-iteration password hash an attacker could make the server run at will.
TEST_F(AdminTokenTest, StoresTheSha256OfTheToken) {
  std::string created;
  auto token = AdminToken::LoadOrCreate(*store_, &created);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  ASSERT_FALSE(created.empty());
  auto stored = store_->GetSetting(AdminToken::kDigestSetting);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(**stored, Base64UrlEncode(crypto::Sha256(AsBytes(created))));
  EXPECT_EQ((*stored)->find(created), std::string::npos);
  auto legacy = store_->GetSetting(AdminToken::kLegacyHashSetting);
  ASSERT_TRUE(legacy.ok());
  EXPECT_FALSE(legacy->has_value());

  EXPECT_TRUE(token->Verify(created));
  EXPECT_FALSE(token->Verify(created + "x"));
  EXPECT_FALSE(token->Verify(""));
  EXPECT_FALSE(token->Verify(std::string(10000, 'a')));

  // A second start loads the same digest and creates nothing.
  std::string again;
  auto reloaded = AdminToken::LoadOrCreate(*store_, &again);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_TRUE(again.empty());
  EXPECT_TRUE(reloaded->Verify(created));
}

// A data dir from before the digest record keeps its token when admin.token still holds it.
TEST_F(AdminTokenTest, LegacyPbkdf2RecordKeepsTheOperatorsToken) {
  const std::string old_token = "coffre-admin-legacy-token-0123456789abcdefghijklmnop";
  ASSERT_TRUE(
      store_->GetOrPutSetting(AdminToken::kLegacyHashSetting, crypto::HashSecret(old_token)).ok());
  std::string created;
  auto token = AdminToken::LoadOrCreate(*store_, &created, old_token);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_TRUE(created.empty());
  EXPECT_TRUE(token->Verify(old_token));
  auto stored = store_->GetSetting(AdminToken::kDigestSetting);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(**stored, Base64UrlEncode(crypto::Sha256(AsBytes(old_token))));
}

// Without the matching token the old record cannot be kept: a new token is made.
TEST_F(AdminTokenTest, LegacyRecordWithoutItsTokenGetsANewToken) {
  ASSERT_TRUE(
      store_->GetOrPutSetting(AdminToken::kLegacyHashSetting, crypto::HashSecret("the-old-one"))
          .ok());
  std::string created;
  auto token = AdminToken::LoadOrCreate(*store_, &created, "not-the-old-one");
  ASSERT_TRUE(token.ok());
  ASSERT_FALSE(created.empty());
  EXPECT_TRUE(token->Verify(created));
  EXPECT_FALSE(token->Verify("the-old-one"));
  EXPECT_FALSE(token->Verify("not-the-old-one"));
}

}  // namespace
}  // namespace coffre::auth
