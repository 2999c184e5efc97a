// AccessChecker: enforces a vault's permission model for one data-plane request, reading the
// vault's access policies or the caller's role assignments from the store.
//
// What it reads is cached for at most kCacheTtl, so a change made through another replica takes
// effect within that bound; changes made through this process's admin API call Forget and take
// effect at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "auth/access_control.h"
#include "coffre/status.h"
#include "common/clock.h"
#include "common/lru_cache.h"
#include "store/store.h"

namespace coffre::auth {

class AccessChecker {
 public:
  static constexpr std::chrono::milliseconds kCacheTtl{1000};

  explicit AccessChecker(store::Store& store, const Clock& clock = SystemClock::Instance())
      : store_(store), clock_(clock) {}

  // OK, or Key Vault's 403. An empty permission (access-policy vault) or data action (RBAC
  // vault) is refused: default deny. `kind` says which access-policy list `permission` is in
  // and which collection `object_name` (empty for vault-level operations) is in for RBAC scopes.
  Status Check(const store::VaultRecord& vault, const Caller& caller, std::string_view permission,
               std::string_view data_action, std::string_view object_name,
               PermissionKind kind = PermissionKind::kKeys) const;

  // Drops everything cached, after access policies or role assignments changed.
  void Forget() const;

 private:
  template <typename T>
  struct Fetched {
    std::shared_ptr<const std::vector<T>> entries;
    Clock::MonotonicTime at;
  };

  Result<std::shared_ptr<const std::vector<AccessPolicyEntry>>> PoliciesOf(
      std::string_view vault) const;
  Result<std::shared_ptr<const std::vector<RoleAssignment>>> AssignmentsOf(
      std::string_view object_id) const;

  store::Store& store_;
  const Clock& clock_;
  // By vault name, and by principal object id.
  mutable LruCache<Fetched<AccessPolicyEntry>> policies_{1024};
  mutable LruCache<Fetched<RoleAssignment>> assignments_{4096};
  // Forget bumps the generation; a fetch that overlapped it is not cached.
  mutable std::mutex forget_mutex_;
  mutable uint64_t generation_ = 0;
};

}  // namespace coffre::auth
