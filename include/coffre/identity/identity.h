// Credentials for Key Vault clients (the Azure::Identity counterparts).
//
// - ClientSecretCredential: OAuth 2.0 client credentials against Entra ID or ADFS.
// - ManagedIdentityCredential: App Service managed identity (IDENTITY_ENDPOINT/IDENTITY_HEADER);
//   the cloud metadata service (IMDS) only when explicitly enabled.
// - EnvironmentCredential: a ClientSecretCredential from AZURE_TENANT_ID, AZURE_CLIENT_ID,
//   AZURE_CLIENT_SECRET and AZURE_AUTHORITY_HOST.
// - DefaultAzureCredential: environment, then managed identity.
// - ChainedTokenCredential: the first source that is available.
// - StaticTokenCredential: a fixed token (tests, tokens obtained elsewhere).
//
// Every credential caches tokens per scope and tenant and refreshes them before they expire.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coffre/core/credentials.h"

namespace coffre::identity {

// A credential cannot be used here at all (not configured), as opposed to failing to
// authenticate. ChainedTokenCredential moves on to its next source only on this exception.
class CredentialUnavailableException : public core::credentials::AuthenticationException {
 public:
  explicit CredentialUnavailableException(const std::string& what)
      : AuthenticationException(what) {}
};

namespace _detail {
class TokenCache;
}

struct ClientSecretCredentialOptions : core::credentials::TokenCredentialOptions {
  // https URL of the authority; default $AZURE_AUTHORITY_HOST, else
  // "https://login.microsoftonline.com/".
  std::string AuthorityHost;
  // Tenants a challenge may ask for besides the configured one ("*": any).
  std::vector<std::string> AdditionallyAllowedTenants;
};

// Token endpoint: AUTHORITY/adfs/oauth2/token for tenant "adfs", otherwise
// AUTHORITY/TENANT/oauth2/v2.0/token. Sends a form POST with grant_type=client_credentials.
class ClientSecretCredential final : public core::credentials::TokenCredential {
 public:
  ClientSecretCredential(std::string tenant_id, std::string client_id, std::string client_secret,
                         const ClientSecretCredentialOptions& options = {});
  ~ClientSecretCredential() override;

  core::credentials::AccessToken GetToken(
      const core::credentials::TokenRequestContext& token_request_context,
      const core::Context& context) const override;

  // The URL tokens are requested from for `tenant_id` (exposed for tests and diagnostics).
  std::string TokenEndpoint(const std::string& tenant_id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ManagedIdentityCredentialOptions : core::credentials::TokenCredentialOptions {
  // Client id of a user-assigned identity; empty: the system-assigned one.
  std::string ClientId;
  // Use the instance metadata service (169.254.169.254, or $AZURE_POD_IDENTITY_AUTHORITY_HOST)
  // when no App Service endpoint is configured. Off by default: the library never probes the
  // metadata address unless told to.
  bool EnableImds = false;
};

// App Service: GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=R with header
// X-IDENTITY-HEADER: $IDENTITY_HEADER. The environment is read when the credential is built.
class ManagedIdentityCredential final : public core::credentials::TokenCredential {
 public:
  explicit ManagedIdentityCredential(const ManagedIdentityCredentialOptions& options = {});
  explicit ManagedIdentityCredential(const std::string& client_id,
                                     const core::credentials::TokenCredentialOptions& options = {});
  ~ManagedIdentityCredential() override;

  core::credentials::AccessToken GetToken(
      const core::credentials::TokenRequestContext& token_request_context,
      const core::Context& context) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (and AZURE_AUTHORITY_HOST) when
// built; GetToken throws CredentialUnavailableException if any of the first three is missing.
class EnvironmentCredential final : public core::credentials::TokenCredential {
 public:
  explicit EnvironmentCredential(const core::credentials::TokenCredentialOptions& options = {});
  ~EnvironmentCredential() override;

  core::credentials::AccessToken GetToken(
      const core::credentials::TokenRequestContext& token_request_context,
      const core::Context& context) const override;

 private:
  std::unique_ptr<ClientSecretCredential> credential_;
};

// Tries its sources in order and sticks with the first one that returns a token. A source that
// throws CredentialUnavailableException is skipped; any other failure ends the attempt.
class ChainedTokenCredential : public core::credentials::TokenCredential {
 public:
  using Sources = std::vector<std::shared_ptr<const core::credentials::TokenCredential>>;
  explicit ChainedTokenCredential(Sources sources);
  ~ChainedTokenCredential() override;

  core::credentials::AccessToken GetToken(
      const core::credentials::TokenRequestContext& token_request_context,
      const core::Context& context) const override;

 protected:
  ChainedTokenCredential(std::string name, Sources sources);

 private:
  struct State;
  Sources sources_;
  std::unique_ptr<State> state_;
};

struct DefaultAzureCredentialOptions : core::credentials::TokenCredentialOptions {
  // Client id for a user-assigned managed identity; default $AZURE_CLIENT_ID.
  std::string ManagedIdentityClientId;
  // See ManagedIdentityCredentialOptions::EnableImds.
  bool EnableImds = false;
};

// EnvironmentCredential, then ManagedIdentityCredential.
class DefaultAzureCredential final : public ChainedTokenCredential {
 public:
  explicit DefaultAzureCredential(const DefaultAzureCredentialOptions& options = {});
  explicit DefaultAzureCredential(const core::credentials::TokenCredentialOptions& options);
};

// Always returns the same token; expires_on defaults to "never".
class StaticTokenCredential final : public core::credentials::TokenCredential {
 public:
  explicit StaticTokenCredential(std::string token, DateTime expires_on = DateTime::max());

  core::credentials::AccessToken GetToken(
      const core::credentials::TokenRequestContext& token_request_context,
      const core::Context& context) const override;

 private:
  core::credentials::AccessToken token_;
};

}  // namespace coffre::identity
