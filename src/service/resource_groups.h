// ResourceGroups: Resource Manager's resource groups, the folders vaults are filed in. There is
// one subscription per server (its tenant); a group belongs to it.
//
// Deleting a group soft-deletes its vaults through VaultAdmin (the same rules as deleting each
// vault), then removes the group.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "common/clock.h"
#include "service/vault_admin.h"
#include "store/store.h"

namespace coffre::service {

using ResourceGroup = store::ResourceGroupRecord;

// Azure's resource group name rule: 1-90 characters of letters, digits, '_', '-', '.', '(' and
// ')', not ending in '.'.
bool IsValidResourceGroupName(std::string_view name);

class ResourceGroups {
 public:
  ResourceGroups(store::Store& store, VaultAdmin& vaults, const Clock& clock)
      : store_(store), vaults_(vaults), clock_(clock) {}

  struct PutResult {
    ResourceGroup group;
    bool created = false;
  };
  // Creates the group or updates its location and tags. kBadRequest for an invalid name or an
  // empty location; as on Azure, an existing group's location cannot change (kConflict).
  Result<PutResult> Put(std::string_view name, std::string_view location, const store::Tags& tags);
  // kNotFound "ResourceGroupNotFound".
  Result<ResourceGroup> Get(std::string_view name);
  Result<std::vector<ResourceGroup>> List();
  // Soft-deletes the group's vaults, then removes it. kNotFound "ResourceGroupNotFound".
  Status Delete(std::string_view name);
  // The active vaults filed in the group (kNotFound if there is no such group).
  Result<std::vector<Vault>> VaultsIn(std::string_view name);

 private:
  store::Store& store_;
  VaultAdmin& vaults_;
  const Clock& clock_;
};

}  // namespace coffre::service
