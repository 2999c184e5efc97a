// Credentials: client secret (Entra ID / ADFS), managed identity, environment, chains, static.
#include "coffre/identity/identity.h"

#include <cstdlib>
#include <mutex>

#include "client/encoding.h"
#include "client/json_util.h"
#include "client/pipeline.h"
#include "client/token_cache.h"
#include "client/url.h"
#include "coffre/core/exception.h"

namespace coffre::identity {
namespace {

using core::credentials::AccessToken;
using core::credentials::AuthenticationException;
using core::credentials::TokenRequestContext;
using core::http::HttpMethod;
using core::http::HttpStatusCode;
using core::http::RawResponse;
using core::http::Request;

constexpr const char* kDefaultAuthorityHost = "https://login.microsoftonline.com/";
// The cloud metadata service; contacted only when a caller enables IMDS explicitly.
constexpr const char* kImdsHost = "http://169.254.169.254";

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

std::string WithoutTrailingSlashes(std::string text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

// "https://vault.azure.net/.default" -> "https://vault.azure.net" (managed identity speaks
// resources, not scopes).
std::string ResourceFromScope(const std::string& scope) {
  constexpr std::string_view kSuffix = "/.default";
  if (scope.size() > kSuffix.size() && scope.ends_with(kSuffix)) {
    return scope.substr(0, scope.size() - kSuffix.size());
  }
  return scope;
}

std::string ErrorDetail(const RawResponse& response) {
  auto error = coffre::_detail::ParseErrorBody(response.GetBodyAsString());
  std::string text = "HTTP " + std::to_string(static_cast<int>(response.GetStatusCode()));
  if (!error.code.empty()) text += " " + error.code;
  if (!error.message.empty()) text += ": " + error.message;
  return text;
}

// Reads access_token and its expiry (expires_on: seconds since the epoch; else expires_in:
// seconds from now) from a token endpoint's JSON answer.
AccessToken ParseTokenResponse(const RawResponse& response, const std::string& who) {
  auto body = coffre::_detail::ParseObject(response.GetBodyAsString());
  if (!body) throw AuthenticationException(who + ": the token endpoint returned no JSON object.");
  auto token = coffre::_detail::GetString(*body, "access_token");
  if (!token || token->empty()) {
    throw AuthenticationException(who + ": the token endpoint's answer has no access_token.");
  }
  AccessToken out;
  out.Token = std::move(*token);
  if (auto expires_on = coffre::_detail::GetInt(*body, "expires_on")) {
    out.ExpiresOn = DateTime::FromUnixSeconds(*expires_on);
  } else if (auto expires_in = coffre::_detail::GetInt(*body, "expires_in")) {
    out.ExpiresOn = std::chrono::system_clock::now() + std::chrono::seconds(*expires_in);
  } else {
    throw AuthenticationException(who + ": the token endpoint's answer has no expiry.");
  }
  return out;
}

const std::string& SingleScope(const TokenRequestContext& context, const std::string& who) {
  if (context.Scopes.size() != 1 || context.Scopes.front().empty()) {
    throw AuthenticationException(who + ": exactly one scope is required.");
  }
  return context.Scopes.front();
}

}  // namespace

// ---- ClientSecretCredential ----------------------------------------------------------------

struct ClientSecretCredential::Impl {
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;
  std::string authority;  // without trailing '/'
  std::vector<std::string> allowed_tenants;
  coffre::_detail::HttpPipeline pipeline;
  mutable _detail::TokenCache cache;

  explicit Impl(const ClientSecretCredentialOptions& options) : pipeline(options) {}

