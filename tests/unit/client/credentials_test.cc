// Credentials: token caching and refresh, managed identity (App Service), client secret
// endpoints, the default chain. Endpoints are loopback servers; nothing reaches 169.254.169.254.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "client/token_cache.h"
#include "coffre/identity/identity.h"
#include "loopback_server.h"

namespace coffre::identity {
namespace {

using coffre::testing::LoopbackRequest;
using coffre::testing::LoopbackServer;
using core::credentials::AccessToken;
using core::credentials::AuthenticationException;
using core::credentials::TokenRequestContext;

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const char* name : {"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
                             "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
                             "AZURE_AUTHORITY_HOST", "AZURE_POD_IDENTITY_AUTHORITY_HOST"}) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      unsetenv(name);
    }
    for (auto [name, value] : vars) setenv(name, value, 1);
  }
  ~ScopedEnv() {
    for (auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TokenRequestContext Scope(const std::string& scope) {
  TokenRequestContext context;
  context.Scopes = {scope};
  return context;
}

core::credentials::TokenCredentialOptions NoProxyFastRetry() {
  core::credentials::TokenCredentialOptions options;
  options.Transport.HttpProxy = "";
  options.Retry.RetryDelay = std::chrono::milliseconds(10);
  return options;
}

TEST(TokenCache, ReusesUntilFiveMinutesBeforeExpiry) {
  auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  _detail::TokenCache cache([&now] { return now; });
  int fetches = 0;
  auto fetch = [&] {
    ++fetches;
    return AccessToken{"t" + std::to_string(fetches), now + std::chrono::minutes(60)};
  };
  auto context = Scope("https://vault.azure.net/.default");
  EXPECT_EQ(cache.Get(context, "", fetch).Token, "t1");
  now += std::chrono::minutes(50);
  EXPECT_EQ(cache.Get(context, "", fetch).Token, "t1");  // 10 minutes left: still fine
  now += std::chrono::minutes(6);
  EXPECT_EQ(cache.Get(context, "", fetch).Token, "t2");  // 4 minutes left: refreshed
  EXPECT_EQ(cache.Get(Scope("https://other/.default"), "", fetch).Token, "t3");  // per scope
  EXPECT_EQ(cache.Get(context, "tenant-b", fetch).Token, "t4");                  // per tenant
  EXPECT_EQ(fetches, 4);

  // A failed refresh falls back to a token that has not expired yet.
  now += std::chrono::minutes(57);  // t2 has 3 minutes left
  auto failing = []() -> AccessToken { throw AuthenticationException("endpoint down"); };
  EXPECT_EQ(cache.Get(context, "", failing).Token, "t2");
  now += std::chrono::minutes(5);
  EXPECT_THROW(cache.Get(context, "", failing), AuthenticationException);
}

TEST(ManagedIdentityCredential, AppServiceProtocol) {
  std::vector<LoopbackRequest> seen;
  std::mutex mutex;
  LoopbackServer server([&](const LoopbackRequest& r) {
    std::lock_guard<std::mutex> lock(mutex);
    seen.push_back(r);
    // expires_on as a numeric string, as App Service sends it.
    return LoopbackServer::Reply(
        200,
        R"({"access_token":"msi-token","expires_on":"4102444800","resource":"https://vault.azure.net","token_type":"Bearer"})");
  });
  ScopedEnv env({{"IDENTITY_ENDPOINT", server.url("/msi/token").c_str()},
                 {"IDENTITY_HEADER", "secret-header"}});
  ManagedIdentityCredential credential("", NoProxyFastRetry());
  AccessToken token = credential.GetToken(Scope("https://vault.azure.net/.default"), {});
  EXPECT_EQ(token.Token, "msi-token");
  EXPECT_EQ(token.ExpiresOn.ToUnixSeconds(), 4102444800);
  // Cached: a second call does not hit the endpoint.
  credential.GetToken(Scope("https://vault.azure.net/.default"), {});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target,
            "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net");
  EXPECT_EQ(seen[0].headers.at("x-identity-header"), "secret-header");
}

TEST(ManagedIdentityCredential, NumericExpiryClientIdAndErrors) {
  LoopbackServer server([](const LoopbackRequest& r) {
    if (r.target.find("resource=bad") != std::string::npos) {
      return LoopbackServer::Reply(400, R"({"error":"invalid_request","error_description":"no"})");
    }
    return LoopbackServer::Reply(200, R"({"access_token":"t","expires_on":4102444800})");
  });
  ScopedEnv env(
      {{"IDENTITY_ENDPOINT", server.url("/msi/token").c_str()}, {"IDENTITY_HEADER", "h"}});
  ManagedIdentityCredential credential("my-client-id", NoProxyFastRetry());
  EXPECT_EQ(
      credential.GetToken(Scope("https://localhost:8443/.default"), {}).ExpiresOn.ToUnixSeconds(),
      4102444800);
  try {
    credential.GetToken(Scope("bad"), {});
    FAIL() << "expected AuthenticationException";
  } catch (const CredentialUnavailableException&) {
    FAIL() << "a configured endpoint that refuses is a failure, not 'unavailable'";
  } catch (const AuthenticationException& e) {
    EXPECT_NE(std::string(e.what()).find("invalid_request"), std::string::npos);
  }
}

TEST(ManagedIdentityCredential, UnavailableWithoutEndpointAndNoImdsProbe) {
  ScopedEnv env({});
  ManagedIdentityCredential credential;
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(credential.GetToken(Scope("https://vault.azure.net/.default"), {}),
               CredentialUnavailableException);
  // Immediate: no network attempt (IMDS is opt-in).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
}

TEST(DefaultAzureCredential, EnvironmentThenManagedIdentity) {
  LoopbackServer server([](const LoopbackRequest&) {
    return LoopbackServer::Reply(200, R"({"access_token":"from-msi","expires_on":"4102444800"})");
  });
  {
    ScopedEnv env(
        {{"IDENTITY_ENDPOINT", server.url("/msi/token").c_str()}, {"IDENTITY_HEADER", "h"}});
    DefaultAzureCredential credential(NoProxyFastRetry());
    EXPECT_EQ(credential.GetToken(Scope("https://vault.azure.net/.default"), {}).Token, "from-msi");
    EXPECT_EQ(credential.GetCredentialName(), "DefaultAzureCredential");
  }
  {
    ScopedEnv env({});
    DefaultAzureCredential credential;
    try {
      credential.GetToken(Scope("https://vault.azure.net/.default"), {});
      FAIL() << "expected CredentialUnavailableException";
    } catch (const CredentialUnavailableException& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("EnvironmentCredential"), std::string::npos);
      EXPECT_NE(what.find("ManagedIdentityCredential"), std::string::npos);
    }
  }
}

TEST(ClientSecretCredential, TokenEndpoints) {
  ScopedEnv env({});
  ClientSecretCredentialOptions options;
  options.AuthorityHost = "https://localhost:8443/";
  ClientSecretCredential adfs("adfs", "id", "secret", options);
  EXPECT_EQ(adfs.TokenEndpoint("adfs"), "https://localhost:8443/adfs/oauth2/token");
  EXPECT_EQ(adfs.TokenEndpoint("ADFS"), "https://localhost:8443/adfs/oauth2/token");
  EXPECT_EQ(adfs.TokenEndpoint("72f988bf-86f1-41af-91ab-2d7cd011db47"),
            "https://localhost:8443/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token");
  ClientSecretCredential entra("tenant", "id", "secret");
  EXPECT_EQ(entra.TokenEndpoint("tenant"),
            "https://login.microsoftonline.com/tenant/oauth2/v2.0/token");
}

TEST(ClientSecretCredential, RefusesPlainHttpAuthorityAndForeignTenant) {
  ScopedEnv env({});
  ClientSecretCredentialOptions http;
  http.AuthorityHost = "http://127.0.0.1:1";
  ClientSecretCredential insecure("adfs", "id", "secret", http);
  EXPECT_THROW(insecure.GetToken(Scope("https://vault.azure.net/.default"), {}),
               AuthenticationException);
  ClientSecretCredential tenant_bound("tenant-a", "id", "secret");
  auto context = Scope("https://vault.azure.net/.default");
  context.TenantId = "tenant-b";
  EXPECT_THROW(tenant_bound.GetToken(context, {}), AuthenticationException);
}

TEST(EnvironmentCredential, UnavailableUnlessFullyConfigured) {
  ScopedEnv env({{"AZURE_TENANT_ID", "adfs"}, {"AZURE_CLIENT_ID", "id"}});
  EnvironmentCredential credential;
  EXPECT_THROW(credential.GetToken(Scope("https://vault.azure.net/.default"), {}),
               CredentialUnavailableException);
}

TEST(ChainedTokenCredential, SkipsUnavailableStopsOnFailure) {
  class Fixed : public core::credentials::TokenCredential {
   public:
    explicit Fixed(int mode) : TokenCredential("Fixed"), mode_(mode) {}
    AccessToken GetToken(const TokenRequestContext&, const core::Context&) const override {
      ++calls;
      if (mode_ == 0) throw CredentialUnavailableException("not here");
      if (mode_ == 1) throw AuthenticationException("wrong secret");
      return {"ok", DateTime::max()};
    }
    mutable int calls = 0;

   private:
    int mode_;
  };
  auto unavailable = std::make_shared<Fixed>(0);
  auto failing = std::make_shared<Fixed>(1);
  auto working = std::make_shared<Fixed>(2);
  ChainedTokenCredential chain({unavailable, working, failing});
  EXPECT_EQ(chain.GetToken(Scope("s"), {}).Token, "ok");
  EXPECT_EQ(chain.GetToken(Scope("s"), {}).Token, "ok");
  EXPECT_EQ(unavailable->calls, 1);  // the working source is remembered
  EXPECT_EQ(failing->calls, 0);
  ChainedTokenCredential stops({failing, working});
  EXPECT_THROW(stops.GetToken(Scope("s"), {}), AuthenticationException);
  EXPECT_EQ(working->calls, 2);
}

TEST(StaticTokenCredential, ReturnsItsToken) {
  StaticTokenCredential credential("abc");
  EXPECT_EQ(credential.GetToken(Scope("x"), {}).Token, "abc");
  EXPECT_EQ(credential.GetToken(Scope("x"), {}).ExpiresOn, DateTime::max());
}

}  // namespace
}  // namespace coffre::identity
