// AccessChecker: enforces a vault's permission model for one data-plane request, reading the
// vault's access policies or the caller's role assignments from the store.
#pragma once

#include <string_view>

#include "auth/access_control.h"
#include "coffre/status.h"
#include "store/store.h"

namespace coffre::auth {

class AccessChecker {
 public:
  explicit AccessChecker(store::Store& store) : store_(store) {}

  // OK, or Key Vault's 403. An empty permission and data action means any authenticated
  // caller may proceed.
  Status Check(const store::VaultRecord& vault, const Caller& caller, std::string_view permission,
               std::string_view data_action, std::string_view key_name) const;

 private:
  store::Store& store_;
};

}  // namespace coffre::auth
