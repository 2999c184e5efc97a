#include "common/logging.h"

#include <gtest/gtest.h>

namespace coffre {
namespace {

TEST(RequestLogTest, PathKeepsOnlyTheApiVersion) {
  EXPECT_EQ(LoggedPath("/keys/k1/abc?api-version=7.5"), "/keys/k1/abc?api-version=7.5");
  EXPECT_EQ(LoggedPath("/msi/token?resource=https://x&api-version=2019-08-01&client_id=SECRET"),
            "/msi/token?api-version=2019-08-01");
  EXPECT_EQ(LoggedPath("/keys?maxresults=5&$skiptoken=abc"), "/keys");
  EXPECT_EQ(LoggedPath("/keys/a b\x01"), "/keys/a?b?");
  EXPECT_EQ(LoggedPath(std::string(2000, 'a')).size(), 512u);
}

TEST(RequestLogTest, TextLineHasTheFieldsAndNoQuerySecrets) {
  RequestLogEntry entry{.method = "POST",
                        .target = "/keys/k/create?api-version=7.5&token=hunter2",
                        .status = 200,
                        .ms = 3.14159,
                        .vault = "dev",
                        .operation = "CreateKey",
                        .caller_object_id = "oid-1",
                        .caller_app_id = "app-1"};
  EXPECT_EQ(RequestLogText(entry),
            "POST /keys/k/create?api-version=7.5 200 3.1ms vault=dev op=CreateKey caller=oid-1 "
            "app=app-1");
  entry.caller_app_id = "evil\nline";
  entry.caller_object_id = {};
  EXPECT_EQ(RequestLogText(entry),
            "POST /keys/k/create?api-version=7.5 200 3.1ms vault=dev op=CreateKey app=evil?line");
}

TEST(RequestLogTest, JsonFieldsAreEscaped) {
  RequestLogEntry entry{.method = "GET",
                        .target = "/keys/k?api-version=7.5",
                        .status = 404,
                        .ms = 0.5,
                        .vault = "v\"x",
                        .operation = "GetKey",
                        .caller_object_id = {},
                        .caller_app_id = {}};
  EXPECT_EQ(RequestLogJsonFields(entry),
            "\"method\":\"GET\",\"path\":\"/keys/k?api-version=7.5\",\"status\":404,\"ms\":0.500,"
            "\"vault\":\"v\\\"x\",\"operation\":\"GetKey\"");
}

TEST(RequestLogTest, ConfigureRefusesUnknownNames) {
  EXPECT_FALSE(ConfigureLogging("loud", "text").ok());
  EXPECT_FALSE(ConfigureLogging("info", "xml").ok());
  EXPECT_TRUE(ConfigureLogging("warn", "json").ok());
  EXPECT_TRUE(ConfigureLogging("info", "text").ok());
}

}  // namespace
}  // namespace coffre
