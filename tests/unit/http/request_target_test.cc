// Tests for http/request_target: request-target splitting, query and form decoding.
#include "http/request_target.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace coffre::http {
namespace {

using Segments = std::vector<std::string>;

RequestTarget MustParse(std::string_view target) {
  auto parsed = ParseRequestTarget(target);
  EXPECT_TRUE(parsed.has_value()) << "rejected: " << target;
  return parsed ? *parsed : RequestTarget{};
}

// ---- ParseRequestTarget: segments

TEST(ParseRequestTarget, Segments) {
  struct Case {
    const char* target;
    Segments segments;
  };
  const std::vector<Case> cases = {
      {"/keys", {"keys"}},
      {"/keys/k1", {"keys", "k1"}},
      {"/keys/k1/", {"keys", "k1", ""}},
      {"/keys/k/", {"keys", "k", ""}},
      {"/keys/k//encrypt", {"keys", "k", "", "encrypt"}},
      {"/keys/k1/0123456789abcdef0123456789abcdef/sign",
       {"keys", "k1", "0123456789abcdef0123456789abcdef", "sign"}},
      {"/deletedkeys/k1/recover", {"deletedkeys", "k1", "recover"}},
      {"//", {"", ""}},
      {"/keys/a%20b", {"keys", "a b"}},
      {"/keys/a+b", {"keys", "a+b"}},
      {"/keys/a%2Fb", {"keys", "a/b"}},
      {"/keys/a%2fb/%4B%6b", {"keys", "a/b", "Kk"}},
  };
  for (const Case& c : cases) {
    RequestTarget t = MustParse(c.target);
    EXPECT_EQ(t.segments, c.segments) << c.target;
    EXPECT_TRUE(t.query.empty()) << c.target;
  }
}

TEST(ParseRequestTarget, RootHasNoSegments) {
  EXPECT_TRUE(MustParse("/").segments.empty());
  RequestTarget t = MustParse("/?api-version=7.4");
  EXPECT_TRUE(t.segments.empty());
  EXPECT_EQ(t.query.at("api-version"), "7.4");
}

TEST(ParseRequestTarget, TrailingSlashBeforeQueryKeepsEmptySegment) {
  RequestTarget t = MustParse("/keys/k1/?api-version=7.5");
  EXPECT_EQ(t.segments, (Segments{"keys", "k1", ""}));
  EXPECT_EQ(t.query.at("api-version"), "7.5");
}

// ---- ParseRequestTarget: query

TEST(ParseRequestTarget, QueryFields) {
  RequestTarget t = MustParse("/keys?api-version=7.4&maxresults=5&$skiptoken=azE");
  EXPECT_EQ(t.segments, (Segments{"keys"}));
  EXPECT_EQ(t.query.size(), 3u);
  EXPECT_EQ(t.query.at("api-version"), "7.4");
  EXPECT_EQ(t.query.at("maxresults"), "5");
  EXPECT_EQ(t.query.at("$skiptoken"), "azE");
}

TEST(ParseRequestTarget, QueryNamesAndValuesAreDecoded) {
  RequestTarget t = MustParse(
      "/msi/token?api%2Dversion=2019-08-01&resource=https%3A%2F%2Flocalhost%3A8443&%24skiptoken="
      "a%3Db");
  EXPECT_EQ(t.query.at("api-version"), "2019-08-01");
  EXPECT_EQ(t.query.at("resource"), "https://localhost:8443");
  EXPECT_EQ(t.query.at("$skiptoken"), "a=b");
  EXPECT_FALSE(t.query.contains("api%2Dversion"));
}

TEST(ParseRequestTarget, FirstOccurrenceWins) {
  RequestTarget t = MustParse("/keys?api-version=7.4&api-version=7.0&api%2Dversion=1.0");
  EXPECT_EQ(t.query.at("api-version"), "7.4");
  EXPECT_EQ(t.query.size(), 1u);
}

TEST(ParseRequestTarget, EmptyPairsAndValuelessNames) {
  RequestTarget t = MustParse("/keys?&&flag&api-version=7.4&&empty=");
  EXPECT_EQ(t.query.at("flag"), "");
  EXPECT_EQ(t.query.at("empty"), "");
  EXPECT_EQ(t.query.at("api-version"), "7.4");
  EXPECT_EQ(t.query.size(), 3u);
}

TEST(ParseRequestTarget, ValueKeepsLaterEqualsSigns) {
  RequestTarget t = MustParse("/keys?$skiptoken=abc==&x=1");
  EXPECT_EQ(t.query.at("$skiptoken"), "abc==");
  EXPECT_EQ(t.query.at("x"), "1");
}

TEST(ParseRequestTarget, FragmentIsNotPartOfTheQuery) {
  RequestTarget t = MustParse("/keys?api-version=7.4#section");
  EXPECT_EQ(t.query.at("api-version"), "7.4");
  EXPECT_EQ(t.query.size(), 1u);
}

// ---- ParseRequestTarget: rejections

TEST(ParseRequestTarget, RejectsBadEscapes) {
  for (const char* target : {"/keys/%zz", "/keys/%4", "/keys/%", "/keys/abc%", "/keys/%g0/x",
                             "/keys?x=%g1", "/keys?%=1", "/keys?a=%4", "/keys?a=1&b=%"}) {
    EXPECT_FALSE(ParseRequestTarget(target).has_value()) << target;
  }
}

TEST(ParseRequestTarget, RejectsNul) {
  for (const char* target : {"/keys/%00", "/keys/a%00b", "/keys?a=%00", "/keys?%00=a"}) {
    EXPECT_FALSE(ParseRequestTarget(target).has_value()) << target;
  }
  EXPECT_FALSE(ParseRequestTarget(std::string_view("/keys/a\0b", 9)).has_value());
}

TEST(ParseRequestTarget, RejectsNonOriginForm) {
  for (const char* target : {"", "keys/k1", "http://dev.localhost:8443/keys", "*",
                             "?api-version=7.4", "dev.localhost:8443", " /keys"}) {
    EXPECT_FALSE(ParseRequestTarget(target).has_value()) << "'" << target << "'";
  }
}

// ---- ParseFormBody

TEST(ParseFormBody, PlusIsSpaceAndEscapedPlusIsPlus) {
  auto form = ParseFormBody(
      "grant_type=client_credentials&client_secret=a+b%2Bc&scope=https%3A%2F%2Flocalhost%3A8443%2F."
      "default");
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(form->at("grant_type"), "client_credentials");
  EXPECT_EQ(form->at("client_secret"), "a b+c");
  EXPECT_EQ(form->at("scope"), "https://localhost:8443/.default");
}

TEST(ParseFormBody, NamesDecodedFirstWins) {
  auto form = ParseFormBody("client+id=1&client%20id=2");
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(form->size(), 1u);
  EXPECT_EQ(form->at("client id"), "1");
}

TEST(ParseFormBody, EmptyBodyIsEmptyForm) {
  auto form = ParseFormBody("");
  ASSERT_TRUE(form.has_value());
  EXPECT_TRUE(form->empty());
}

TEST(ParseFormBody, RejectsBadEscapesAndNul) {
  EXPECT_FALSE(ParseFormBody("a=%zz").has_value());
  EXPECT_FALSE(ParseFormBody("a=1&b=%2").has_value());
  EXPECT_FALSE(ParseFormBody("a=%00").has_value());
}

// ---- PercentDecode

TEST(PercentDecode, Decodes) {
  EXPECT_EQ(PercentDecode("", false), "");
  EXPECT_EQ(PercentDecode("plain", false), "plain");
  EXPECT_EQ(PercentDecode("a%41%62", false), "aAb");
  EXPECT_EQ(PercentDecode("%2d%2D", false), "--");
  EXPECT_EQ(PercentDecode("%e2%98%83", false), "\xe2\x98\x83");
  EXPECT_EQ(PercentDecode("%25", false), "%");
  EXPECT_EQ(PercentDecode("%2541", false), "%41") << "decodes once";
}

TEST(PercentDecode, PlusHandling) {
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("%2B", true), "+");
  EXPECT_EQ(PercentDecode("%2b", false), "+");
  EXPECT_EQ(PercentDecode("%20", false), " ");
}

TEST(PercentDecode, RejectsBadEscapesAndNul) {
  for (const char* text :
       {"%", "%4", "a%", "%41%", "100%", "%zz", "%g1", "%1g", "% 1", "%00", "a%00"}) {
    EXPECT_FALSE(PercentDecode(text, false).has_value()) << text;
    EXPECT_FALSE(PercentDecode(text, true).has_value()) << text;
  }
  EXPECT_FALSE(PercentDecode(std::string_view("a\0b", 3), false).has_value());
}

}  // namespace
}  // namespace coffre::http
