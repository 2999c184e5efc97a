#include "auth/access_checker.h"

namespace coffre::auth {

Status AccessChecker::Check(const store::VaultRecord& vault, const Caller& caller,
                            std::string_view permission, std::string_view data_action,
                            std::string_view key_name) const {
  if (vault.rbac_authorization) {
    if (data_action.empty()) return Status::Ok();
    COFFRE_ASSIGN_OR_RETURN(auto records, store_.ListRoleAssignmentsFor(caller.object_id));
    std::vector<RoleAssignment> assignments;
    for (auto& r : records) {
      assignments.push_back({std::move(r.id), std::move(r.role), std::move(r.principal_id),
                             std::move(r.scope)});
    }
    return CheckRoleAssignments(assignments, caller, vault.name, key_name, data_action);
  }
  if (permission.empty()) return Status::Ok();
  COFFRE_ASSIGN_OR_RETURN(auto records, store_.ListAccessPolicies(vault.name));
  std::vector<AccessPolicyEntry> policies;
  for (auto& r : records) {
    policies.push_back({std::move(r.object_id), std::move(r.application_id), std::move(r.keys),
                        std::move(r.secrets), std::move(r.certificates)});
  }
  return CheckAccessPolicies(policies, caller, vault.name, permission);
}

}  // namespace coffre::auth
