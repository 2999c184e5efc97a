#include "http/router.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>

#include "common/logging.h"
#include "common/metrics.h"
#include "common/strings.h"
#include "http/console_assets.h"
#include "http/cors.h"
#include "http/key_json.h"

namespace coffre::http {
namespace {

constexpr size_t kMaxHostLength = 255;
constexpr std::string_view kDevVault = "dev";
constexpr std::string_view kLatestApiVersion = "2025-07-01";

bool IsValidHostHeader(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) return false;
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
}

// Host without its port ("[::1]:8443" -> "[::1]", "dev.localhost:8443" -> "dev.localhost").
std::string_view HostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool IsDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string BearerToken(const ApiRequest& request) {
  const std::string* header = request.Header("authorization");
  if (header == nullptr) return {};
  std::string_view value = *header;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() || AsciiLower(value.substr(0, kScheme.size())) != kScheme) {
    return {};
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return std::string(value);
}

ApiResponse Unauthorized(const Status& status, const ApiRequest& request,
                         const auth::TokenAuthority& tokens) {
  ApiResponse response = ErrorResponse(status);
  // Clients split this header on ',' and '=': neither may appear inside the values.
  response.headers.emplace_back("WWW-Authenticate", "Bearer authorization=\"https://" +
                                                        AsciiLower(request.host) + "/" +
                                                        tokens.tenant_id() + "\", resource=\"" +
                                                        auth::ResourceForHost(request.host) + "\"");
  return response;
}

ApiResponse FromEndpoint(const auth::EndpointResponse& endpoint) {
  return JsonResponse(endpoint.status, endpoint.body);
}

// How a throttled caller is answered: Key Vault's shape on the admin API, OAuth's on the
// sign-in endpoints (as Entra ID), both with Retry-After.
enum class ThrottleShape { kKeyVault, kOAuth };

ApiResponse Throttled(int64_t retry_after, ThrottleShape shape) {
  const std::string message = "Too many failed sign-in attempts from this client. Retry after " +
                              std::to_string(retry_after) + " seconds.";
  boost::json::object body;
  if (shape == ThrottleShape::kKeyVault) {
    body["error"] = boost::json::object{{"code", "Throttled"}, {"message", message}};
  } else {
    body["error"] = "temporarily_unavailable";
    body["error_description"] = message;
  }
  ApiResponse response = JsonResponse(429, boost::json::serialize(body));
  response.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return response;
}

// How costly a credential is to check: a client secret needs PBKDF2, which a throttled caller
// must not make the server run; an admin token (one SHA-256) or identity header (a comparison)
// is checked anyway, so the right one is never locked out by someone else's guessing on the
// same address, and only wrong ones are answered 429.
enum class CheckCost { kCheap, kSlow };

// A failed sign-in: 401, or OAuth's invalid_grant (a wrong user password, answered 400).
bool IsFailedSignIn(const ApiResponse& response) {
  return response.status == 401 ||
         (response.status == 400 &&
          response.body.find(R"("error":"invalid_grant")") != std::string::npos);
}

// Runs a sign-in (`attempt`) under the throttle; a failed sign-in counts against the caller.
template <typename Attempt>
ApiResponse Guarded(auth::SignInThrottle* throttle, const ApiRequest& request,
                    std::string_view client_id, ThrottleShape shape, CheckCost cost,
                    Attempt attempt) {
  if (throttle == nullptr) return attempt();
  int64_t wait = throttle->RetryAfterSeconds(request.client_address, client_id);
  if (wait > 0 && cost == CheckCost::kSlow) return Throttled(wait, shape);
  ApiResponse response = attempt();
  if (!IsFailedSignIn(response)) return response;
  if (wait > 0) return Throttled(wait, shape);
  throttle->RecordFailure(request.client_address, client_id);
  return response;
}

// The endpoints outside the data plane with a fixed path, and where each runs. Those that serve
// one method answer any other with 405 at once: such a request is placed like an unknown one.
struct FixedEndpoint {
  Endpoint endpoint;
  std::array<std::string_view, 3> path;  // unused trailing entries are empty
  std::string_view method;               // the one it serves; empty: any
  WorkKind kind;
};

constexpr FixedEndpoint kFixedEndpoints[] = {
    {Endpoint::kHealth, {"healthz"}, "", WorkKind::kCompute},
    // Both may wait on the store (a probe write, per-vault counts).
    {Endpoint::kReady, {"readyz"}, "", WorkKind::kBlocking},
    {Endpoint::kMetrics, {"metrics"}, "GET", WorkKind::kBlocking},
    {Endpoint::kManagedIdentityToken, {"msi", "token"}, "GET", WorkKind::kCompute},
    {Endpoint::kOpenIdConfiguration,
     {"adfs", ".well-known", "openid-configuration"},
     "",
     WorkKind::kCompute},
    {Endpoint::kSigningKeys, {"adfs", "discovery", "keys"}, "", WorkKind::kCompute},
    // Checks a client secret: password hashing is slow by design, on a pool of its own.
    {Endpoint::kClientCredentialsToken, {"adfs", "oauth2", "token"}, "POST", WorkKind::kSignIn},
    // Resource Manager, before any vault routing: bare localhost would otherwise be vault dev.
    {Endpoint::kSubscriptions, {"subscriptions"}, "GET", WorkKind::kCompute},
    {Endpoint::kTenants, {"tenants"}, "GET", WorkKind::kCompute},
};

// /msi/token/: the App Service 2017-09-01 clients append "/?resource=..." to MSI_ENDPOINT.
bool IsManagedIdentityWithSlash(const std::vector<std::string>& segments) {
  return segments.size() == 3 && segments[0] == "msi" && segments[1] == "token" &&
         segments[2].empty();
}

// /adfs/{tenant}/.well-known/openid-configuration: how the Azure CLI resolves a tenant that is
// not a GUID (az login --tenant adfs).
bool IsTenantOpenIdConfiguration(const std::vector<std::string>& segments) {
  return segments.size() == 4 && segments[0] == "adfs" && !segments[1].empty() &&
         segments[2] == ".well-known" && segments[3] == "openid-configuration";
}

const FixedEndpoint* FindFixedEndpoint(const std::vector<std::string>& segments) {
  for (const FixedEndpoint& e : kFixedEndpoints) {
    size_t length = 0;
    while (length < e.path.size() && !e.path[length].empty()) ++length;
    if (segments.size() == length && std::equal(segments.begin(), segments.end(), e.path.begin())) {
      return &e;
    }
  }
  return nullptr;
}

std::string QueryValue(const auth::FieldMap& query, std::string_view name) {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

using VaultRoute = std::variant<KeysRoute, SecretsRoute, CertificatesRoute, ApiResponse>;

VaultRoute ClassifyVaultRoute(std::string_view method, const std::vector<std::string>& segments) {
  if (IsCertificatesPath(segments)) {
    auto certificates = ClassifyCertificatesRoute(method, segments);
    if (auto* route = std::get_if<CertificatesRoute>(&certificates)) return std::move(*route);
    return std::get<ApiResponse>(std::move(certificates));
  }
  if (IsSecretsPath(segments)) {
    auto secrets = ClassifySecretsRoute(method, segments);
    if (auto* route = std::get_if<SecretsRoute>(&secrets)) return std::move(*route);
    return std::get<ApiResponse>(std::move(secrets));
  }
  auto keys = ClassifyKeysRoute(method, segments);
  if (auto* route = std::get_if<KeysRoute>(&keys)) return std::move(*route);
  return std::get<ApiResponse>(std::move(keys));
}

// Where a classified operation runs; nullopt for an error answer.
std::optional<WorkKind> WorkKindOfRoute(const VaultRoute& route, std::string_view body) {
  if (const auto* keys = std::get_if<KeysRoute>(&route)) return WorkKindOf(keys->operation, body);
  if (const auto* secrets = std::get_if<SecretsRoute>(&route)) {
    return WorkKindOf(secrets->operation);
  }
  if (const auto* certificates = std::get_if<CertificatesRoute>(&route)) {
    return WorkKindOf(certificates->operation);
  }
  return std::nullopt;
}

// What the router needs to know about an operation of either API before performing it.
struct OperationFacts {
  std::string_view name;  // audit name
  std::string_view permission;
  std::string_view data_action;
  auth::PermissionKind kind = auth::PermissionKind::kKeys;
  const std::string* object_name = nullptr;
  const std::string* version = nullptr;
};

std::optional<OperationFacts> FactsOf(const VaultRoute& route) {
  if (const auto* keys = std::get_if<KeysRoute>(&route)) {
    return OperationFacts{OperationName(keys->operation),
                          AccessPolicyPermission(keys->operation),
                          RbacDataAction(keys->operation),
                          auth::PermissionKind::kKeys,
                          &keys->name,
                          &keys->version};
  }
  if (const auto* secrets = std::get_if<SecretsRoute>(&route)) {
    return OperationFacts{OperationName(secrets->operation),
                          AccessPolicyPermission(secrets->operation),
                          RbacDataAction(secrets->operation),
                          auth::PermissionKind::kSecrets,
                          &secrets->name,
                          &secrets->version};
  }
  if (const auto* certificates = std::get_if<CertificatesRoute>(&route)) {
    return OperationFacts{OperationName(certificates->operation),
                          AccessPolicyPermission(certificates->operation),
                          RbacDataAction(certificates->operation),
                          auth::PermissionKind::kCertificates,
                          &certificates->name,
                          &certificates->version};
  }
  return std::nullopt;
}

// /readyz and /metrics: for monitoring, neither audited nor in the request log.
ApiResponse OperationsResponse(const RouterContext& context, const ApiRequest& request,
                               Endpoint endpoint) {
  ApiResponse response;
  if (endpoint == Endpoint::kReady) {
    Status ready = context.operations ? context.operations->Ready() : Status::Ok();
    response = ready.ok() ? JsonResponse(200, R"({"status":"ready"})")
                          : JsonResponse(503, R"({"status":"unavailable","reason":)" +
                                                  JsonQuoted(ready.message()) + "}");
  } else if (request.secure) {
    // Like the managed identity endpoint, only on the loopback listener.
    response = ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found."));
  } else if (request.method != "GET") {
    response = ErrorResponse(
        Status(ErrorKind::kMethodNotAllowed, "MethodNotAllowed", "Use GET for /metrics."));
  } else {
    metrics::ExpositionWriter out;
    metrics::Global().Render(out);
    if (context.operations != nullptr) context.operations->AppendMetrics(out);
    response.status = 200;
    response.body = out.text();
    response.headers.emplace_back("Content-Type", std::string(metrics::kContentType));
  }
  response.audit.skip = true;
  return response;
}

// Health, managed identity and sign-in: every endpoint but kAdmin and kVault.
ApiResponse SignInResponse(const RouterContext& context, const ApiRequest& request,
                           const RequestTarget& target, Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kHealth: {
      ApiResponse response = JsonResponse(200, R"({"status":"ok"})");
      response.audit.skip = true;
      return response;
    }
    case Endpoint::kReady:
    case Endpoint::kMetrics:
      return OperationsResponse(context, request, endpoint);
    case Endpoint::kManagedIdentityToken: {
      // Only on the loopback HTTP listener: the HTTPS one may be bound to a network (--bind).
      if (request.secure) {
        return ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found."));
      }
      if (request.method != "GET") {
        return ErrorResponse(Status(ErrorKind::kMethodNotAllowed, "MethodNotAllowed",
                                    "Use GET for the managed identity endpoint."));
      }
      // The App Service 2017-09-01 variant names its secret header "secret".
      const bool app_service_2017 =
          QueryValue(target.query, "api-version") == auth::IdentityEndpoints::kAppService2017;
      const std::string* secret = request.Header(app_service_2017 ? "secret" : "x-identity-header");
      ApiResponse response =
          Guarded(context.sign_ins, request, {}, ThrottleShape::kOAuth, CheckCost::kCheap, [&] {
            return FromEndpoint(context.identity.ManagedIdentityToken(
                target.query, secret ? *secret : std::string()));
          });
      response.audit.operation = "ManagedIdentityToken";
      return response;
    }
    default:
      break;
  }
  // The rest: /adfs/... and the Resource Manager lists.
  if (!request.secure) {
    return ErrorResponse(Status::Forbidden("The sign-in endpoints are served over HTTPS only."));
  }
  switch (endpoint) {
    case Endpoint::kOpenIdConfiguration:
      if (target.segments.size() == 4) {
        // Under a tenant: "adfs" or this server's tenant id.
        const std::string tenant = AsciiLower(target.segments[1]);
        if (tenant != "adfs" && tenant != AsciiLower(context.tokens.tenant_id())) {
          return JsonResponse(400, R"({"error":"invalid_tenant","error_description":)"
                                   R"("The tenant is not known to this server; use adfs."})");
        }
      }
      return FromEndpoint(
          context.identity.OpenIdConfiguration("https://" + AsciiLower(request.host) + "/adfs"));
    case Endpoint::kSubscriptions:
    case Endpoint::kTenants: {
      if (request.method != "GET") {
        return ErrorResponse(
            Status(ErrorKind::kMethodNotAllowed, "MethodNotAllowed", "Use GET for this resource."));
      }
      if (QueryValue(target.query, "api-version").empty()) {
        return ErrorResponse(Status(
            ErrorKind::kBadRequest, "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests."));
      }
      std::string token = BearerToken(request);
      auto claims = token.empty()
                        ? Result<auth::TokenClaims>(Status::Unauthorized(
                              "AKV10000: Request is missing a Bearer or PoP token."))
                        : context.tokens.Verify(token, auth::AudiencesForHost(request.host));
      ApiResponse response = !claims.ok() ? Unauthorized(claims.status(), request, context.tokens)
                                          : FromEndpoint(endpoint == Endpoint::kSubscriptions
                                                             ? context.identity.Subscriptions()
                                                             : context.identity.Tenants());
      response.audit.operation =
          endpoint == Endpoint::kSubscriptions ? "ListSubscriptions" : "ListTenants";
      if (claims.ok()) {
        response.audit.caller_object_id = claims->object_id;
        response.audit.caller_app_id = claims->app_id;
      }
      return response;
    }
    case Endpoint::kSigningKeys:
      return FromEndpoint(context.identity.SigningKeys());
    case Endpoint::kClientCredentialsToken: {
      if (request.method != "POST") {
        return ErrorResponse(Status(ErrorKind::kMethodNotAllowed, "MethodNotAllowed",
                                    "Use POST for the token endpoint."));
      }
      auto form = ParseFormBody(request.body);
      if (!form) {
        return JsonResponse(400, R"({"error":"invalid_request","error_description":)"
                                 R"("The request body is not a valid form."})");
      }
      const std::string* authorization = request.Header("authorization");
      auto id = form->find("client_id");
      std::string_view client_id = id == form->end() ? std::string_view() : id->second;
      // A user's password sign-in is throttled per user name, as a client's per client id.
      auto grant = form->find("grant_type");
      const bool password_grant = grant != form->end() && grant->second == "password";
      auto user = form->find("username");
      std::string_view throttle_key =
          password_grant
              ? (user == form->end() ? std::string_view() : std::string_view(user->second))
              : client_id;
      ApiResponse response = Guarded(
          context.sign_ins, request, throttle_key, ThrottleShape::kOAuth, CheckCost::kSlow, [&] {
            return FromEndpoint(context.identity.ClientCredentialsToken(
                *form, authorization ? *authorization : std::string(),
                request.host.empty() ? std::string() : auth::ResourceForHost(request.host),
                "https://" + AsciiLower(request.host) + "/adfs"));
          });
      response.audit.operation = password_grant ? "PasswordToken" : "ClientCredentialsToken";
      response.audit.caller_app_id = std::string(client_id.substr(0, 64));
      return response;
    }
    default:
      return ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found."));
  }
}

Status CheckApiVersion(const auth::FieldMap& query) {
  auto it = query.find("api-version");
  if (it == query.end() || it->second.empty()) {
    return Status::BadParameter("The api-version query parameter is required.");
  }
  if (!IsSupportedApiVersion(it->second)) {
    return Status::BadParameter("The specified version (" + it->second.substr(0, 64) +
                                ") is not recognized. Consider using the latest supported "
                                "version (" +
                                std::string(kLatestApiVersion) + ").");
  }
  return Status::Ok();
}

}  // namespace

int HttpStatusOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk:
      return 200;
    case ErrorKind::kBadRequest:
      return 400;
    case ErrorKind::kUnauthorized:
      return 401;
    case ErrorKind::kForbidden:
      return 403;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kMethodNotAllowed:
      return 405;
    case ErrorKind::kConflict:
      return 409;
    case ErrorKind::kTooLarge:
      return 413;
    case ErrorKind::kInternal:
      return 500;
    case ErrorKind::kNotImplemented:
      return 501;
    case ErrorKind::kUnavailable:
      return 503;
  }
  return 500;
}

ApiResponse JsonResponse(int status, std::string body) {
  ApiResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return response;
}

ApiResponse ErrorResponse(const Status& status) {
  return JsonResponse(HttpStatusOf(status.kind()), ErrorJson(status));
}

std::string VaultNameFromHost(std::string_view host) {
  std::string name = AsciiLower(HostWithoutPort(host));
  if (name == "localhost" || name == "127.0.0.1" || name == "[::1]") return std::string(kDevVault);
  for (std::string_view suffix :
       {std::string_view(".localhost"), std::string_view(".vault.azure.net")}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      std::string label = name.substr(0, name.size() - suffix.size());
      if (label.find('.') == std::string::npos) return label;
    }
  }
  return {};
}

