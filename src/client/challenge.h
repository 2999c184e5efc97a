// Key Vault's authentication challenge.
//
// A vault answers an unauthenticated request with
//   401, WWW-Authenticate: Bearer authorization="https://login.../TENANT", resource="R"
// (or authorization_uri= and/or scope=). The client derives the token scope (scope, else
// R + "/.default") and the tenant, checks that R belongs to the vault's domain, gets a token and
// sends the request again.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "client/pipeline.h"
#include "coffre/core/credentials.h"

namespace coffre::_detail {

struct Challenge {
  std::string authorization;  // authorization or authorization_uri
  std::string tenant_id;      // first path segment of `authorization`
  std::string resource;       // resource, if given
  std::string scope;          // scope, else resource + "/.default"
};

// Parses the Bearer challenge of a WWW-Authenticate value; nullopt when there is none or it
// lacks an authorization URI or a scope/resource.
std::optional<Challenge> ParseChallenge(std::string_view header);

// True if the host of `scope_or_resource` equals the vault host or is a parent domain of it
// ("https://vault.azure.net" for "myvault.vault.azure.net"); when the resource names a port, the
// vault's port must match.
bool ChallengeResourceMatches(std::string_view vault_url, std::string_view scope_or_resource);

class BearerChallengePolicy final : public AuthPolicy {
 public:
  BearerChallengePolicy(std::shared_ptr<const core::credentials::TokenCredential> credential,
                        std::string vault_url, bool verify_resource);

  std::unique_ptr<RawResponse> Send(Request& request, const Context& context,
                                    const NextStep& next) const override;

 private:
  // Parses and checks a 401's challenge; stores it. nullopt: no usable challenge.
  std::optional<Challenge> Accept(const RawResponse& response) const;
  void Authorize(Request& request, const Challenge& challenge, const Context& context,
                 bool force_refresh) const;

  std::shared_ptr<const core::credentials::TokenCredential> credential_;
  std::string vault_url_;
  bool verify_resource_;
  mutable std::mutex mutex_;
  mutable std::optional<Challenge> challenge_;
};

}  // namespace coffre::_detail
