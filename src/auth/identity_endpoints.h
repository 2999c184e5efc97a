// The identity endpoints clients sign in with, transport-neutral: the HTTP layer passes in
// the query/form fields and headers and sends back what these return.
//
// - Managed identity, App Service style (GET /msi/token, header X-IDENTITY-HEADER; or the
//   2017-09-01 variant with header secret, which the Azure CLI uses).
// - Client credentials, ADFS style (GET /adfs/.well-known/openid-configuration,
//   POST /adfs/oauth2/token), for EnvironmentCredential with AZURE_TENANT_ID=adfs.
// - What the Azure CLI lists after signing in: GET /subscriptions, GET /tenants.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "auth/token_authority.h"
#include "coffre/status.h"
#include "store/store.h"

namespace coffre::auth {

// An HTTP-shaped answer: status code and a JSON body.
struct EndpointResponse {
  int status = 200;
  std::string body;  // JSON
};

using FieldMap = std::map<std::string, std::string, std::less<>>;  // decoded names and values

class IdentityEndpoints {
 public:
  // identity_header: the secret callers of the managed-identity endpoint must present.
  // dev_identity: who the managed-identity endpoint issues tokens for (empty object_id: the
  // endpoint is off and answers 404).
  IdentityEndpoints(const TokenAuthority& tokens, store::Store& store, std::string identity_header,
                    Identity dev_identity);

  // GET /msi/token?api-version=2019-08-01&resource=R[&client_id=...]
  // 200 {"access_token","expires_on":"<unix seconds>","resource","token_type":"Bearer","client_id"}
  // Missing/wrong header -> 401; missing resource or api-version -> 400.
  // The App Service 2017-09-01 variant (MSI_ENDPOINT/MSI_SECRET, what the Azure CLI knows):
  // api-version=2017-09-01, the secret in a "secret" header (the caller passes that header's
  // value), user-assigned selector "clientid", expires_on as "MM/DD/YYYY hh:mm:ss +00:00".
  EndpointResponse ManagedIdentityToken(const FieldMap& query,
                                        std::string_view identity_header_value) const;
  static constexpr std::string_view kAppService2017 = "2017-09-01";

  // GET /adfs/.well-known/openid-configuration; authority_base is "https://host:port/adfs".
  EndpointResponse OpenIdConfiguration(std::string_view authority_base) const;

  // POST /adfs/oauth2/token with form fields: grant_type=client_credentials, client_id,
  // client_secret, scope=<resource>/.default (or scope=<resource>, or ADFS v1 resource=<resource>).
  // 200 {"token_type":"Bearer","expires_in":N,"ext_expires_in":N,"access_token":...};
  // OAuth errors: 400 unsupported_grant_type / invalid_request / invalid_scope,
  // 401 invalid_client (unknown client or wrong secret, same answer for both).
  // Client authentication may instead come as HTTP Basic (RFC 6749 2.3.1, the method OAuth
  // servers must support): pass the request's Authorization header value, or empty.
  // served_resource: this server's resource ("https://localhost:PORT"), the example errors give.
  EndpointResponse ClientCredentialsToken(const FieldMap& form,
                                          std::string_view authorization_header = {},
                                          std::string_view served_resource = {}) const;

  // GET /adfs/discovery/keys (the jwks_uri): {"keys":[<the token signing key as a JWK>]}.
  EndpointResponse SigningKeys() const;

  // Azure Resource Manager's GET /subscriptions and GET /tenants, which the Azure CLI lists
  // right after signing in: one subscription per tenant, its id the tenant id.
  EndpointResponse Subscriptions() const;
  EndpointResponse Tenants() const;

 private:
  const TokenAuthority& tokens_;
  store::Store& store_;
  std::string identity_header_;
  Identity dev_identity_;
};

// A new principal: a fresh client id, object id and secret; the record holds only a slow hash
// of the secret. The secret is shown once.
struct CreatedPrincipal {
  store::PrincipalRecord record;
  std::string secret;
};
// Makes one (nothing is stored); kBadRequest for an invalid name.
Result<CreatedPrincipal> NewPrincipal(std::string_view name, const Clock& clock);
// Makes one and stores it.
Result<CreatedPrincipal> CreatePrincipal(store::Store& store, std::string_view name,
                                         const Clock& clock);

}  // namespace coffre::auth
