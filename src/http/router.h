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

  // Requests that do slow work (key generation) run on their own pool so they never queue
  // ahead of fast ones.
  static bool IsSlow(const ApiRequest& request);

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