std::vector<OperationAccess> DataPlaneOperations() {
  std::vector<OperationAccess> rows = KeysOperationAccess();
  std::vector<OperationAccess> secrets = SecretsOperationAccess();
  rows.insert(rows.end(), secrets.begin(), secrets.end());
  std::vector<OperationAccess> certificates = CertificatesOperationAccess();
  rows.insert(rows.end(), certificates.begin(), certificates.end());
  return rows;
}

bool IsSupportedApiVersion(std::string_view version) {
  // Strip a "-preview" or "-preview.N" suffix.
  if (size_t dash = version.find("-preview"); dash != std::string_view::npos) {
    std::string_view suffix = version.substr(dash + 8);
    if (!suffix.empty() && !(suffix.front() == '.' && IsDigits(suffix.substr(1)))) return false;
    version = version.substr(0, dash);
  }
  if (version == "2016-10-01") return true;
  if (version.size() == 3 && version[0] == '7' && version[1] == '.' && version[2] >= '0' &&
      version[2] <= '6') {
    return true;
  }
  // Date versions from 2025-06-01 on, as the newest SDKs send.
  if (version.size() == 10 && version[4] == '-' && version[7] == '-' &&
      IsDigits(version.substr(0, 4)) && IsDigits(version.substr(5, 2)) &&
      IsDigits(version.substr(8, 2))) {
    return version >= "2025-06-01" && version <= "2099-12-31";
  }
  return false;
}

