// Helpers of the client unit tests: a scripted fake transport and recorded service answers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "coffre/core/http.h"

namespace coffre::testing {

using core::http::HttpStatusCode;
using core::http::RawResponse;
using core::http::Request;

inline std::unique_ptr<RawResponse> MakeResponse(
    int status, const std::string& body = {},
    std::vector<std::pair<std::string, std::string>> headers = {}) {
  auto r = std::make_unique<RawResponse>(1, 1, static_cast<HttpStatusCode>(status), "Reason");
  if (!body.empty()) r->SetHeader("Content-Type", "application/json; charset=utf-8");
  for (auto& [name, value] : headers) r->SetHeader(name, value);
  r->SetBody(std::vector<uint8_t>(body.begin(), body.end()));
  return r;
}

// Answers each request with `handler` and records what was sent.
class FakeTransport : public core::http::HttpTransport {
 public:
  using Handler = std::function<std::unique_ptr<RawResponse>(const Request&)>;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  std::unique_ptr<RawResponse> Send(const Request& request, const core::Context&) override {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
    return handler_(request);
  }

  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  Handler handler_;
  std::mutex mutex_;
  std::vector<Request> requests_;
};

// The path and query of a request's URL.
inline std::string PathOf(const Request& r) {
  std::string url = r.GetUrl();
  size_t start = url.find('/', std::string("https://").size());
  return url.substr(start);
}

inline std::string KeyNotFoundBody(const std::string& name);

// A vault that challenges unauthenticated requests and otherwise routes "METHOD path" (with
// query) to scripted answers; unscripted routes are 404 with `not_found_body`.
struct ScriptedVault {
  std::map<std::string, std::vector<std::string>> bodies;  // route -> successive bodies
  std::map<std::string, std::vector<int>> statuses;
  std::string not_found_body = KeyNotFoundBody("x");

  std::unique_ptr<RawResponse> operator()(const Request& r);
};

// ---- recorded service answers (shapes from the Key Vault reference and recordings) ---------

// A 401 challenge as the real service sends it.
inline constexpr const char* kChallenge =
    "Bearer authorization=\"https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47\", "
    "resource=\"https://vault.azure.net\"";
inline constexpr const char* kUnauthorizedBody =
    R"({"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}})";

// DeleteKey example: a DeletedKeyBundle of an RSA key.
inline constexpr const char* kDeletedRsaBundle = R"({
 "recoveryId":"https://myvault.vault.azure.net/deletedkeys/CreateSoftKeyTest",
 "deletedDate":1493942452,"scheduledPurgeDate":1501718452,
 "key":{"kid":"https://myvault.vault.azure.net/keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71",
  "kty":"RSA","key_ops":["encrypt","decrypt","sign","verify","wrapKey","unwrapKey"],
  "n":"1_6ZtP288hEkKML-L6nFyZh1PD1rmAgwbbwjEvTSDK_008BYWhjp_6ULy9BhWtRIytNkPkm9gzaBTrCpp-vyDXPGa836Htp-w8u5JmxoUZchJh576m3m-8ZYWTmZSAp5SpruyKAmLSxPJHEWPXQntnmuTMjb9HBT9Ltrwc0ZDk-jsMLYunDJrNmrRUxQgb0zQ_Tl5fJjj8j-0KVx2RXtbfWFvf5fRdBYyP3m0aUpoopQPwtXszD2LcSKMJ_TnmnvMWr8MOA5aRlBaGdBk7zBgRafvDPam3Q2AvFA9mfcAVncpfZ3JFm73VARw6MofXtRqOHtZ7y4oNbY95xXwU2r6w",
  "e":"AQAB"},
 "attributes":{"enabled":true,"created":1493942451,"updated":1493942451,"recoveryLevel":"Recoverable+Purgeable"},
 "tags":{"purpose":"unit test","test name ":"CreateGetDeletedKeyTest"}})";

