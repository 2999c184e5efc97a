// The Key Vault 401 challenge: header parsing, resource verification and the request flow.
#include "client/challenge.h"

#include <gtest/gtest.h>

#include <atomic>

#include "coffre/identity/identity.h"
#include "test_support.h"

namespace coffre::_detail {
namespace {

using coffre::testing::FakeTransport;
using coffre::testing::MakeResponse;
using core::credentials::AccessToken;
using core::credentials::AuthenticationException;
using core::credentials::TokenRequestContext;
using core::http::HttpMethod;

TEST(ParseChallenge, AuthorizationThenResource) {
  auto c = ParseChallenge(
      "Bearer authorization=\"https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47\", "
      "resource=\"https://vault.azure.net\"");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->authorization, "https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47");
  EXPECT_EQ(c->tenant_id, "72f988bf-86f1-41af-91ab-2d7cd011db47");
  EXPECT_EQ(c->resource, "https://vault.azure.net");
  EXPECT_EQ(c->scope, "https://vault.azure.net/.default");
}

TEST(ParseChallenge, ResourceThenAuthorizationUri) {
  auto c = ParseChallenge(
      "Bearer resource=\"https://localhost:8443\", "
      "authorization_uri=\"https://dev.localhost:8443/tenant-1\"");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->tenant_id, "tenant-1");
  EXPECT_EQ(c->scope, "https://localhost:8443/.default");
}

TEST(ParseChallenge, ScopeWinsOverResource) {
  auto c = ParseChallenge(
      "Bearer authorization=\"https://login.windows.net/t\", "
      "resource=\"https://vault.azure.net\", scope=\"https://test.vault.azure.net/.default\"");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->scope, "https://test.vault.azure.net/.default");
  EXPECT_EQ(c->resource, "https://vault.azure.net");
}

TEST(ParseChallenge, CaseSpacingBareValuesAndOtherSchemes) {
  auto c = ParseChallenge("bearer  Authorization = https://login.windows.net/t/ ,SCOPE=x://y");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->tenant_id, "t");
  EXPECT_EQ(c->scope, "x://y");  // taken as given; resource verification judges it
  EXPECT_FALSE(ChallengeResourceMatches("https://v.vault.azure.net", c->scope));
  c = ParseChallenge(
      "BEARER authorization=https://login.windows.net/t,resource=https://vault.azure.net/");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->tenant_id, "t");
  EXPECT_EQ(c->scope, "https://vault.azure.net/.default");  // trailing '/' is not doubled
  c = ParseChallenge(
      "PoP nonce=\"abc\", Bearer authorization=\"https://l/t2\", resource=\"https://r\"");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->tenant_id, "t2");
}

TEST(ParseChallenge, Malformed) {
  EXPECT_FALSE(ParseChallenge("").has_value());
  EXPECT_FALSE(ParseChallenge("Bearer").has_value());
  EXPECT_FALSE(ParseChallenge("Basic realm=\"x\"").has_value());
  // No authorization URI.
  EXPECT_FALSE(ParseChallenge("Bearer resource=\"https://vault.azure.net\"").has_value());
  // No scope or resource.
  EXPECT_FALSE(ParseChallenge("Bearer authorization=\"https://login.windows.net/t\"").has_value());
  // Authorization is not a URL.
  EXPECT_FALSE(ParseChallenge("Bearer authorization=\"nope\", resource=\"https://v\"").has_value());
  EXPECT_FALSE(ParseChallenge("\"Bearer\" authorization=x").has_value());
}