  std::string ResolveTenant(const std::string& requested) const {
    if (requested.empty() || coffre::_detail::EqualsIgnoreCase(requested, tenant_id) ||
        coffre::_detail::EqualsIgnoreCase(tenant_id, "adfs")) {
      return tenant_id;  // ADFS has a single tenant whatever a challenge names
    }
    for (const auto& allowed : allowed_tenants) {
      if (allowed == "*" || coffre::_detail::EqualsIgnoreCase(allowed, requested)) {
        return requested;
      }
    }
    throw AuthenticationException(
        "ClientSecretCredential: the service asked for tenant '" + requested +
        "', which is not the configured tenant nor in AdditionallyAllowedTenants.");
  }
};

ClientSecretCredential::ClientSecretCredential(std::string tenant_id, std::string client_id,
                                               std::string client_secret,
                                               const ClientSecretCredentialOptions& options)
    : TokenCredential("ClientSecretCredential"), impl_(std::make_unique<Impl>(options)) {
  impl_->tenant_id = std::move(tenant_id);
  impl_->client_id = std::move(client_id);
  impl_->client_secret = std::move(client_secret);
  std::string authority = options.AuthorityHost;
  if (authority.empty()) authority = Env("AZURE_AUTHORITY_HOST");
  if (authority.empty()) authority = kDefaultAuthorityHost;
  impl_->authority = WithoutTrailingSlashes(authority);
  impl_->allowed_tenants = options.AdditionallyAllowedTenants;
}

ClientSecretCredential::~ClientSecretCredential() = default;

std::string ClientSecretCredential::TokenEndpoint(const std::string& tenant_id) const {
  if (coffre::_detail::EqualsIgnoreCase(tenant_id, "adfs")) {
    return impl_->authority + "/adfs/oauth2/token";
  }
  return impl_->authority + "/" + coffre::_detail::PercentEncode(tenant_id) + "/oauth2/v2.0/token";
}

AccessToken ClientSecretCredential::GetToken(const TokenRequestContext& token_request_context,
                                             const core::Context& context) const {
  const std::string who = GetCredentialName();
  if (token_request_context.Scopes.empty()) throw AuthenticationException(who + ": no scope.");
  if (impl_->tenant_id.empty() || impl_->client_id.empty() || impl_->client_secret.empty()) {
    throw AuthenticationException(who + ": tenant id, client id and secret are required.");
  }
  auto authority = coffre::_detail::ParseUrl(impl_->authority);
  if (!authority || authority->scheme != "https") {
    // The secret must never travel in clear text.
    throw AuthenticationException(who + ": the authority host must be an https URL.");
  }
  std::string tenant = impl_->ResolveTenant(token_request_context.TenantId);
  return impl_->cache.Get(token_request_context, tenant, [&] {
    std::string scopes;
    for (const auto& scope : token_request_context.Scopes) {
      if (!scopes.empty()) scopes += ' ';
      scopes += scope;
    }
    std::string form =
        "grant_type=client_credentials&client_id=" + coffre::_detail::FormEncode(impl_->client_id) +
        "&client_secret=" + coffre::_detail::FormEncode(impl_->client_secret) +
        "&scope=" + coffre::_detail::FormEncode(scopes);
    Request request(HttpMethod::Post, TokenEndpoint(tenant), std::move(form));
    request.SetHeader("Content-Type", "application/x-www-form-urlencoded");
    std::unique_ptr<RawResponse> response;
    try {
      response = impl_->pipeline.Send(request, context);
    } catch (const core::http::TransportException& e) {
      throw AuthenticationException(who + ": " + e.what());
    }
    if (response->GetStatusCode() != HttpStatusCode::Ok) {
      throw AuthenticationException(who + " authentication failed: " + ErrorDetail(*response));
    }
    return ParseTokenResponse(*response, who);
  });
}

// ---- ManagedIdentityCredential -------------------------------------------------------------

struct ManagedIdentityCredential::Impl {
  enum class Source { kNone, kAppService, kImds };
  Source source = Source::kNone;
  std::string endpoint;
  std::string secret;
  std::string client_id;
  std::string unavailable_reason;
  coffre::_detail::HttpPipeline pipeline;
  mutable _detail::TokenCache cache;

