#include "service/vault_directory.h"

#include <algorithm>
#include <cctype>

#include "common/strings.h"

namespace coffre::service {

bool IsValidVaultName(std::string_view name) {
  if (name.size() < 3 || name.size() > 24) return false;
  if (!std::isalpha(static_cast<unsigned char>(name.front()))) return false;
  if (name.back() == '-') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (!std::isalnum(c) && c != '-') return false;
    if (c == '-' && i > 0 && name[i - 1] == '-') return false;
  }
  return true;
}

Result<std::optional<store::VaultRecord>> VaultDirectory::Find(std::string_view name) {
  std::string key = AsciiLower(name);
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && clock_.Monotonic() - it->second.fetched < kCacheTtl) {
      return std::optional<store::VaultRecord>(it->second.vault);
    }
  }
  if (!IsValidVaultName(key)) return std::optional<store::VaultRecord>{};
  auto vault = store_.GetVault(key);
  if (!vault.ok()) {
    if (vault.status().kind() == ErrorKind::kNotFound) {
      return std::optional<store::VaultRecord>{};
    }
    return vault.status();
  }
  // A soft-deleted vault serves nothing until it is recovered or purged.
  if (vault->deleted_date) return std::optional<store::VaultRecord>{};
  std::lock_guard lock(mutex_);
  cache_[key] = Entry{*vault, clock_.Monotonic()};
  return std::optional<store::VaultRecord>{*vault};
}

Status VaultDirectory::Ensure(const store::VaultRecord& vault) {
  if (!IsValidVaultName(vault.name)) {
    return Status::BadParameter("Invalid vault name: " + vault.name +
                                ". Vault names are 3-24 letters, digits and hyphens.");
  }
  store::VaultRecord record = vault;
  record.name = AsciiLower(vault.name);
  return store_.PutVault(record);
}

void VaultDirectory::Forget(std::string_view name) {
  std::lock_guard lock(mutex_);
  cache_.erase(AsciiLower(name));
}

}  // namespace coffre::service
