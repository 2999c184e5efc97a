#include "auth/access_checker.h"

#include <mutex>
#include <string>
#include <utility>

namespace coffre::auth {
namespace {

// The cached value if it is younger than `ttl`, else the result of `fetch`, cached unless a
// Forget happened while it ran (its result may predate the change Forget announced).
template <typename Value, typename Fetch>
auto CachedOrFetch(LruCache<Value>& cache, std::string_view key, const Clock& clock,
                   std::chrono::milliseconds ttl, std::mutex& mutex, const uint64_t& generation,
                   Fetch fetch) -> Result<decltype(Value::entries)> {
  const Clock::MonotonicTime now = clock.Monotonic();
  if (auto cached = cache.Get(key); cached && now - cached->at < ttl) return cached->entries;
  uint64_t before;
  {
    std::lock_guard lock(mutex);
    before = generation;
  }
  COFFRE_ASSIGN_OR_RETURN(auto entries, fetch());
  std::lock_guard lock(mutex);
  if (generation == before) cache.Put(std::string(key), Value{entries, now});
  return entries;
}

}  // namespace

Result<std::shared_ptr<const std::vector<AccessPolicyEntry>>> AccessChecker::PoliciesOf(
    std::string_view vault) const {
  return CachedOrFetch(
      policies_, vault, clock_, kCacheTtl, forget_mutex_, generation_,
      [&]() -> Result<std::shared_ptr<const std::vector<AccessPolicyEntry>>> {
        COFFRE_ASSIGN_OR_RETURN(auto records, store_.ListAccessPolicies(vault));
        auto policies = std::make_shared<std::vector<AccessPolicyEntry>>();
        for (auto& r : records) {
          policies->push_back({std::move(r.object_id), std::move(r.application_id),
                               std::move(r.keys), std::move(r.secrets), std::move(r.certificates)});
        }
        return std::shared_ptr<const std::vector<AccessPolicyEntry>>(policies);
      });
}

Result<std::shared_ptr<const std::vector<RoleAssignment>>> AccessChecker::AssignmentsOf(
    std::string_view object_id) const {
  return CachedOrFetch(
      assignments_, object_id, clock_, kCacheTtl, forget_mutex_, generation_,
      [&]() -> Result<std::shared_ptr<const std::vector<RoleAssignment>>> {
        COFFRE_ASSIGN_OR_RETURN(auto records, store_.ListRoleAssignmentsFor(object_id));
        auto assignments = std::make_shared<std::vector<RoleAssignment>>();
        for (auto& r : records) {
          assignments->push_back(
              {std::move(r.id), std::move(r.role), std::move(r.principal_id), std::move(r.scope)});
        }
        return std::shared_ptr<const std::vector<RoleAssignment>>(assignments);
      });
}

Status AccessChecker::Check(const store::VaultRecord& vault, const Caller& caller,
                            std::string_view permission, std::string_view data_action,
                            std::string_view object_name, PermissionKind kind) const {
  // Default deny: an operation that names nothing to check is refused, never let through.
  if ((vault.rbac_authorization ? data_action : permission).empty()) {
    return Status::Forbidden("The operation is not permitted: it names no permission.",
                             "AccessDenied");
  }
  if (vault.rbac_authorization) {
    COFFRE_ASSIGN_OR_RETURN(auto assignments, AssignmentsOf(caller.object_id));
    return CheckRoleAssignments(*assignments, caller, vault.name, object_name, data_action, kind);
  }
  COFFRE_ASSIGN_OR_RETURN(auto policies, PoliciesOf(vault.name));
  return CheckAccessPolicies(*policies, caller, vault.name, permission, kind);
}

void AccessChecker::Forget() const {
  std::lock_guard lock(forget_mutex_);
  ++generation_;
  policies_.Clear();
  assignments_.Clear();
}

}  // namespace coffre::auth
