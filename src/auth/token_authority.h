// TokenAuthority: issues and checks the server's access tokens (JWT, ES256).
//
// The signing key is generated once and kept in the data dir. Every data-plane request's bearer
// token is checked here: signature, issuer, nbf/exp (with a small clock skew) and audience.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "common/clock.h"
#include "common/lru_cache.h"
#include "crypto/asymmetric_key.h"

namespace coffre::auth {

// Who a token speaks for.
struct Identity {
  std::string object_id;  // oid and sub
  std::string app_id;     // appid (client id)
  std::string name;       // display name (in tokens for users only)
  std::string upn = {};   // a user's principal name (upn, unique_name); empty for applications
};

struct TokenClaims {
  std::string issuer;
  std::string audience;
  std::string object_id;
  std::string subject;
  std::string tenant_id;
  std::string app_id;
  std::string upn = {};  // users only
  // Empty for access tokens; "refresh" for refresh tokens (never accepted as access tokens).
  std::string use = {};
  int64_t issued_at = 0;
  std::optional<int64_t> not_before;
  int64_t expires = 0;
};

struct IssuedToken {
  std::string access_token;
  int64_t expires_on = 0;  // unix seconds
  int64_t expires_in = 0;  // seconds from now
};

class TokenAuthority {
 public:
  static constexpr int64_t kTokenLifetimeSeconds = 3600;
  static constexpr int64_t kClockSkewSeconds = 300;
  static constexpr size_t kMaxTokenSize = 16 * 1024;

  // Loads the P-256 signing key (PKCS#8 PEM) from key_path, creating it with mode 0600 if
  // absent. tenant_id goes into tid and the issuer.
  static Result<std::unique_ptr<TokenAuthority>> Open(const std::string& key_path,
                                                      std::string tenant_id, const Clock& clock);
  TokenAuthority(crypto::AsymmetricKey signing_key, std::string tenant_id, const Clock& clock);

  const std::string& tenant_id() const { return tenant_id_; }
  // "https://sts.coffre.local/<tenant>/"
  const std::string& issuer() const { return issuer_; }
  // The JWS "kid" of issued tokens and the public half of the signing key (for the JWKS document).
  const std::string& key_id() const { return key_id_; }
  crypto::PublicKeyParams public_key() const { return signing_key_.PublicParams(); }

  // audience: a resource ("https://localhost:8443") or a scope ("https://localhost:8443/.default");
  // a trailing "/.default" is removed. Must be non-empty and at most 1 KiB.
  Result<IssuedToken> Issue(const Identity& who, std::string_view audience) const;

  // For the password and refresh-token grants: an OpenID Connect id token (iss = the sign-in
  // authority `issuer`, aud = the client) and a refresh token (only VerifyRefreshToken accepts
  // it; lives kRefreshLifetimeSeconds).
  static constexpr int64_t kRefreshLifetimeSeconds = 14 * 86400;
  Result<std::string> IssueIdToken(const Identity& who, std::string_view issuer,
                                   std::string_view client_id) const;
  Result<std::string> IssueRefreshToken(const Identity& who, std::string_view client_id) const;
  // Signature, issuer, time window and kind; the claims name the user (oid, upn) and client.
  Result<TokenClaims> VerifyRefreshToken(std::string_view token) const;

  // Checks a token for a request whose expected audience is `audience`. Failures are
  // Status::Unauthorized with an AKV-style message ("AKV10022: Invalid audience. ...") that never
  // echoes the token.
  Result<TokenClaims> Verify(std::string_view token, std::string_view audience) const;
  // The same, for a request that accepts any of `audiences` (the first is the one errors name).
  Result<TokenClaims> Verify(std::string_view token, std::span<const std::string> audiences) const;

 private:
  // The claims of a token whose structure and signature are valid; nothing time-dependent.
  Result<TokenClaims> ParseSignedToken(std::string_view token) const;
  // Issuer, tenant, time window and audience.
  Status CheckClaims(const TokenClaims& claims, std::span<const std::string> audiences) const;

  crypto::AsymmetricKey signing_key_;
  std::string key_id_;
  std::string tenant_id_;
  std::string issuer_;
  const Clock& clock_;
  // Claims of tokens that passed ParseSignedToken, by the token's SHA-256.
  mutable LruCache<TokenClaims> verified_{4096};
};

// The audience a token must carry for a vault host ("dev.localhost:8443" -> the resource
// "https://localhost:8443"; "dev.vault.azure.net" -> "https://vault.azure.net"): the host
// minus its first label, port kept. A host with a single label maps to itself.
std::string ResourceForHost(std::string_view host_and_port);
// The audiences a token may carry for a vault host: ResourceForHost, then, when the host has a
// port, the same resource without it. The Azure SDK for C++ asks its first token for the
// port-less one ("https://localhost/.default" for dev.localhost:8443).
std::vector<std::string> AudiencesForHost(std::string_view host_and_port);
// Removes a trailing "/.default" (and one trailing '/').
std::string AudienceFromScope(std::string_view scope_or_resource);

}  // namespace coffre::auth
