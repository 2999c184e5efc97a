// Router: turns an ApiRequest into an ApiResponse. In order: identity endpoints (with the
// Resource Manager subscription and tenant lists the Azure CLI reads), health and the admin API
// (own token), bearer token (missing or bad -> 401 with the Key Vault challenge, before anything
// looks at the vault, body or route), vault from Host (unknown -> 404), api-version,
// the vault's permission model (403), then the keys or secrets API.
// RouteOf() says where Handle() may run: Handle() may generate keys or wait for a commit.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "auth/access_checker.h"
#include "auth/identity_endpoints.h"
#include "auth/sign_in_throttle.h"
#include "auth/token_authority.h"
#include "http/admin_api.h"
#include "http/api_request.h"
#include "http/arm_api.h"
#include "http/keys_api.h"
#include "http/operations_probe.h"
#include "http/request_target.h"
#include "http/certificates_api.h"
#include "http/secrets_api.h"
#include "http/test_harness.h"
#include "service/crypto_service.h"
#include "service/key_service.h"
#include "service/secret_service.h"
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
  // Failed sign-ins (client secrets, admin tokens, identity headers); null: not throttled.
  auth::SignInThrottle* sign_ins = nullptr;
  service::SecretService* secrets = nullptr;  // null: no secrets API (answered 404)
  const ArmContext* arm = nullptr;  // null: no Resource Manager or Graph surface (404)
  // Test-harness mode (faults, throttling); null on a production server.
  TestHarness* harness = nullptr;
  // Scrape-time metrics and readiness; null: /metrics has the process-wide counters only and
  // /readyz answers like /healthz.
  OperationsProbe* operations = nullptr;
  // null: no certificates API (answered 404)
  service::CertificateService* certificates = nullptr;
};

// What a request's path addresses.
enum class Endpoint {
  kInvalidTarget,  // not a valid origin-form target: 400
  kHealth,
  kReady,    // /readyz: the store and the audit log take writes
  kMetrics,  // GET /metrics: Prometheus text, on the loopback HTTP listener only
  kManagedIdentityToken,
  kOpenIdConfiguration,
  kSigningKeys,
  kClientCredentialsToken,
  kUnknownSignIn,  // any other /adfs/...: 404
  kSubscriptions,  // GET /subscriptions (Resource Manager, for the Azure CLI's sign-in)
  kTenants,        // GET /tenants (likewise)
  kAdmin,          // /coffre-admin/...: routed by the admin API
  kArm,            // /subscriptions/{id}/...: Resource Manager (arm_api.h)
  kGraph,          // /v1.0/...: the Microsoft Graph lookups az makes (arm_api.h)
  kVault,          // the Key Vault data plane
  kConsole,        // /console/...: the web console's static files (http/console_assets.h)
  kCorsPreflight,  // OPTIONS with Origin: the console's cross-origin calls to vault hosts
};

// What routing works out from a request's method, target and (for creates) body, once, on the
// I/O thread that read it: which endpoint it addresses and where it runs. Handle takes it, so
// the target is parsed and the keys or secrets route classified only here.
struct Route {
  Endpoint endpoint = Endpoint::kInvalidTarget;
  WorkKind kind = WorkKind::kCompute;
  std::optional<RequestTarget> target;  // set unless endpoint is kInvalidTarget
  // For kVault: the keys or secrets operation, or the answer (404, 405, 400) to give once the
  // caller is authenticated.
  std::variant<KeysRoute, SecretsRoute, CertificatesRoute, ApiResponse> operation;
};

class Router {
 public:
  explicit Router(RouterContext context) : context_(context) {}

  // Never blocks: cheap enough for an I/O thread.
  static Route RouteOf(const ApiRequest& request);
  // `route` is RouteOf(request).
  ApiResponse Handle(const ApiRequest& request, const Route& route) const;
  // For a request whose body is not read yet (its client sent "Expect: 100-continue"): the
  // answer Handle would give whatever the body says (unknown vault, missing or bad token), or
  // nullopt if the body is needed. May look the vault up in the store.
  std::optional<ApiResponse> Precheck(const ApiRequest& request, const Route& route) const;

 private:
  // A data-plane request whose vault exists and whose token is valid.
  struct Admission {
    store::VaultRecord vault;
    auth::TokenClaims claims;
    AuditInfo audit;
  };
  // HTTPS, Host, vault and bearer token, in that order; the error response otherwise.
  std::variant<Admission, ApiResponse> Admit(const ApiRequest& request, const Route& route) const;
  ApiResponse HandleRoute(const ApiRequest& request, const Route& route) const;

  RouterContext context_;
};

// The vault a Host header names: NAME.localhost[:port], NAME.vault.azure.net; bare localhost,
// 127.0.0.1 and [::1] mean "dev". Empty if the host names no vault.
std::string VaultNameFromHost(std::string_view host);

// The rows of every data-plane operations table the router serves. A new table (secrets,
// certificates) adds its rows here: the default-deny test walks this list and fails on any row
// without a permission or data action (the access check refuses such a row anyway).
std::vector<OperationAccess> DataPlaneOperations();

// Whether an api-version is one the SDKs send and we serve.
bool IsSupportedApiVersion(std::string_view version);

ApiResponse JsonResponse(int status, std::string body);
ApiResponse ErrorResponse(const Status& status);
int HttpStatusOf(ErrorKind kind);

}  // namespace coffre::http
