// The admin API: vaults, access policies, role assignments and principals, under
// /coffre-admin/v1/... on the HTTPS listener (no Key Vault route starts with that segment).
// Callers present the admin token as a bearer token; data-plane tokens are not accepted here,
// and the admin token is not accepted on the data plane.
#pragma once

#include <string_view>

#include "audit/audit_query.h"
#include "auth/admin_token.h"
#include "auth/token_authority.h"
#include "common/clock.h"
#include "http/api_request.h"
#include "http/request_target.h"
#include "service/vault_admin.h"

namespace coffre::http {
struct TestHarness;
}  // namespace coffre::http

namespace coffre::http {

inline constexpr std::string_view kAdminPathSegment = "coffre-admin";

struct AdminContext {
  service::VaultAdmin& admin;
  const auth::AdminToken& admin_token;
  const auth::TokenAuthority& tokens;
  const Clock& clock;                         // when principals are made
  const audit::AuditSource* audit = nullptr;  // the audit routes (http/admin_audit.h); null: 404
  // Test-harness mode: /coffre-admin/v1/dev/...; null: those routes answer 404.
  TestHarness* harness = nullptr;
};

// Answers any request whose first path segment is kAdminPathSegment: parses it, calls the
// VaultAdmin service, and writes its answer as JSON.
ApiResponse HandleAdminRequest(const AdminContext& context, const ApiRequest& request,
                               const RequestTarget& target);

}  // namespace coffre::http
