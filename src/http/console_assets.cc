#include "http/console_assets.h"

#include "auth/token_authority.h"
#include "common/strings.h"
#include "http/router.h"

namespace coffre::http {
namespace {

std::string_view ContentTypeOf(std::string_view path) {
  struct Type {
    std::string_view extension;
    std::string_view type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json; charset=utf-8"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes) {
    if (path.ends_with(t.extension)) return t.type;
  }
  return "application/octet-stream";
}

const ConsoleAsset* FindAsset(std::string_view path) {
  for (const ConsoleAsset& asset : ConsoleAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

void AddSecurityHeaders(ApiResponse& response, std::string_view host) {
  response.headers.emplace_back("Content-Security-Policy", ConsoleContentSecurityPolicy(host));
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
}

ApiResponse NotFoundHere() {
  return ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found."));
}

}  // namespace

std::string ConsoleContentSecurityPolicy(std::string_view host) {
  // "https://localhost:8443" for localhost:8443 and payments.localhost:8443 alike: the vaults
  // of this server are its subdomains, on the same port.
  std::string resource = auth::ResourceForHost(host);
  std::string connect = "'self'";
  if (resource.starts_with("https://") && resource.find('[') == std::string::npos) {
    std::string parent = resource.substr(8);
    bool literal_ip = parent.find_first_not_of("0123456789.:") == std::string::npos;
    if (!literal_ip) connect += " https://*." + parent;
    // The admin API hands out vault URIs on NAME.localhost whatever the host it was reached by.
    size_t colon = parent.rfind(':');
    std::string port = colon == std::string::npos ? std::string() : parent.substr(colon);
    if (!parent.starts_with("localhost")) connect += " https://*.localhost" + port;
  }
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "connect-src " +
         connect +
         "; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
}

ApiResponse ConsoleResponse(const ApiRequest& request, const RequestTarget& target) {
  ApiResponse response;
  response.audit.skip = true;  // static files: no data, no authority; API calls are audited
  if (!request.secure) {
    response = NotFoundHere();
    response.audit.skip = true;
    return response;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    response = ErrorResponse(Status(ErrorKind::kMethodNotAllowed, "MethodNotAllowed",
                                    "The console's files are read with GET."));
    response.audit.skip = true;
    return response;
  }
  const auto& seg = target.segments;
  if (seg.size() == 1) {  // "/console": relative links need the trailing slash
    response.status = 301;
    response.headers.emplace_back("Location", "/console/");
    return response;
  }
  std::string path;
  for (size_t i = 1; i < seg.size(); ++i) {
    if (seg[i] == ".." || seg[i] == ".") return NotFoundHere();
    path += (i > 1 ? "/" : "") + seg[i];
  }
  if (path.empty()) path = "index.html";
  const ConsoleAsset* asset = FindAsset(path);
  if (asset == nullptr) {
    response = NotFoundHere();
    response.audit.skip = true;
    AddSecurityHeaders(response, request.host);
    return response;
  }
  response.status = 200;
  response.headers.emplace_back("Content-Type", std::string(ContentTypeOf(path)));
  // HTML is never stored (it is what a new build changes first); the rest is revalidated.
  response.headers.emplace_back("Cache-Control", path.ends_with(".html") ? "no-store" : "no-cache");
  AddSecurityHeaders(response, request.host);
  if (request.method == "GET") response.body = std::string(asset->bytes);
  return response;
}

}  // namespace coffre::http
