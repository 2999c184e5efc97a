#include <gtest/gtest.h>

#include "http/console_assets.h"
#include "http/cors.h"
#include "http/router.h"

namespace coffre::http {
namespace {

ApiRequest Request(std::string method, std::string target, std::string host,
                   std::map<std::string, std::string, std::less<>> headers = {}) {
  ApiRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.host = std::move(host);
  r.headers = std::move(headers);
  return r;
}

std::string HeaderOf(const ApiResponse& response, std::string_view name) {
  for (const auto& [n, v] : response.headers) {
    if (n == name) return v;
  }
  return {};
}

TEST(ConsoleCors, OnlyThisServersOriginsAreAllowed) {
  auto with_origin = [](std::string origin, std::string host = "payments.localhost:8443") {
    return Request("GET", "/keys", std::move(host), {{"origin", std::move(origin)}});
  };
  EXPECT_EQ(AllowedOrigin(with_origin("https://localhost:8443")), "https://localhost:8443");
  EXPECT_EQ(AllowedOrigin(with_origin("https://dev.localhost:8443")), "https://dev.localhost:8443");
  EXPECT_EQ(AllowedOrigin(with_origin("https://LOCALHOST:8443")), "https://localhost:8443");
  for (std::string bad : {"https://localhost:8444", "http://localhost:8443", "https://evil.example",
                          "https://localhost.evil.example:8443", "https://localhost:8443/x",
                          "https://user@localhost:8443", "null", "", "https://"}) {
    EXPECT_FALSE(AllowedOrigin(with_origin(bad))) << bad;
  }
  ApiRequest plain = with_origin("https://localhost:8443");
  plain.secure = false;
  EXPECT_FALSE(AllowedOrigin(plain));
  EXPECT_FALSE(AllowedOrigin(Request("GET", "/keys", "localhost:8443")));
}

TEST(ConsoleCors, PreflightIsRoutedAndAnsweredWithoutAuthority) {
  ApiRequest pre =
      Request("OPTIONS", "/keys?api-version=7.5", "dev.localhost:8443",
              {{"origin", "https://localhost:8443"}, {"access-control-request-method", "DELETE"}});
  EXPECT_TRUE(IsCorsPreflight(pre));
  EXPECT_EQ(Router::RouteOf(pre).endpoint, Endpoint::kCorsPreflight);
  ApiResponse answer = CorsPreflightResponse(pre);
  AddCorsHeaders(pre, answer);
  EXPECT_EQ(answer.status, 204);
  EXPECT_TRUE(answer.audit.skip);
  EXPECT_EQ(HeaderOf(answer, "Access-Control-Allow-Origin"), "https://localhost:8443");
  EXPECT_NE(HeaderOf(answer, "Access-Control-Allow-Methods").find("DELETE"), std::string::npos);
  EXPECT_EQ(HeaderOf(answer, "Access-Control-Allow-Credentials"), "");

  pre.headers["origin"] = "https://evil.example";
  ApiResponse refused = CorsPreflightResponse(pre);
  AddCorsHeaders(pre, refused);
  EXPECT_EQ(HeaderOf(refused, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(HeaderOf(refused, "Access-Control-Allow-Methods"), "");
  // An OPTIONS without the CORS headers is routed as before.
  EXPECT_NE(Router::RouteOf(Request("OPTIONS", "/keys", "dev.localhost:8443")).endpoint,
            Endpoint::kCorsPreflight);
}

TEST(ConsoleAssets, ServedWithStrictHeaders) {
  ApiRequest get = Request("GET", "/console/", "localhost:8443");
  Route route = Router::RouteOf(get);
  ASSERT_EQ(route.endpoint, Endpoint::kConsole);
  ApiResponse page = ConsoleResponse(get, *route.target);
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(page.audit.skip);
  EXPECT_EQ(HeaderOf(page, "Cache-Control"), "no-store");
  EXPECT_EQ(HeaderOf(page, "X-Frame-Options"), "DENY");
  std::string csp = HeaderOf(page, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);
  EXPECT_NE(page.body.find("js/app.js"), std::string::npos);
  for (const ConsoleAsset& asset : ConsoleAssets()) {
    EXPECT_FALSE(asset.bytes.empty()) << asset.path;
  }
  ApiRequest escape = Request("GET", "/console/../x", "localhost:8443");
  EXPECT_EQ(ConsoleResponse(escape, *Router::RouteOf(escape).target).status, 404);
}

TEST(ConsoleAssets, ConnectSrcCoversTheVaultHostsOfThisPort) {
  EXPECT_NE(ConsoleContentSecurityPolicy("localhost:8443")
                .find("connect-src 'self' https://*.localhost:8443;"),
            std::string::npos);
  std::string named = ConsoleContentSecurityPolicy("kms.example.com:443");
  EXPECT_NE(named.find("https://*.example.com:443"), std::string::npos) << named;
  EXPECT_NE(named.find("https://*.localhost:443"), std::string::npos) << named;
}

}  // namespace
}  // namespace coffre::http
