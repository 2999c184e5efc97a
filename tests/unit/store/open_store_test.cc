// Tests for OpenStore: which backend a store URL names.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "postgres_fixture.h"
#include "store/store.h"

namespace coffre::store {
namespace {

class OpenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-open-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Opens the store and checks it stores things.
  void ExpectWorks(const std::string& url) {
    auto opened = OpenStore(url);
    ASSERT_TRUE(opened.ok()) << url << ": " << opened.status().ToString();
    auto value = (*opened)->GetOrPutSetting("where:" + url, url);
    ASSERT_TRUE(value.ok()) << value.status().ToString();
    EXPECT_EQ(*value, url);
  }

  std::string dir_;
};

TEST_F(OpenStoreTest, SqliteByPrefixOrBarePath) {
  ExpectWorks("sqlite:" + dir_ + "/prefixed.db");
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/prefixed.db"));
  ExpectWorks(dir_ + "/bare.db");
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/bare.db"));
  // The same file through either spelling.
  auto again = OpenSqliteStore(dir_ + "/prefixed.db");
  ASSERT_TRUE(again.ok());
  auto value = (*again)->GetOrPutSetting("where:sqlite:" + dir_ + "/prefixed.db", "other");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "sqlite:" + dir_ + "/prefixed.db");
}

TEST_F(OpenStoreTest, PostgresByEitherScheme) {
  auto server = pgtest::PostgresServer::Get();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto url = (*server)->CreateDatabase();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  ASSERT_EQ(url->rfind("postgresql://", 0), 0u);
  ExpectWorks(*url);
  ExpectWorks("postgres://" + url->substr(std::string("postgresql://").size()));
  auto rows = pgtest::PgQueryInt(*url, "SELECT COUNT(*) FROM settings");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, 2);
}

TEST_F(OpenStoreTest, RejectsEmptyPathsAndOtherSchemes) {
  EXPECT_EQ(OpenStore("").status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(OpenStore("sqlite:").status().kind(), ErrorKind::kBadRequest);
  auto other = OpenStore("mysql://root:hunter2@db/coffre");
  EXPECT_EQ(other.status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(other.status().message().find("hunter2"), std::string::npos);
  EXPECT_EQ(OpenStore("sqlite:https://example.com/x.db").status().kind(), ErrorKind::kBadRequest);
  EXPECT_FALSE(std::filesystem::exists("mysql:"));
}

}  // namespace
}  // namespace coffre::store