Route Router::RouteOf(const ApiRequest& request) {
  Route route;
  route.target = ParseRequestTarget(request.target);
  if (!route.target) return route;  // answered with an error at once
  const std::vector<std::string>& segments = route.target->segments;
  // Unless a table below says otherwise: reads never wait for a commit, anything else may.
  route.kind = request.method == "GET" ? WorkKind::kCompute : WorkKind::kBlocking;
  if (const FixedEndpoint* fixed = FindFixedEndpoint(segments)) {
    route.endpoint = fixed->endpoint;
    if (fixed->method.empty() || fixed->method == request.method) route.kind = fixed->kind;
    return route;
  }
  if (IsManagedIdentityWithSlash(segments)) {
    route.endpoint = Endpoint::kManagedIdentityToken;
    if (request.method == "GET") route.kind = WorkKind::kCompute;
    return route;
  }
  if (IsTenantOpenIdConfiguration(segments)) {
    route.endpoint = Endpoint::kOpenIdConfiguration;
    return route;
  }
  if (!segments.empty() && segments[0] == "adfs") {
    route.endpoint = Endpoint::kUnknownSignIn;
    return route;
  }
  if (!segments.empty() && segments[0] == kAdminPathSegment) {
    route.endpoint = Endpoint::kAdmin;
    return route;
  }
  if (IsArmPath(segments)) {
    route.endpoint = Endpoint::kArm;
    return route;
  }
  if (IsGraphPath(segments)) {
    route.endpoint = Endpoint::kGraph;
    return route;
  }
  if (!segments.empty() && segments[0] == kConsolePathSegment) {
    route.endpoint = Endpoint::kConsole;
    route.kind = WorkKind::kCompute;
    return route;
  }
  if (IsCorsPreflight(request)) {
    route.endpoint = Endpoint::kCorsPreflight;
    route.kind = WorkKind::kCompute;
    return route;
  }
  route.endpoint = Endpoint::kVault;
  route.operation = ClassifyVaultRoute(request.method, segments);
  if (std::holds_alternative<ApiResponse>(route.operation) && !segments.empty() &&
      segments.back().empty()) {
    // Answered from the exact path (with an error), but placed as the operation the path names
    // without its trailing slashes: a create written "/keys/k/create/" stays off the store
    // writers' pool.
    std::vector<std::string> trimmed = segments;
    while (!trimmed.empty() && trimmed.back().empty()) trimmed.pop_back();
    auto placed = ClassifyVaultRoute(request.method, trimmed);
    if (auto kind = WorkKindOfRoute(placed, request.body)) route.kind = *kind;
  } else if (auto kind = WorkKindOfRoute(route.operation, request.body)) {
    route.kind = *kind;
  }
  return route;
}