// Create {"kty":"EC"} as recorded from the real service.
inline constexpr const char* kEcBundle =
    R"({"key":{"kid":"https://v.vault.azure.net/keys/k1/eaa877afabe64208a82d0a315e32a8a7","kty":"EC",
 "key_ops":["sign","verify"],"crv":"P-256","x":"v6N9vJ3vMmP4Uv2pLq8l3R2-J4ZX1pKFv6c2kGJtW0E","y":"bACuLcJZtF4Qh2cG3xWn7v2J8a1Dq3zSxR9YlKHq0_c"},
 "attributes":{"enabled":true,"created":1628110564,"updated":1628110564,
 "recoveryLevel":"CustomizedRecoverable+Purgeable","recoverableDays":7}})";

// GET /keys page 1 of 2 (nextLink as the service writes it: :443, $skiptoken, maxresults).
inline constexpr const char* kKeysPage1 = R"({"value":[
 {"kid":"https://myvault.vault.azure.net/keys/k1","attributes":{"enabled":true,"created":1493938289,"updated":1493938289,"recoveryLevel":"Recoverable+Purgeable"},"tags":{"purpose":"unit test"}},
 {"kid":"https://myvault.vault.azure.net/keys/k2","attributes":{"enabled":false,"nbf":1493938000,"exp":1893938000,"created":1493938290,"updated":1493938291,"recoveryLevel":"Recoverable+Purgeable","recoverableDays":90},"managed":true}],
 "nextLink":"https://myvault.vault.azure.net:443/keys?api-version=7.2&$skiptoken=eyJOZXh0TWFya2VyIjoiMiE4MCFNREF3TURFeElXdGxlUzlMTWdBIiwiVGFyZ2V0TG9jYXRpb24iOjB9&maxresults=2"})";
inline constexpr const char* kKeysPage2 = R"({"value":[
 {"kid":"https://myvault.vault.azure.net/keys/k3","attributes":{"enabled":true,"created":1493938292,"updated":1493938292,"recoveryLevel":"Recoverable+Purgeable"}}],
 "nextLink":null})";

inline constexpr const char* kDeletedKeysPage = R"({"value":[
 {"kid":"https://myvault.vault.azure.net/keys/GetDeletedKeysTest","recoveryId":"https://myvault.vault.azure.net/deletedkeys/GetDeletedKeysTest",
  "deletedDate":1493937855,"scheduledPurgeDate":1501713855,
  "attributes":{"enabled":true,"created":1493937855,"updated":1493937855,"recoveryLevel":"Recoverable+Purgeable"}}],
 "nextLink":null})";

inline constexpr const char* kRotationPolicy =
    R"({"id":"https://myvault.vault.azure.net/keys/rotateKey/rotationpolicy",
 "lifetimeActions":[{"trigger":{"timeAfterCreate":"P90D"},"action":{"type":"rotate"}},
                    {"trigger":{"timeBeforeExpiry":"P30D"},"action":{"type":"Notify"}}],
 "attributes":{"expiryTime":"P2Y","created":1482188947,"updated":1482188948}})";

inline std::string KeyNotFoundBody(const std::string& name) {
  return R"({"error":{"code":"KeyNotFound","message":"A key with (name/id) )" + name +
         R"( was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"}})";
}

inline std::string ConflictBody(const std::string& name) {
  return R"({"error":{"code":"Conflict","message":"Key )" + name +
         R"( is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged.","innererror":{"code":"ObjectIsDeletedButRecoverable"}}})";
}

inline std::unique_ptr<RawResponse> ScriptedVault::operator()(const Request& r) {
  if (!r.GetHeader("Authorization")) {
    return MakeResponse(401, kUnauthorizedBody, {{"WWW-Authenticate", kChallenge}});
  }
  std::string route = std::string(core::http::HttpMethodToString(r.GetMethod())) + " " + PathOf(r);
  auto& b = bodies[route];
  auto& s = statuses[route];
  if (b.empty() && s.empty()) {
    // Like the service: a request id of its own, the client's id echoed.
    return MakeResponse(
        404, not_found_body,
        {{"x-ms-request-id", "rid-404"},
         {"x-ms-client-request-id", r.GetHeader("x-ms-client-request-id").ValueOr(std::string())}});
  }
  int status = s.empty() ? 200 : s.front();
  std::string body = b.empty() ? std::string() : b.front();
  if (s.size() > 1) s.erase(s.begin());
  if (b.size() > 1) b.erase(b.begin());
  return MakeResponse(status, body);
}

}  // namespace coffre::testing