TEST(ResourceVerification, SuffixOfVaultHost) {
  EXPECT_TRUE(ChallengeResourceMatches("https://myvault.vault.azure.net",
                                       "https://vault.azure.net/.default"));
  EXPECT_TRUE(
      ChallengeResourceMatches("https://MyVault.Vault.Azure.Net", "https://vault.azure.net"));
  EXPECT_TRUE(ChallengeResourceMatches("https://dev.localhost:8443", "https://localhost:8443"));
  EXPECT_TRUE(ChallengeResourceMatches("https://localhost:8443", "https://localhost:8443"));
  EXPECT_TRUE(ChallengeResourceMatches("https://dev.vault.azure.net:443",
                                       "https://vault.azure.net:443/.default"));
  // Not a parent domain: a mere string suffix does not count.
  EXPECT_FALSE(ChallengeResourceMatches("https://evilvault.azure.net", "https://vault.azure.net"));
  EXPECT_FALSE(
      ChallengeResourceMatches("https://myvault.vault.azure.net", "https://management.azure.com"));
  // A port named by the resource must be the vault's.
  EXPECT_FALSE(ChallengeResourceMatches("https://dev.localhost:8443", "https://localhost:9443"));
  EXPECT_FALSE(ChallengeResourceMatches("https://dev.localhost:8443", "not a url"));
}

// Records every GetToken call. Behaves like a caching credential: the same token until a caller
// demands more lifetime than any token has (a forced refresh), then the next one.
class RecordingCredential : public core::credentials::TokenCredential {
 public:
  RecordingCredential() : TokenCredential("RecordingCredential") {}
  AccessToken GetToken(const TokenRequestContext& context, const core::Context&) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    contexts.push_back(context);
    if (context.MinimumExpiration > std::chrono::hours(24 * 365)) ++generation;
    return {"token-" + std::to_string(generation), DateTime::max()};
  }
  mutable std::mutex mutex_;
  mutable std::vector<TokenRequestContext> contexts;
  mutable int generation = 1;
};

struct Flow {
  std::shared_ptr<RecordingCredential> credential = std::make_shared<RecordingCredential>();
  std::shared_ptr<FakeTransport> transport;
  std::unique_ptr<HttpPipeline> pipeline;

  Flow(FakeTransport::Handler handler, const std::string& vault, bool verify = true) {
    transport = std::make_shared<FakeTransport>(std::move(handler));
    core::RetryOptions no_retries;
    no_retries.MaxRetries = 0;
    pipeline = std::make_unique<HttpPipeline>(
        transport, RetryPolicy(no_retries),
        std::make_unique<BearerChallengePolicy>(credential, vault, verify), "test");
  }
};

// A vault that challenges requests without the expected token.
FakeTransport::Handler Vault(const std::string& valid_token) {
  return [valid_token](const core::http::Request& r) {
    auto auth = r.GetHeader("Authorization");
    if (!auth || auth.Value() != "Bearer " + valid_token) {
      return MakeResponse(401, coffre::testing::kUnauthorizedBody,
                          {{"WWW-Authenticate", coffre::testing::kChallenge}});
    }
    return MakeResponse(200, R"({"ok":true})");
  };
}

TEST(BearerChallengePolicy, ProbeWithoutBodyThenTokenThenBody) {
  Flow flow(Vault("token-1"), "https://myvault.vault.azure.net");
  core::http::Request request(HttpMethod::Post,
                              "https://myvault.vault.azure.net/keys/k/create?api-version=7.5",
                              R"({"kty":"RSA"})");
  request.SetHeader("Content-Type", "application/json");
  auto response = flow.pipeline->Send(request, core::Context());
  EXPECT_EQ(response->GetStatusCode(), core::http::HttpStatusCode::Ok);

  auto sent = flow.transport->requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].GetBody(), "");                             // the probe carries no body ...
  EXPECT_FALSE(sent[0].GetHeader("Authorization").HasValue());  // ... and no token
  EXPECT_EQ(sent[1].GetBody(), R"({"kty":"RSA"})");
  EXPECT_EQ(sent[1].GetHeader("Authorization").Value(), "Bearer token-1");
  // Both attempts are one logical request.
  EXPECT_EQ(sent[0].GetHeader("x-ms-client-request-id").Value(),
            sent[1].GetHeader("x-ms-client-request-id").Value());

  ASSERT_EQ(flow.credential->contexts.size(), 1u);
  EXPECT_EQ(flow.credential->contexts[0].Scopes,
            std::vector<std::string>{"https://vault.azure.net/.default"});
  EXPECT_EQ(flow.credential->contexts[0].TenantId, "72f988bf-86f1-41af-91ab-2d7cd011db47");

  // The challenge is remembered: the next request goes out with a token at once.
  core::http::Request second(HttpMethod::Get,
                             "https://myvault.vault.azure.net/keys?api-version=7.5");
  EXPECT_EQ(flow.pipeline->Send(second, core::Context())->GetStatusCode(),
            core::http::HttpStatusCode::Ok);
  sent = flow.transport->requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_TRUE(sent[2].GetHeader("Authorization").HasValue());
}