  explicit Impl(const ManagedIdentityCredentialOptions& options)
      : pipeline(WithProbeLimits(options)) {
    client_id = options.ClientId;
    std::string identity_endpoint = Env("IDENTITY_ENDPOINT");
    std::string identity_header = Env("IDENTITY_HEADER");
    if (!identity_endpoint.empty() && !identity_header.empty()) {
      if (!Env("IDENTITY_SERVER_THUMBPRINT").empty()) {
        unavailable_reason = "Service Fabric managed identity is not supported.";
      } else if (!coffre::_detail::ParseUrl(identity_endpoint)) {
        unavailable_reason = "IDENTITY_ENDPOINT is not a valid http(s) URL.";
      } else {
        source = Source::kAppService;
        endpoint = identity_endpoint;
        secret = identity_header;
      }
      return;
    }
    if (options.EnableImds) {
      std::string host = Env("AZURE_POD_IDENTITY_AUTHORITY_HOST");
      if (host.empty()) host = kImdsHost;
      source = Source::kImds;
      endpoint = WithoutTrailingSlashes(host) + "/metadata/identity/oauth2/token";
      return;
    }
    unavailable_reason =
        "no managed identity endpoint is configured (IDENTITY_ENDPOINT and IDENTITY_HEADER are "
        "not set, and the instance metadata service is not enabled).";
  }

  // IMDS may not exist at all where it is enabled: fail fast instead of retrying for minutes.
  static core::ClientOptions WithProbeLimits(const ManagedIdentityCredentialOptions& options) {
    core::ClientOptions copy = options;
    if (options.EnableImds && Env("IDENTITY_ENDPOINT").empty()) {
      copy.Transport.ConnectionTimeout =
          std::min(copy.Transport.ConnectionTimeout, std::chrono::milliseconds(2000));
    }
    return copy;
  }
};

ManagedIdentityCredential::ManagedIdentityCredential(
    const ManagedIdentityCredentialOptions& options)
    : TokenCredential("ManagedIdentityCredential"), impl_(std::make_unique<Impl>(options)) {}

ManagedIdentityCredential::ManagedIdentityCredential(
    const std::string& client_id, const core::credentials::TokenCredentialOptions& options)
    : TokenCredential("ManagedIdentityCredential") {
  ManagedIdentityCredentialOptions full;
  static_cast<core::credentials::TokenCredentialOptions&>(full) = options;
  full.ClientId = client_id;
  impl_ = std::make_unique<Impl>(full);
}

ManagedIdentityCredential::~ManagedIdentityCredential() = default;

AccessToken ManagedIdentityCredential::GetToken(const TokenRequestContext& token_request_context,
                                                const core::Context& context) const {
  const std::string who = GetCredentialName();
  if (impl_->source == Impl::Source::kNone) {
    throw CredentialUnavailableException(who + ": " + impl_->unavailable_reason);
  }
  std::string resource = ResourceFromScope(SingleScope(token_request_context, who));
  return impl_->cache.Get(token_request_context, "", [&] {
    bool app_service = impl_->source == Impl::Source::kAppService;
    std::string url = impl_->endpoint;
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += app_service ? "api-version=2019-08-01" : "api-version=2018-02-01";
    url += "&resource=" + coffre::_detail::PercentEncode(resource);
    if (!impl_->client_id.empty()) {
      url += "&client_id=" + coffre::_detail::PercentEncode(impl_->client_id);
    }
    Request request(HttpMethod::Get, url);
    if (app_service) {
      request.SetHeader("X-IDENTITY-HEADER", impl_->secret);
    } else {
      request.SetHeader("Metadata", "true");
    }
    std::unique_ptr<RawResponse> response;
    try {
      response = impl_->pipeline.Send(request, context);
    } catch (const core::http::TransportException& e) {
      if (!app_service) throw CredentialUnavailableException(who + ": IMDS is unreachable.");
      throw AuthenticationException(who + ": " + e.what());
    }
    if (response->GetStatusCode() != HttpStatusCode::Ok) {
      throw AuthenticationException(who + " authentication failed: " + ErrorDetail(*response));
    }
    return ParseTokenResponse(*response, who);
  });
}

// ---- EnvironmentCredential -----------------------------------------------------------------

EnvironmentCredential::EnvironmentCredential(
    const core::credentials::TokenCredentialOptions& options)
    : TokenCredential("EnvironmentCredential") {
  std::string tenant = Env("AZURE_TENANT_ID");
  std::string client = Env("AZURE_CLIENT_ID");
  std::string secret = Env("AZURE_CLIENT_SECRET");
  if (tenant.empty() || client.empty() || secret.empty()) return;
  ClientSecretCredentialOptions secret_options;
  static_cast<core::credentials::TokenCredentialOptions&>(secret_options) = options;
  secret_options.AuthorityHost = Env("AZURE_AUTHORITY_HOST");
  credential_ = std::make_unique<ClientSecretCredential>(tenant, client, secret, secret_options);
}

EnvironmentCredential::~EnvironmentCredential() = default;

AccessToken EnvironmentCredential::GetToken(const TokenRequestContext& token_request_context,
                                            const core::Context& context) const {
  if (!credential_) {
    throw CredentialUnavailableException(
        "EnvironmentCredential: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are not "
        "all set.");
  }
  return credential_->GetToken(token_request_context, context);
}

// ---- ChainedTokenCredential / DefaultAzureCredential ----------------------------------------

struct ChainedTokenCredential::State {
  std::mutex mutex;
  const TokenCredential* selected = nullptr;
};

ChainedTokenCredential::ChainedTokenCredential(Sources sources)
    : ChainedTokenCredential("ChainedTokenCredential", std::move(sources)) {}

ChainedTokenCredential::ChainedTokenCredential(std::string name, Sources sources)
    : TokenCredential(std::move(name)),
      sources_(std::move(sources)),
      state_(std::make_unique<State>()) {}

ChainedTokenCredential::~ChainedTokenCredential() = default;

AccessToken ChainedTokenCredential::GetToken(const TokenRequestContext& token_request_context,
                                             const core::Context& context) const {
  const TokenCredential* selected = nullptr;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    selected = state_->selected;
  }
  if (selected != nullptr) return selected->GetToken(token_request_context, context);

