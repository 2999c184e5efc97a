#include "auth/identity_endpoints.h"

#include <algorithm>
#include <boost/json.hpp>
#include <ctime>
#include <optional>
#include <utility>

#include "common/base64url.h"
#include "common/percent_encoding.h"
#include "crypto/digest.h"
#include "crypto/random.h"
#include "crypto/secret_hash.h"

namespace coffre::auth {
namespace {

namespace json = boost::json;

constexpr size_t kMaxPrincipalName = 128;
// Generous bounds on caller-supplied credentials: ours are a UUID and 43 characters. Longer
// values cannot match, so they skip the store lookup (still paying for one hash, see below).
constexpr size_t kMaxClientIdSize = 256;
constexpr size_t kMaxClientSecretSize = 1024;
constexpr size_t kSecretBytes = 32;

constexpr std::string_view kDefaultSuffix = "/.default";

std::optional<std::string_view> Field(const FieldMap& fields, std::string_view name) {
  auto it = fields.find(name);
  if (it == fields.end()) return std::nullopt;
  return std::string_view(it->second);
}

// Same shape as AAD/ADFS OAuth errors ({"error","error_description"}); MSAL reads both.
EndpointResponse OAuthError(int status, std::string_view error, std::string_view description) {
  json::object body;
  body["error"] = error;
  body["error_description"] = description;
  return {status, json::serialize(body)};
}

EndpointResponse FromIssueError(const Status& status) {
  if (status.kind() == ErrorKind::kBadRequest) {
    return OAuthError(400, "invalid_request", status.message());
  }
  return OAuthError(500, "server_error", "The token could not be issued.");
}

// A hash of a random secret nobody knows, so a request for an unknown client id pays the same
// PBKDF2 cost as one for a known id: response time does not reveal which ids exist.
const std::string& DummySecretHash() {
  static const std::string* hash = [] {
    SecureBytes random = crypto::RandomSecureBytes(kSecretBytes);
    return new std::string(crypto::HashSecret(Base64UrlEncode(random)));
  }();
  return *hash;
}

struct ClientCredentials {
  std::string client_id;
  std::string client_secret;
};

constexpr std::string_view kBasicScheme = "basic ";

bool IsBasicScheme(std::string_view header) {
  if (header.size() < kBasicScheme.size()) return false;
  for (size_t i = 0; i < kBasicScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    if (c != kBasicScheme[i]) return false;
  }
  return true;
}

// Reads "Basic base64(urlencode(id):urlencode(secret))". nullopt: malformed.
std::optional<ClientCredentials> ParseBasic(std::string_view header) {
  std::string_view encoded = header.substr(kBasicScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  std::optional<SecureBytes> decoded = Base64UrlDecodeSecure(encoded);
  if (!decoded) return std::nullopt;
  std::string_view text = AsChars(ByteSpan(decoded->data(), decoded->size()));
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::optional<std::string> id = PercentDecode(text.substr(0, colon), /*plus_as_space=*/true);
  std::optional<std::string> secret = PercentDecode(text.substr(colon + 1), /*plus_as_space=*/true);
  if (!id || !secret) return std::nullopt;
  return ClientCredentials{std::move(*id), std::move(*secret)};
}

// One resource URI ("https://localhost:8443"), with or without "/.default"; not a list of
// scopes nor a bare scope name such as "openid".
bool IsResourceScope(std::string_view scope) {
  if (scope.find(' ') != std::string_view::npos) return false;
  if (AudienceFromScope(scope).empty()) return false;
  if (scope.ends_with(kDefaultSuffix)) return true;
  // A bare resource: scheme://authority, at most a trailing '/', no path (a path names a
  // permission scope such as https://host/keys.read).
  size_t scheme_end = scope.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
  std::string_view rest = scope.substr(scheme_end + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  return !rest.empty() && rest.find('/') == std::string_view::npos;
}

// "11/05/2021 15:18:31 +00:00"
std::string AppServiceDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof(buffer), "%m/%d/%Y %H:%M:%S +00:00", &tm);
  return buffer;
}

bool IsValidPrincipalName(std::string_view name) {
  if (name.empty() || name.size() > kMaxPrincipalName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

IdentityEndpoints::IdentityEndpoints(const TokenAuthority& tokens, store::Store& store,
                                     std::string identity_header, Identity dev_identity)
    : tokens_(tokens),
      store_(store),
      identity_header_(std::move(identity_header)),
      dev_identity_(std::move(dev_identity)) {
  // Computed now, so the first request for an unknown client is not slower than later ones.
  DummySecretHash();
}

EndpointResponse IdentityEndpoints::ManagedIdentityToken(
    const FieldMap& query, std::string_view identity_header_value) const {
  // An empty configured header would let a request without the header through: treat it, like
  // a missing dev identity, as "endpoint off".
  if (dev_identity_.object_id.empty() || identity_header_.empty()) {
    return OAuthError(404, "not_found", "The managed identity endpoint is not enabled.");
  }
  std::optional<std::string_view> api_version = Field(query, "api-version");
  const bool app_service_2017 = api_version == kAppService2017;
  if (!crypto::ConstantTimeEquals(identity_header_value, identity_header_)) {
    return OAuthError(401, "invalid_request",
                      app_service_2017
                          ? "The secret header is missing or does not match."
                          : "The X-IDENTITY-HEADER header is missing or does not match.");
  }
  if (!api_version || api_version->empty()) {
    return OAuthError(400, "invalid_request", "The api-version parameter is required.");
  }
  std::optional<std::string_view> resource = Field(query, "resource");
  if (!resource || resource->empty()) {
    return OAuthError(400, "invalid_request", "The resource parameter is required.");
  }
  // User-assigned identity selectors: there is one identity; asking for another one is an error
  // rather than silently getting a token for someone else.
  std::optional<std::string_view> client_id =
      Field(query, app_service_2017 ? "clientid" : "client_id");
  if (client_id && *client_id != dev_identity_.app_id) {
    return OAuthError(400, "invalid_request",
                      "Identity not found: no managed identity has the requested client_id.");
  }
  for (std::string_view name : {"object_id", "principal_id"}) {
    std::optional<std::string_view> object_id = Field(query, name);
    if (object_id && *object_id != dev_identity_.object_id) {
      return OAuthError(400, "invalid_request",
                        "Identity not found: no managed identity has the requested object id.");
    }
  }
  for (std::string_view name : {"mi_res_id", "msi_res_id"}) {
    if (Field(query, name)) {
      return OAuthError(400, "invalid_request",
                        "Identity not found: resource id selection is not supported.");
    }
  }

  Result<IssuedToken> issued = tokens_.Issue(dev_identity_, *resource);
  if (!issued.ok()) return FromIssueError(issued.status());
  json::object body;
  body["access_token"] = issued->access_token;
  // A string, as App Service sends it; Python int()s it, MSAL subtracts "now" from it. The
  // 2017 variant sent a date, which its clients parse.
  body["expires_on"] =
      app_service_2017 ? AppServiceDate(issued->expires_on) : std::to_string(issued->expires_on);
  body["resource"] = *resource;  // as given: Python's token cache is keyed by it
  body["token_type"] = "Bearer";
  body["client_id"] = dev_identity_.app_id;
  return {200, json::serialize(body)};
}

EndpointResponse IdentityEndpoints::OpenIdConfiguration(std::string_view authority_base) const {
  std::string base(authority_base);
  json::object body;
  // msal-node requires issuer, authorization_endpoint, token_endpoint and jwks_uri, and rejects
  // an issuer whose scheme://host:port differs from the authority's. MSAL Python needs the
  // authorization and token endpoints.
  body["issuer"] = base;
  body["authorization_endpoint"] = base + "/oauth2/authorize";
  body["token_endpoint"] = base + "/oauth2/token";
  body["jwks_uri"] = base + "/discovery/keys";
  body["response_types_supported"] = json::array{"code", "token"};
  body["grant_types_supported"] = json::array{"client_credentials", "password", "refresh_token"};
  body["token_endpoint_auth_methods_supported"] =
      json::array{"client_secret_post", "client_secret_basic"};
  body["scopes_supported"] = json::array{"openid"};
  body["subject_types_supported"] = json::array{"public"};
  body["id_token_signing_alg_values_supported"] = json::array{"ES256"};
  return {200, json::serialize(body)};
}

EndpointResponse IdentityEndpoints::SigningKeys() const {
  crypto::PublicKeyParams params = tokens_.public_key();
  json::object jwk;
  jwk["kty"] = "EC";
  jwk["use"] = "sig";
  jwk["alg"] = "ES256";
  jwk["kid"] = tokens_.key_id();
  jwk["crv"] = "P-256";
  jwk["x"] = Base64UrlEncode(params.x);
  jwk["y"] = Base64UrlEncode(params.y);
  json::object body;
  body["keys"] = json::array{std::move(jwk)};
  return {200, json::serialize(body)};
}

EndpointResponse IdentityEndpoints::ClientCredentialsToken(const FieldMap& form,
                                                           std::string_view authorization_header,
                                                           std::string_view served_resource,
                                                           std::string_view authority_base) const {
  // Everything that can be rejected cheaply is rejected before the (deliberately slow) secret
  // check. Unknown fields (client_info, claims, x-client-*, client-request-id) are ignored.
  std::optional<std::string_view> grant_type = Field(form, "grant_type");
  if (!grant_type || grant_type->empty()) {
    return OAuthError(400, "invalid_request", "The grant_type parameter is required.");
  }
  if (*grant_type == "password") return PasswordToken(form, served_resource, authority_base);
  if (*grant_type == "refresh_token") return RefreshToken(form, served_resource, authority_base);
  if (*grant_type != "client_credentials") {
    return OAuthError(400, "unsupported_grant_type",
                      "The grant type must be client_credentials, password or refresh_token.");
  }

  std::optional<std::string_view> form_id = Field(form, "client_id");
  std::optional<std::string_view> form_secret = Field(form, "client_secret");
  ClientCredentials credentials;
  // Other schemes are not client authentication here; the form fields decide then.
  if (IsBasicScheme(authorization_header)) {
    std::optional<ClientCredentials> basic = ParseBasic(authorization_header);
    if (!basic) {
      return OAuthError(401, "invalid_client",
                        "The Authorization header is not a valid Basic "
                        "client credential.");
    }
    // RFC 6749 2.3: one authentication method per request.
    if (form_secret) {
      return OAuthError(400, "invalid_request",
                        "Client credentials were sent both in the Authorization header and "
                        "in the request body.");
    }
    if (form_id && *form_id != basic->client_id) {
      return OAuthError(400, "invalid_request",
                        "The client_id parameter does not match the Authorization header.");
    }
    credentials = std::move(*basic);
  } else {
    if (!form_id || form_id->empty()) {
      return OAuthError(400, "invalid_request", "The client_id parameter is required.");
    }
    if (!form_secret || form_secret->empty()) {
      return OAuthError(400, "invalid_request", "The client_secret parameter is required.");
    }
    credentials.client_id = std::string(*form_id);
    credentials.client_secret = std::string(*form_secret);
  }
  if (credentials.client_id.empty() || credentials.client_secret.empty()) {
    return OAuthError(400, "invalid_request", "The client_id and client_secret are required.");
  }

  // A v2 scope ("R/.default"), a bare resource as scope (what the Azure SDK for C++ sends with
  // tenant adfs), or the ADFS v1 "resource" field.
  std::optional<std::string_view> scope = Field(form, "scope");
  if (!scope || scope->empty()) scope = Field(form, "resource");
  const std::string example = served_resource.empty() ? std::string("https://localhost:PORT")
                                                      : std::string(served_resource);
  if (!scope || scope->empty()) {
    return OAuthError(
        400, "invalid_scope",
        "The scope (or resource) parameter is required, for example " + example + "/.default.");
  }
  if (!IsResourceScope(*scope)) {
    return OAuthError(400, "invalid_scope",
                      "The scope must be a single resource, optionally followed by /.default, "
                      "for example " +
                          example + "/.default.");
  }

  // Unknown client and wrong secret give the same answer after the same amount of work.
  constexpr std::string_view kBadClient =
      "Invalid client credentials: the client is unknown or the secret is wrong.";
  std::optional<store::PrincipalRecord> principal;
  if (credentials.client_id.size() <= kMaxClientIdSize) {
    Result<store::PrincipalRecord> found = store_.GetPrincipalByClientId(credentials.client_id);
    if (found.ok()) {
      principal = std::move(found).value();
    } else if (found.status().kind() != ErrorKind::kNotFound) {
      return OAuthError(500, "server_error", "The client could not be looked up.");
    }
  }
  bool secret_ok = false;
  if (credentials.client_secret.size() > kMaxClientSecretSize) {
    crypto::VerifySecret("", DummySecretHash());
  } else if (principal) {
    secret_ok = crypto::VerifySecret(credentials.client_secret, principal->secret_hash);
  } else {
    crypto::VerifySecret(credentials.client_secret, DummySecretHash());
  }
  if (!principal || !secret_ok) return OAuthError(401, "invalid_client", kBadClient);

  Identity who{principal->object_id, principal->client_id, principal->name};
  Result<IssuedToken> issued = tokens_.Issue(who, *scope);
  if (!issued.ok()) return FromIssueError(issued.status());
  json::object body;
  body["token_type"] = "Bearer";
  body["expires_in"] = issued->expires_in;
  body["ext_expires_in"] = issued->expires_in;
  body["access_token"] = issued->access_token;
  return {200, json::serialize(body)};
}

namespace {

// The OpenID Connect scopes a public client adds to its resource scope; they ask for the id and
// refresh tokens, which the user grants always return.
bool IsReservedScope(std::string_view scope) {
  return scope == "openid" || scope == "profile" || scope == "offline_access" || scope == "email";
}

// The one resource scope among space-separated scopes; empty if there is none or more than one.
std::string ResourceScopeOf(std::string_view scopes) {
  std::string found;
  size_t count = 0;
  while (!scopes.empty()) {
    size_t space = scopes.find(' ');
    std::string_view one = scopes.substr(0, space);
    scopes = space == std::string_view::npos ? std::string_view() : scopes.substr(space + 1);
    if (one.empty() || IsReservedScope(one)) continue;
    found = std::string(one);
    ++count;
  }
  return count == 1 && IsResourceScope(found) ? found : std::string();
}

constexpr size_t kMaxUpnSize = 256;
constexpr size_t kMinPasswordSize = 8;
constexpr size_t kMaxPasswordSize = 256;
constexpr size_t kMaxDisplayName = 256;
constexpr size_t kMaxRefreshTokenSize = 4096;

}  // namespace

EndpointResponse IdentityEndpoints::UserTokens(const store::UserRecord& user,
                                               std::string_view scope, std::string_view client_id,
                                               std::string_view authority_base) const {
  Identity who = UserIdentity(user, client_id);
  Result<IssuedToken> issued = tokens_.Issue(who, scope);
  if (!issued.ok()) return FromIssueError(issued.status());
  Result<std::string> refresh = tokens_.IssueRefreshToken(who, client_id);
  Result<std::string> id_token = tokens_.IssueIdToken(who, authority_base, client_id);
  if (!refresh.ok() || !id_token.ok()) {
    return OAuthError(500, "server_error", "The token could not be issued.");
  }
  json::object body;
  body["token_type"] = "Bearer";
  body["scope"] = scope;
  body["expires_in"] = issued->expires_in;
  body["ext_expires_in"] = issued->expires_in;
  body["access_token"] = issued->access_token;
  body["refresh_token"] = *refresh;
  body["refresh_token_expires_in"] = TokenAuthority::kRefreshLifetimeSeconds;
  body["id_token"] = *id_token;
  return {200, json::serialize(body)};
}

EndpointResponse IdentityEndpoints::PasswordToken(const FieldMap& form,
                                                  std::string_view served_resource,
                                                  std::string_view authority_base) const {
  std::optional<std::string_view> username = Field(form, "username");
  std::optional<std::string_view> password = Field(form, "password");
  std::optional<std::string_view> client_id = Field(form, "client_id");
  if (!username || username->empty() || !password || password->empty()) {
    return OAuthError(400, "invalid_request", "The username and password parameters are required.");
  }
  if (!client_id || client_id->empty() || client_id->size() > kMaxClientIdSize) {
    return OAuthError(400, "invalid_request", "The client_id parameter is required.");
  }
  std::optional<std::string_view> scopes = Field(form, "scope");
  if (!scopes || scopes->empty()) scopes = Field(form, "resource");
  const std::string scope = scopes ? ResourceScopeOf(*scopes) : std::string();
  if (scope.empty()) {
    const std::string example = served_resource.empty() ? std::string("https://localhost:PORT")
                                                        : std::string(served_resource);
    return OAuthError(400, "invalid_scope",
                      "The scope must name one resource, for example " + example +
                          "/.default (openid, profile and offline_access may be added).");
  }
  // Unknown user and wrong password give the same answer after the same amount of work.
  std::optional<store::UserRecord> user;
  if (username->size() <= kMaxUpnSize) {
    Result<store::UserRecord> found = store_.GetUserByUpn(*username);
    if (found.ok()) {
      user = std::move(found).value();
    } else if (found.status().kind() != ErrorKind::kNotFound) {
      return OAuthError(500, "server_error", "The user could not be looked up.");
    }
  }
  bool password_ok = false;
  if (password->size() > kMaxPasswordSize) {
    crypto::VerifySecret("", DummySecretHash());
  } else if (user) {
    password_ok = crypto::VerifySecret(*password, user->password_hash);
  } else {
    crypto::VerifySecret(*password, DummySecretHash());
  }
  if (!user || !password_ok) {
    return OAuthError(400, "invalid_grant",
                      "The user name or password is incorrect (or the user does not exist).");
  }
  return UserTokens(*user, scope, *client_id, authority_base);
}

EndpointResponse IdentityEndpoints::RefreshToken(const FieldMap& form,
                                                 std::string_view served_resource,
                                                 std::string_view authority_base) const {
  std::optional<std::string_view> refresh = Field(form, "refresh_token");
  std::optional<std::string_view> client_id = Field(form, "client_id");
  if (!refresh || refresh->empty() || refresh->size() > kMaxRefreshTokenSize) {
    return OAuthError(400, "invalid_request", "The refresh_token parameter is required.");
  }
  if (!client_id || client_id->empty()) {
    return OAuthError(400, "invalid_request", "The client_id parameter is required.");
  }
  std::optional<std::string_view> scopes = Field(form, "scope");
  if (!scopes || scopes->empty()) scopes = Field(form, "resource");
  const std::string scope = scopes ? ResourceScopeOf(*scopes) : std::string();
  if (scope.empty()) {
    const std::string example = served_resource.empty() ? std::string("https://localhost:PORT")
                                                        : std::string(served_resource);
    return OAuthError(400, "invalid_scope",
                      "The scope must name one resource, for example " + example + "/.default.");
  }
  constexpr std::string_view kBadGrant = "The refresh token is invalid or has expired.";
  Result<TokenClaims> claims = tokens_.VerifyRefreshToken(*refresh);
  // A refresh token is bound to the client it was issued to.
  if (!claims.ok() || claims->app_id != *client_id) {
    return OAuthError(400, "invalid_grant", kBadGrant);
  }
  Result<store::UserRecord> user = store_.GetUserByObjectId(claims->object_id);
  if (!user.ok()) {
    if (user.status().kind() == ErrorKind::kNotFound) {
      return OAuthError(400, "invalid_grant", kBadGrant);
    }
    return OAuthError(500, "server_error", "The user could not be looked up.");
  }
  // Signed in before the user was (re)created under this object id: not this user's token.
  if (claims->issued_at < user->created) return OAuthError(400, "invalid_grant", kBadGrant);
  return UserTokens(*user, scope, *client_id, authority_base);
}

EndpointResponse IdentityEndpoints::Subscriptions() const {
  const std::string& tenant = tokens_.tenant_id();
  json::object subscription;
  subscription["id"] = "/subscriptions/" + tenant;
  subscription["authorizationSource"] = "RoleBased";
  subscription["managedByTenants"] = json::array();
  subscription["subscriptionId"] = tenant;
  subscription["tenantId"] = tenant;
  subscription["displayName"] = "Coffre";
  subscription["state"] = "Enabled";
  subscription["subscriptionPolicies"] = json::object{{"locationPlacementId", "Public_2014-09-01"},
                                                      {"quotaId", "Coffre"},
                                                      {"spendingLimit", "Off"}};
  json::object body;
  body["value"] = json::array{std::move(subscription)};
  body["count"] = json::object{{"type", "Total"}, {"value", 1}};
  return {200, json::serialize(body)};
}

EndpointResponse IdentityEndpoints::Tenants() const {
  const std::string& tenant = tokens_.tenant_id();
  json::object entry;
  entry["id"] = "/tenants/" + tenant;
  entry["tenantId"] = tenant;
  entry["tenantCategory"] = "Home";
  entry["displayName"] = "Coffre";
  entry["domains"] = json::array{"localhost"};
  entry["defaultDomain"] = "localhost";
  entry["tenantType"] = "AAD";
  json::object body;
  body["value"] = json::array{std::move(entry)};
  body["count"] = json::object{{"type", "Total"}, {"value", 1}};
  return {200, json::serialize(body)};
}

Result<CreatedPrincipal> NewPrincipal(std::string_view name, const Clock& clock) {
  if (!IsValidPrincipalName(name)) {
    return Status::BadParameter(
        "The principal name must be 1 to 128 characters of letters, digits, space, '.', '_' "
        "or '-'.");
  }
  CreatedPrincipal created;
  created.record.name = std::string(name);
  created.record.client_id = crypto::RandomUuid();
  created.record.object_id = crypto::RandomUuid();
  SecureBytes random = crypto::RandomSecureBytes(kSecretBytes);
  created.secret = Base64UrlEncode(random);
  created.record.secret_hash = crypto::HashSecret(created.secret);
  created.record.created = clock.NowSeconds();
  return created;
}

bool IsValidUpn(std::string_view upn) {
  if (upn.empty() || upn.size() > kMaxUpnSize) return false;
  size_t at = upn.find('@');
  if (at == 0 || at == std::string_view::npos || upn.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view local = upn.substr(0, at);
  std::string_view domain = upn.substr(at + 1);
  if (domain.empty() || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos || local.front() == '.' || local.back() == '.') {
    return false;
  }
  auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  return std::all_of(local.begin(), local.end(),
                     [&](char c) {
                       return alnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '\'';
                     }) &&
         std::all_of(domain.begin(), domain.end(),
                     [&](char c) { return alnum(c) || c == '.' || c == '-'; });
}

Result<CreatedUser> NewUser(std::string_view upn, std::string_view display_name,
                            std::string password, const Clock& clock) {
  if (!IsValidUpn(upn)) {
    return Status::BadParameter(
        "The user principal name must look like name@domain (letters, digits, '.', '_', '-', "
        "'+', at most 256 characters).");
  }
  if (display_name.size() > kMaxDisplayName ||
      std::any_of(display_name.begin(), display_name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return Status::BadParameter("The display name must be at most 256 printable characters.");
  }
  CreatedUser created;
  if (password.empty()) {
    SecureBytes random = crypto::RandomSecureBytes(kSecretBytes);
    password = Base64UrlEncode(random);
  }
  if (password.size() < kMinPasswordSize || password.size() > kMaxPasswordSize) {
    SecureWipe(password.data(), password.size());
    return Status::BadParameter("The password must be 8 to 256 characters.");
  }
  created.record.upn = std::string(upn);
  created.record.object_id = crypto::RandomUuid();
  created.record.display_name =
      display_name.empty() ? std::string(upn.substr(0, upn.find('@'))) : std::string(display_name);
  created.record.password_hash = crypto::HashSecret(password);
  created.record.created = clock.NowSeconds();
  created.password = std::move(password);
  return created;
}

Identity UserIdentity(const store::UserRecord& user, std::string_view client_id) {
  return Identity{user.object_id, std::string(client_id), user.display_name, user.upn};
}

Result<CreatedPrincipal> CreatePrincipal(store::Store& store, std::string_view name,
                                         const Clock& clock) {
  COFFRE_ASSIGN_OR_RETURN(CreatedPrincipal created, NewPrincipal(name, clock));
  COFFRE_RETURN_IF_ERROR(store.AddPrincipal(created.record));
  return created;
}

}  // namespace coffre::auth