TEST(BearerChallengePolicy, RejectedTokenIsRefreshedOnce) {
  // token-1 is accepted by nobody; token-2 (after the forced refresh) works.
  Flow flow(Vault("token-2"), "https://myvault.vault.azure.net");
  core::http::Request first(HttpMethod::Get,
                            "https://myvault.vault.azure.net/keys?api-version=7.5");
  auto response = flow.pipeline->Send(first, core::Context());
  // probe (401) -> token-1 (401) is returned: the first round does not loop.
  EXPECT_EQ(response->GetStatusCode(), core::http::HttpStatusCode::Unauthorized);
  core::http::Request second(HttpMethod::Get,
                             "https://myvault.vault.azure.net/keys?api-version=7.5");
  response = flow.pipeline->Send(second, core::Context());
  EXPECT_EQ(response->GetStatusCode(), core::http::HttpStatusCode::Ok);
  ASSERT_EQ(flow.credential->contexts.size(), 3u);
  // The refresh demands more lifetime than any cached token has, so caches fetch anew.
  EXPECT_GT(flow.credential->contexts[2].MinimumExpiration, std::chrono::hours(24 * 365));
}

TEST(BearerChallengePolicy, ForeignResourceIsRefused) {
  Flow flow(Vault("token-1"), "https://myvault.example.com");
  core::http::Request request(HttpMethod::Get, "https://myvault.example.com/keys?api-version=7.5");
  EXPECT_THROW(flow.pipeline->Send(request, core::Context()), AuthenticationException);
  EXPECT_TRUE(flow.credential->contexts.empty());  // no token was requested for it

  Flow trusting(Vault("token-1"), "https://myvault.example.com", false);
  core::http::Request again(HttpMethod::Get, "https://myvault.example.com/keys?api-version=7.5");
  EXPECT_EQ(trusting.pipeline->Send(again, core::Context())->GetStatusCode(),
            core::http::HttpStatusCode::Ok);
}

TEST(BearerChallengePolicy, PlainHttpIsRefused) {
  Flow flow(Vault("token-1"), "http://myvault.vault.azure.net");
  core::http::Request request(HttpMethod::Get, "http://myvault.vault.azure.net/keys");
  EXPECT_THROW(flow.pipeline->Send(request, core::Context()), AuthenticationException);
  EXPECT_TRUE(flow.transport->requests().empty());
}

TEST(BearerChallengePolicy, NoChallengeReturnsTheResponse) {
  Flow flow(
      [](const core::http::Request& r) {
        return r.GetBody().empty() ? MakeResponse(400, R"({"error":{"code":"BadParameter"}})")
                                   : MakeResponse(200, "{}");
      },
      "https://v.vault.azure.net");
  core::http::Request request(HttpMethod::Post, "https://v.vault.azure.net/rng?api-version=7.5",
                              R"({"count":4})");
  // The server did not challenge the probe: the real request is sent as is.
  EXPECT_EQ(flow.pipeline->Send(request, core::Context())->GetStatusCode(),
            core::http::HttpStatusCode::Ok);
  EXPECT_EQ(flow.transport->requests().size(), 2u);

  Flow garbled(
      [](const core::http::Request&) {
        return MakeResponse(401, "{}", {{"WWW-Authenticate", "Bearer nonsense"}});
      },
      "https://v.vault.azure.net");
  core::http::Request get(HttpMethod::Get, "https://v.vault.azure.net/keys?api-version=7.5");
  EXPECT_EQ(garbled.pipeline->Send(get, core::Context())->GetStatusCode(),
            core::http::HttpStatusCode::Unauthorized);
}

}  // namespace
}  // namespace coffre::_detail
