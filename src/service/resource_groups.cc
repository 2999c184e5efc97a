#include "service/resource_groups.h"

#include <algorithm>
#include <utility>

#include "common/strings.h"

namespace coffre::service {
namespace {

constexpr size_t kMaxGroupName = 90;
constexpr size_t kMaxLocation = 64;

Status GroupNotFound(std::string_view name) {
  return Status::NotFound(
      "ResourceGroupNotFound",
      "Resource group '" + std::string(name.substr(0, kMaxGroupName)) + "' could not be found.");
}

}  // namespace

bool IsValidResourceGroupName(std::string_view name) {
  if (name.empty() || name.size() > kMaxGroupName || name.back() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '(' || c == ')';
  });
}

Result<ResourceGroups::PutResult> ResourceGroups::Put(std::string_view name,
                                                      std::string_view location,
                                                      const store::Tags& tags) {
  if (!IsValidResourceGroupName(name)) {
    return Status(ErrorKind::kBadRequest, "InvalidResourceGroupName",
                  "Resource group names are 1-90 letters, digits, '_', '-', '.', "
                  "'(' and ')', and do not end in '.'.");
  }
  if (location.empty() || location.size() > kMaxLocation) {
    return Status(ErrorKind::kBadRequest, "LocationRequired",
                  "The location property is required for this definition.");
  }
  const std::string wanted_location = AsciiLower(location);
  auto existing = store_.GetResourceGroup(name);
  if (existing.ok() && AsciiLower(existing->location) != wanted_location) {
    return Status(ErrorKind::kConflict, "InvalidResourceGroupLocation",
                  "Invalid resource group location '" + wanted_location +
                      "'. The resource group '" + existing->name +
                      "' already exists in location '" + existing->location + "'.");
  }
  if (!existing.ok() && existing.status().kind() != ErrorKind::kNotFound) return existing.status();
  ResourceGroup group{std::string(name), wanted_location, tags, clock_.NowSeconds()};
  COFFRE_ASSIGN_OR_RETURN(auto stored, store_.PutResourceGroup(group));
  return PutResult{std::move(stored.first), stored.second};
}

Result<ResourceGroup> ResourceGroups::Get(std::string_view name) {
  auto group = store_.GetResourceGroup(name);
  if (!group.ok() && group.status().kind() == ErrorKind::kNotFound) return GroupNotFound(name);
  return group;
}

Result<std::vector<ResourceGroup>> ResourceGroups::List() { return store_.ListResourceGroups(); }

Result<std::vector<Vault>> ResourceGroups::VaultsIn(std::string_view name) {
  COFFRE_ASSIGN_OR_RETURN(ResourceGroup group, Get(name));
  COFFRE_ASSIGN_OR_RETURN(auto vaults, vaults_.ListVaults());
  const std::string key = AsciiLower(group.name);
  std::erase_if(vaults, [&](const Vault& v) { return AsciiLower(v.resource_group) != key; });
  return vaults;
}

Status ResourceGroups::Delete(std::string_view name) {
  COFFRE_ASSIGN_OR_RETURN(auto vaults, VaultsIn(name));
  for (const Vault& vault : vaults) {
    auto deleted = vaults_.SoftDeleteVault(vault.name);
    // Deleted meanwhile by someone else: nothing left to do for it.
    if (!deleted.ok() && deleted.status().kind() != ErrorKind::kNotFound) return deleted.status();
  }
  Status removed = store_.DeleteResourceGroup(name);
  if (removed.kind() == ErrorKind::kNotFound) return GroupNotFound(name);
  if (store::HasReason(removed, store::reason::kGroupNotEmpty)) {
    return Status::Conflict(
        "A vault was created in the resource group while it was being "
        "deleted; try again.");
  }
  return removed;
}

}  // namespace coffre::service
