// ApiRequest / ApiResponse: the HTTP request and response as the router sees them, with the
// transport (Beast, TLS, the CONNECT tunnel) already peeled off. No Beast types here, so the
// router and API handlers compile fast and can be tested without sockets.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coffre::http {

struct ApiRequest {
  std::string method;  // upper case, as sent
  std::string target;  // origin-form request target, as sent
  std::string host;    // Host header, as sent (may include a port)
  bool secure = true;  // arrived over TLS (directly or inside a CONNECT tunnel)
  // Headers the API needs, by lowercase name (only the first of repeated headers).
  std::map<std::string, std::string, std::less<>> headers;
  std::string body;
  std::string client_address;
  std::string request_id;  // x-ms-request-id of the response, and the audit line's id

  const std::string* Header(std::string_view lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

// What the audit log records about a request besides what the transport knows.
struct AuditInfo {
  bool skip = false;  // health checks are not audited
  std::string operation;
  std::string vault;
  std::string key_name;
  std::string key_version;
  std::string caller_object_id;
  std::string caller_app_id;
};

struct ApiResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close_connection = false;
  // The body carries plaintext or key material (decrypt, unwrap): wiped once it is sent.
  bool sensitive = false;
  AuditInfo audit;
};

// Where a request runs, so that no kind of work queues behind another: compute-bound work that
// never waits for a disk commit may run on the I/O thread that read it (no thread hand-off),
// store writes on a pool whose threads may block on commits, key generation on its own pool,
// and client-secret checks (PBKDF2, which anyone can make the server run) on a small pool of
// their own, so a flood of sign-ins can stall neither key generation nor the I/O threads.
enum class WorkKind { kCompute, kBlocking, kSlow, kSignIn };

// Headers the HTTP layer copies into ApiRequest::headers (everything else is dropped).
inline constexpr std::string_view kForwardedHeaders[] = {
    "authorization", "content-type",      "x-identity-header", "x-ms-client-request-id",
    "metadata",      "client-request-id",
    "secret",  // the App Service 2017-09-01 managed identity secret (MSI_SECRET)
};

}  // namespace coffre::http
