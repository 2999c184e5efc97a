// The Azure Resource Manager (ARM) surface the Azure CLI's vault commands use, on the HTTPS
// listener beside the data plane (`--arm`, on in `--dev`):
//
//   /subscriptions/{sub}                                        GET (the one subscription)
//   /subscriptions/{sub}/resourcegroups[/{rg}]                  GET list; PUT GET HEAD DELETE
//   .../resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults[/{v}]
//                                                               GET list; PUT GET PATCH DELETE
//   .../vaults/{v}/accessPolicies/{add|replace|remove}          PUT
//   /subscriptions/{sub}/providers/Microsoft.KeyVault/vaults    GET (all groups)
//   /subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability   POST
//   /subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults           GET
//   /subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{l}/deletedVaults/{v}[/purge]
//                                                               GET; POST
//   /subscriptions/{sub}/resources?$filter=resourceType eq 'Microsoft.KeyVault/vaults'  GET
//   {scope}/providers/Microsoft.Authorization/roleDefinitions|roleAssignments (az role ...)
//   /subscriptions/{sub}/operationresults/{id}, .../operationStatuses/{id}  (long-running ops)
//
// Every change goes through the vault administration service (service::VaultAdmin,
// service::ResourceGroups): the admin API's rules, with ARM's JSON and error shapes
// ({"error":{"code","message"}} with ARM codes). Callers: the admin token, or a token of a
// principal or user holding Owner, Contributor or Key Vault Contributor at the server ("/", the
// subscription), the resource group, or (for one vault's operations) the vault.
//
// Also the few Microsoft Graph lookups az makes to turn a UPN, SPN or the signed-in user into an
// object id (/v1.0/me, /v1.0/users/{upn}, /v1.0/servicePrincipals?$filter=...), answered from
// Coffre's users and principals.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/admin_token.h"
#include "auth/token_authority.h"
#include "coffre/status.h"
#include "http/api_request.h"
#include "http/request_target.h"
#include "service/resource_groups.h"
#include "service/vault_admin.h"

namespace coffre::http {

// The outcomes of recent long-running operations (resource group deletes), by id, for the
// polling endpoints. Bounded: the oldest are forgotten first.
class ArmOperations {
 public:
  static constexpr size_t kMaxKept = 1024;
  // Records a finished operation and returns its id.
  std::string Record(Status outcome);
  // nullopt for an unknown (or forgotten) id.
  std::optional<Status> Find(std::string_view id) const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::pair<std::string, Status>> done_;
};

struct ArmContext {
  service::VaultAdmin& vaults;
  service::ResourceGroups& groups;
  const auth::TokenAuthority& tokens;
  const auth::AdminToken* admin_token = nullptr;  // null: not accepted here
  ArmOperations& operations;
};

// Whether a path is the ARM surface's (first segment "subscriptions" with a subscription id
// after it) or Graph's (first segment "v1.0").
bool IsArmPath(const std::vector<std::string>& segments);
bool IsGraphPath(const std::vector<std::string>& segments);

ApiResponse HandleArmRequest(const ArmContext& context, const ApiRequest& request,
                             const RequestTarget& target);
ApiResponse HandleGraphRequest(const ArmContext& context, const ApiRequest& request,
                               const RequestTarget& target);

// Whether an ARM api-version is one served (2019-09-01 through 2023-07-01, "-preview" allowed).
bool IsSupportedArmApiVersion(std::string_view version);

}  // namespace coffre::http
