#include "client/challenge.h"

#include <cctype>
#include <vector>

#include "client/encoding.h"
#include "client/url.h"

namespace coffre::_detail {
namespace {

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

void SkipSeparators(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) ++i;
}

using Params = std::vector<std::pair<std::string, std::string>>;

// Reads `key=value` pairs (value quoted or bare) from position i until the next auth scheme
// (a token not followed by '=') or the end.
Params ReadParams(std::string_view s, size_t& i) {
  Params params;
  while (true) {
    SkipSeparators(s, i);
    size_t start = i;
    while (i < s.size() && IsTokenChar(s[i])) ++i;
    std::string key(s.substr(start, i - start));
    size_t j = i;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (key.empty() || j >= s.size() || s[j] != '=') {
      i = start;  // a new scheme (or garbage) starts here
      return params;
    }
    i = j + 1;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value += s[i++];
      }
      if (i < s.size()) ++i;  // closing quote
    } else {
      while (i < s.size() && s[i] != ',' && s[i] != ' ' && s[i] != '\t') value += s[i++];
    }
    params.emplace_back(AsciiLower(key), std::move(value));
  }
}

std::string Param(const Params& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return v;
  }
  return {};
}

std::string HostOf(std::string_view url_or_host) {
  if (auto url = ParseUrl(url_or_host)) return url->host;
  return {};
}

}  // namespace

std::optional<Challenge> ParseChallenge(std::string_view header) {
  size_t i = 0;
  while (i < header.size()) {
    SkipSeparators(header, i);
    size_t start = i;
    while (i < header.size() && IsTokenChar(header[i])) ++i;
    if (i == start) return std::nullopt;  // not a scheme token: malformed
    std::string scheme(header.substr(start, i - start));
    Params params = ReadParams(header, i);
    if (!EqualsIgnoreCase(scheme, "bearer")) continue;

    Challenge c;
    c.authorization = Param(params, "authorization");
    if (c.authorization.empty()) c.authorization = Param(params, "authorization_uri");
    c.resource = Param(params, "resource");
    c.scope = Param(params, "scope");
    if (c.scope.empty() && !c.resource.empty()) {
      c.scope = c.resource;
      while (!c.scope.empty() && c.scope.back() == '/') c.scope.pop_back();
      c.scope += "/.default";
    }
    auto authority = ParseUrl(c.authorization);
    if (!authority || c.scope.empty()) return std::nullopt;
    std::string_view path = authority->path;
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    c.tenant_id = std::string(path.substr(0, path.find('/')));
    return c;
  }
  return std::nullopt;
}

bool ChallengeResourceMatches(std::string_view vault_url, std::string_view scope_or_resource) {
  auto vault = ParseUrl(vault_url);
  auto resource = ParseUrl(scope_or_resource);
  if (!vault || !resource || resource->host.empty()) return false;
  if (resource->explicit_port && resource->port != vault->port) return false;
  const std::string& host = vault->host;
  const std::string& domain = resource->host;
  if (host == domain) return true;
  return host.size() > domain.size() + 1 && host.ends_with(domain) &&
         host[host.size() - domain.size() - 1] == '.';
}

BearerChallengePolicy::BearerChallengePolicy(
    std::shared_ptr<const core::credentials::TokenCredential> credential, std::string vault_url,
    bool verify_resource)
    : credential_(std::move(credential)),
      vault_url_(std::move(vault_url)),
      verify_resource_(verify_resource) {}

std::optional<Challenge> BearerChallengePolicy::Accept(const RawResponse& response) const {
  auto header = response.GetHeader("www-authenticate");
  if (!header) return std::nullopt;
  auto challenge = ParseChallenge(header.Value());
  if (!challenge) return std::nullopt;
  if (verify_resource_ && !ChallengeResourceMatches(vault_url_, challenge->scope)) {
    throw core::credentials::AuthenticationException(
        "The challenge resource '" + HostOf(challenge->scope) +
        "' does not match the requested domain '" + HostOf(vault_url_) +
        "'. Set DisableChallengeResourceVerification in the client options to skip this check "
        "if the vault is trusted.");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  challenge_ = *challenge;
  return challenge;
}

void BearerChallengePolicy::Authorize(Request& request, const Challenge& challenge,
                                      const Context& context, bool force_refresh) const {
  core::credentials::TokenRequestContext token_context;
  token_context.Scopes = {challenge.scope};
  token_context.TenantId = challenge.tenant_id;
  // A token the service has just rejected must not come back from the cache: demanding more
  // remaining lifetime than any token has forces a fresh one.
  if (force_refresh) token_context.MinimumExpiration = std::chrono::hours(24 * 365 * 100);
  auto token = credential_->GetToken(token_context, context);
  request.SetHeader("Authorization", "Bearer " + token.Token);
}

std::unique_ptr<RawResponse> BearerChallengePolicy::Send(Request& request, const Context& context,
                                                         const NextStep& next) const {
  if (auto url = ParseUrl(request.GetUrl()); !url || url->scheme != "https") {
    throw core::credentials::AuthenticationException(
        "Bearer token authentication is not permitted for non-TLS protected (non-https) URLs.");
  }
  std::optional<Challenge> known;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    known = challenge_;
  }
  if (!known) {
    // The first request carries neither token nor body; the 401 tells us what token to get.
    // Built field by field rather than copied, so the body (which may hold a secret) is never
    // duplicated.
    Request probe(request.GetMethod(), request.GetUrl());
    for (const auto& [name, value] : request.GetHeaders()) probe.SetHeader(name, value);
    probe.RemoveHeader("Authorization");
    auto response = next(probe);
    if (response->GetStatusCode() != core::http::HttpStatusCode::Unauthorized) {
      // The server did not ask for authentication. A bodiless probe is not the request the
      // caller made, so send that one unless they are the same.
      if (request.GetBody().empty()) return response;
      return next(request);
    }
    auto challenge = Accept(*response);
    if (!challenge) return response;
    Authorize(request, *challenge, context, false);
    return next(request);
  }
  Authorize(request, *known, context, false);
  auto response = next(request);
  if (response->GetStatusCode() != core::http::HttpStatusCode::Unauthorized) return response;
  // Rejected token (expired, revoked, other audience): take the new challenge and retry once.
  auto challenge = Accept(*response);
  if (!challenge) return response;
  Authorize(request, *challenge, context, true);
  return next(request);
}

}  // namespace coffre::_detail