  std::string reasons;
  for (const auto& source : sources_) {
    if (!source) continue;
    try {
      AccessToken token = source->GetToken(token_request_context, context);
      std::lock_guard<std::mutex> lock(state_->mutex);
      state_->selected = source.get();
      return token;
    } catch (const CredentialUnavailableException& e) {
      reasons += std::string("\n  ") + e.what();
    } catch (const AuthenticationException& e) {
      // A configured source failed: report it rather than silently trying the next one.
      throw AuthenticationException(GetCredentialName() + ": " + e.what());
    }
  }
  throw CredentialUnavailableException(GetCredentialName() +
                                       ": no credential in the chain is available:" + reasons);
}

namespace {

ChainedTokenCredential::Sources DefaultSources(const DefaultAzureCredentialOptions& options) {
  ManagedIdentityCredentialOptions managed;
  static_cast<core::credentials::TokenCredentialOptions&>(managed) = options;
  managed.ClientId = options.ManagedIdentityClientId.empty() ? Env("AZURE_CLIENT_ID")
                                                             : options.ManagedIdentityClientId;
  managed.EnableImds = options.EnableImds;
  return {std::make_shared<EnvironmentCredential>(options),
          std::make_shared<ManagedIdentityCredential>(managed)};
}

DefaultAzureCredentialOptions FromBase(const core::credentials::TokenCredentialOptions& base) {
  DefaultAzureCredentialOptions options;
  static_cast<core::credentials::TokenCredentialOptions&>(options) = base;
  return options;
}

}  // namespace

DefaultAzureCredential::DefaultAzureCredential(const DefaultAzureCredentialOptions& options)
    : ChainedTokenCredential("DefaultAzureCredential", DefaultSources(options)) {}

DefaultAzureCredential::DefaultAzureCredential(
    const core::credentials::TokenCredentialOptions& options)
    : DefaultAzureCredential(FromBase(options)) {}

// ---- StaticTokenCredential -----------------------------------------------------------------

StaticTokenCredential::StaticTokenCredential(std::string token, DateTime expires_on)
    : TokenCredential("StaticTokenCredential"), token_{std::move(token), expires_on} {}

AccessToken StaticTokenCredential::GetToken(const TokenRequestContext&,
                                            const core::Context&) const {
  return token_;
}

}  // namespace coffre::identity