ApiResponse Router::Handle(const ApiRequest& request, const Route& route) const {
  ApiResponse response = HandleRoute(request, route);
  AddCorsHeaders(request, response);
  return response;
}

ApiResponse Router::HandleRoute(const ApiRequest& request, const Route& route) const {
  if (!route.target) {
    return ErrorResponse(Status::BadParameter("The request URI is not valid."));
  }
  const RequestTarget& target = *route.target;
  switch (route.endpoint) {
    case Endpoint::kInvalidTarget:
    case Endpoint::kVault:
      break;
    case Endpoint::kConsole:
      return ConsoleResponse(request, target);
    case Endpoint::kCorsPreflight:
      return CorsPreflightResponse(request);
    case Endpoint::kAdmin:
      if (context_.admin == nullptr) {
        return ErrorResponse(Status::NotFound("NotFound", "The admin API is not enabled."));
      }
      {
        ApiResponse response =
            Guarded(context_.sign_ins, request, {}, ThrottleShape::kKeyVault, CheckCost::kCheap,
                    [&] { return HandleAdminRequest(*context_.admin, request, target); });
        if (response.audit.operation.empty()) response.audit.operation = "Admin (throttled)";
        return response;
      }
    case Endpoint::kArm:
    case Endpoint::kGraph:
      if (context_.arm == nullptr) {
        return ErrorResponse(
            Status::NotFound("NotFound", "The Resource Manager surface is not enabled (--arm)."));
      }
      return route.endpoint == Endpoint::kArm ? HandleArmRequest(*context_.arm, request, target)
                                              : HandleGraphRequest(*context_.arm, request, target);
    default:
      return SignInResponse(context_, request, target, route.endpoint);
  }

  auto admitted = Admit(request, route);
  if (ApiResponse* refused = std::get_if<ApiResponse>(&admitted)) return std::move(*refused);
  const store::VaultRecord& vault = std::get<Admission>(admitted).vault;
  const auth::TokenClaims& claims = std::get<Admission>(admitted).claims;
  AuditInfo& audit = std::get<Admission>(admitted).audit;
  const std::optional<OperationFacts> facts = FactsOf(route.operation);
  std::chrono::milliseconds injected_delay{0};
  auto finish = [&audit, &injected_delay](ApiResponse response) {
    response.audit = std::move(audit);
    response.delay = injected_delay;
    return response;
  };

  if (Status version = CheckApiVersion(target.query); !version.ok()) {
    return finish(ErrorResponse(version));
  }
  if (!facts) return finish(std::get<ApiResponse>(route.operation));
  if (context_.harness != nullptr) {
    Intercepted intercepted = InterceptRequest(*context_.harness, vault.name, facts->name);
    injected_delay = intercepted.delay;
    audit.operation += intercepted.audit_note;
    if (intercepted.response) return finish(std::move(*intercepted.response));
  }
  Status allowed = context_.access.Check(
      vault, {claims.object_id, claims.app_id, context_.tokens.issuer()}, facts->permission,
      facts->data_action, *facts->object_name, facts->kind);
  if (!allowed.ok()) return finish(ErrorResponse(allowed));
  VaultRequest vault_request{.http = request,
                             .vault = vault,
                             .base_url = "https://" + AsciiLower(request.host),
                             .api_version = QueryValue(target.query, "api-version"),
                             .skip_token = QueryValue(target.query, "$skiptoken"),
                             .max_results = QueryValue(target.query, "maxresults")};
  if (const auto* secrets = std::get_if<SecretsRoute>(&route.operation)) {
    if (context_.secrets == nullptr) {
      return finish(
          ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found.")));
    }
    return finish(HandleSecretsOperation({*context_.secrets}, vault_request, *secrets));
  }
  if (const auto* certificates = std::get_if<CertificatesRoute>(&route.operation)) {
    if (context_.certificates == nullptr) {
      return finish(
          ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found.")));
    }
    return finish(
        HandleCertificatesOperation({*context_.certificates}, vault_request, *certificates));
  }
  return finish(HandleKeysOperation({context_.keys, context_.crypto}, vault_request,
                                    std::get<KeysRoute>(route.operation)));
}

std::variant<Router::Admission, ApiResponse> Router::Admit(const ApiRequest& request,
                                                           const Route& route) const {
  if (!request.secure) {
    return ErrorResponse(Status::Forbidden("The Key Vault API is served over HTTPS only."));
  }
  if (!IsValidHostHeader(request.host)) {
    return ErrorResponse(Status::BadParameter("The Host header is missing or not valid."));
  }
  // Authentication comes before anything else, the vault included: the SDKs' first request is
  // a body-less probe that expects the challenge, and which vault names exist is not told to
  // callers without a valid token.
  const std::optional<OperationFacts> facts = FactsOf(route.operation);
  AuditInfo audit;
  std::string vault_name = VaultNameFromHost(request.host);
  audit.vault = vault_name;
  audit.operation = facts ? std::string(facts->name) : "Unknown";
  if (facts) {
    // The audit line names the key or secret in the same fields.
    audit.key_name = *facts->object_name;
    audit.key_version = *facts->version;
  }
  auto finish = [&audit](ApiResponse response) {
    response.audit = std::move(audit);
    return response;
  };

  std::string token = BearerToken(request);
  if (token.empty()) {
    return finish(
        Unauthorized(Status::Unauthorized("AKV10000: Request is missing a Bearer or PoP token."),
                     request, context_.tokens));
  }
  auto claims = context_.tokens.Verify(token, auth::AudiencesForHost(request.host));
  if (!claims.ok()) return finish(Unauthorized(claims.status(), request, context_.tokens));
  audit.caller_object_id = claims->object_id;
  audit.caller_app_id = claims->app_id;

  auto vault = vault_name.empty() ? Result<std::optional<store::VaultRecord>>(std::nullopt)
                                  : context_.vaults.Find(vault_name);
  if (!vault.ok()) return finish(ErrorResponse(vault.status()));
  if (!vault->has_value()) {
    return finish(ErrorResponse(Status::NotFound(
        "VaultNotFound",
        "No vault is served at " + AsciiLower(HostWithoutPort(request.host)) + ".")));
  }
  audit.vault = (*vault)->name;
  return Admission{std::move(**vault), std::move(*claims), std::move(audit)};
}

std::optional<ApiResponse> Router::Precheck(const ApiRequest& request, const Route& route) const {
  if (!route.target || route.endpoint != Endpoint::kVault) return std::nullopt;
  auto admitted = Admit(request, route);
  if (ApiResponse* refused = std::get_if<ApiResponse>(&admitted)) return std::move(*refused);
  return std::nullopt;
}

}  // namespace coffre::http
