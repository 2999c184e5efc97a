#include "http/cors.h"

#include "auth/token_authority.h"
#include "common/strings.h"

namespace coffre::http {
namespace {

constexpr size_t kMaxOriginLength = 300;

}  // namespace

bool IsCorsPreflight(const ApiRequest& request) {
  return request.method == "OPTIONS" && request.Header("origin") != nullptr &&
         request.Header("access-control-request-method") != nullptr;
}

std::optional<std::string> AllowedOrigin(const ApiRequest& request) {
  const std::string* origin = request.Header("origin");
  if (origin == nullptr || origin->size() > kMaxOriginLength || request.host.empty() ||
      !request.secure) {
    return std::nullopt;
  }
  constexpr std::string_view kScheme = "https://";
  std::string lower = AsciiLower(*origin);
  if (!lower.starts_with(kScheme) || lower.size() == kScheme.size()) return std::nullopt;
  std::string host = lower.substr(kScheme.size());
  if (host.find_first_of("/?#@ ") != std::string::npos) return std::nullopt;
  // https://localhost:8443 for both localhost:8443 and payments.localhost:8443.
  if (auth::ResourceForHost(host) != auth::ResourceForHost(request.host)) return std::nullopt;
  return lower;
}

ApiResponse CorsPreflightResponse(const ApiRequest& request) {
  ApiResponse response;
  response.status = 204;
  response.audit.skip = true;  // no request runs; the call that follows is audited
  if (AllowedOrigin(request)) {
    response.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
    response.headers.emplace_back("Access-Control-Allow-Headers",
                                  "authorization, content-type, x-ms-client-request-id");
    response.headers.emplace_back("Access-Control-Max-Age", "600");
  }
  return response;  // AddCorsHeaders adds the origin
}

void AddCorsHeaders(const ApiRequest& request, ApiResponse& response) {
  if (request.Header("origin") == nullptr) return;
  response.headers.emplace_back("Vary", "Origin");
  if (auto origin = AllowedOrigin(request)) {
    response.headers.emplace_back("Access-Control-Allow-Origin", *origin);
    response.headers.emplace_back("Access-Control-Expose-Headers", "x-ms-request-id");
  }
}

}  // namespace coffre::http
