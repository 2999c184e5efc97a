// Router: turns an ApiRequest into an ApiResponse. In order: identity endpoints, health and
// the admin API (own token), vault from Host (unknown -> 404), bearer token (missing or bad ->
// 401 with the Key Vault challenge, before anything looks at the body or route), api-version,
// the vault's permission model (403), then the keys API.
// Handle() blocks (it may generate keys or commit to disk): run it off the I/O threads.
#pragma once

#include <string>
#include <string_view>

#include "auth/access_checker.h"
#include "auth/identity_endpoints.h"
#include "auth/token_authority.h"
#include "http/admin_api.h"
#include "http/api_request.h"
#include "service/crypto_service.h"
#include "service/key_service.h"
#include "service/vault_directory.h"

namespace coffre::http {

struct RouterContext {
  service::KeyService& keys;
  service::CryptoService& crypto;
  service::VaultDirectory& vaults;
  const auth::TokenAuthority& tokens;
  const auth::IdentityEndpoints& identity;
  const auth::AccessChecker& access;
  const AdminContext* admin = nullptr;  // null: no admin API
};

class Router {
 public:
  explicit Router(RouterContext context) : context_(context) {}

  ApiResponse Handle(const ApiRequest& request) const;

  // What kind of work a request is, so the server can place it: compute-bound work that never
  // waits for a disk commit may run on an I/O thread (no thread hand-off), store writes go to a
  // pool whose threads may block on commits, and slow work (key generation, password hashing)
  // to its own pool so it never queues ahead of the rest.
  enum class WorkKind { kCompute, kBlocking, kSlow };
  static WorkKind KindOf(const ApiRequest& request);

 private:
  RouterContext context_;
};

// The vault a Host header names: NAME.localhost[:port], NAME.vault.azure.net; bare localhost,
// 127.0.0.1 and [::1] mean "dev". Empty if the host names no vault.
std::string VaultNameFromHost(std::string_view host);

// Whether an api-version is one the SDKs send and we serve.
bool IsSupportedApiVersion(std::string_view version);

ApiResponse JsonResponse(int status, std::string body);
ApiResponse ErrorResponse(const Status& status);
int HttpStatusOf(ErrorKind kind);

}  // namespace coffre::http
