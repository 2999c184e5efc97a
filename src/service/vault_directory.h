// VaultDirectory: which vaults exist, by name, with a small cache in front of the store so
// that resolving a request's vault does not cost a query. Entries live at most kCacheTtl, so a
// vault changed or deleted through another replica (or process) is seen within that bound.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "coffre/status.h"
#include "common/clock.h"
#include "store/store.h"

namespace coffre::service {

class VaultDirectory {
 public:
  static constexpr std::chrono::milliseconds kCacheTtl{1000};

  explicit VaultDirectory(store::Store& store, const Clock& clock = SystemClock::Instance())
      : store_(store), clock_(clock) {}

  // The vault called `name` (case-insensitive), or nullopt if there is none.
  Result<std::optional<store::VaultRecord>> Find(std::string_view name);
  // Creates the vault if absent (name must satisfy IsValidVaultName).
  Status Ensure(const store::VaultRecord& vault);
  // Drops a cached vault after it was changed or deleted, so the next Find reads the store.
  void Forget(std::string_view name);

 private:
  store::Store& store_;
  const Clock& clock_;
  std::mutex mutex_;
  struct Entry {
    store::VaultRecord vault;
    Clock::MonotonicTime fetched;
  };
  std::unordered_map<std::string, Entry> cache_;
};

// Azure's vault name rule: 3-24 characters, letters, digits and hyphens, starting with a letter,
// ending with a letter or digit, no consecutive hyphens.
bool IsValidVaultName(std::string_view name);

}  // namespace coffre::service
