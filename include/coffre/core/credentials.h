// Token credentials: what clients use to get bearer tokens (Azure::Core::Credentials' role).
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "coffre/core/client_options.h"
#include "coffre/core/context.h"
#include "coffre/core/datetime.h"

namespace coffre::core::credentials {

struct AccessToken {
  std::string Token;
  DateTime ExpiresOn;
};

struct TokenRequestContext {
  // Usually one scope, e.g. "https://vault.azure.net/.default".
  std::vector<std::string> Scopes;
  // Tenant named by a service challenge; empty: the credential's own tenant.
  std::string TenantId;
  // A cached token is reused only while it stays valid at least this long; otherwise a new one
  // is fetched, so tokens are refreshed this long before they expire.
  DateTime::duration MinimumExpiration = std::chrono::minutes(5);
};

// Getting a token failed (bad secret, unreachable or misbehaving identity endpoint, ...).
class AuthenticationException : public std::runtime_error {
 public:
  explicit AuthenticationException(const std::string& what) : std::runtime_error(what) {}
};

// Implementations must be thread-safe: clients call GetToken from any thread.
class TokenCredential {
 public:
  virtual ~TokenCredential() = default;
  virtual AccessToken GetToken(const TokenRequestContext& token_request_context,
                               const Context& context) const = 0;
  const std::string& GetCredentialName() const { return name_; }

 protected:
  explicit TokenCredential(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

struct TokenCredentialOptions : ClientOptions {};

}  // namespace coffre::core::credentials
