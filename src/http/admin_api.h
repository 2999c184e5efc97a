// The admin API: vaults, access policies, role assignments and principals, under
// /coffre-admin/v1/... on the HTTPS listener (no Key Vault route starts with that segment).
// Callers present the admin token as a bearer token; data-plane tokens are not accepted here,
// and the admin token is not accepted on the data plane.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "auth/access_checker.h"
#include "auth/admin_token.h"
#include "auth/token_authority.h"
#include "common/clock.h"
#include "http/api_request.h"
#include "http/request_target.h"
#include "service/vault_directory.h"
#include "store/store.h"

namespace coffre::http {

inline constexpr std::string_view kAdminPathSegment = "coffre-admin";

struct AdminContext {
  store::Store& store;
  service::VaultDirectory& vaults;
  const auth::AdminToken& admin_token;
  const auth::TokenAuthority& tokens;
  const auth::AccessChecker& access;
  const Clock& clock;
  // Runs after a vault is created (in --dev: cover NAME.localhost in the TLS certificate and
  // give the dev identity full rights). May be empty.
  std::function<Status(const store::VaultRecord&)> on_vault_created;
};

// Answers any request whose first path segment is kAdminPathSegment.
ApiResponse HandleAdminRequest(const AdminContext& context, const ApiRequest& request,
                               const RequestTarget& target);

}  // namespace coffre::http
