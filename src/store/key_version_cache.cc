#include "store/key_version_cache.h"

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/strings.h"
#include "store/store_wrapper.h"

namespace coffre::store {
namespace {

class KeyVersionCachingStore final : public StoreWrapper {
 public:
  KeyVersionCachingStore(std::unique_ptr<Store> inner, const Clock& clock, size_t capacity)
      : StoreWrapper(std::move(inner)), clock_(clock), capacity_(capacity) {}

  Result<KeyVersionRecord> GetKeyVersion(std::string_view vault, std::string_view name,
                                         std::string_view version) override {
    std::string key = KeyOf(vault, name);
    std::string lower_version = AsciiLower(version);
    const auto now = clock_.Monotonic();
    uint64_t generation;
    {
      std::lock_guard lock(mutex_);
      if (auto it = keys_.find(key); it != keys_.end()) {
        for (const Entry& entry : it->second) {
          if (entry.version == lower_version && now - entry.fetched < kKeyVersionCacheTtl) {
            return entry.record;
          }
        }
      }
      generation = generation_;
    }
    auto record = target().GetKeyVersion(vault, name, version);
    if (record.ok()) {
      std::lock_guard lock(mutex_);
      if (generation_ == generation)
        Remember(std::move(key), std::move(lower_version), *record, now);
    }
    return record;
  }

  // ---- writes that can change a key version's answer: forget the key once committed (failed
  // writes too: a failure may come after a commit, and forgetting is always safe)
  using Store::AddKeyVersion;
  Status AddKeyVersion(KeyVersionRecord& record,
                       std::optional<int64_t> expected_latest_sequence) override {
    Status added = target().AddKeyVersion(record, expected_latest_sequence);
    Forget(record.vault, record.name);
    return added;
  }
  Status RestoreKey(std::vector<KeyVersionRecord>& versions,
                    const std::optional<RotationPolicyRecord>& policy) override {
    Status restored = target().RestoreKey(versions, policy);
    for (const auto& version : versions) Forget(version.vault, version.name);
    return restored;
  }
  Result<KeyVersionRecord> UpdateKeyVersion(const KeyVersionRecord& record) override {
    auto updated = target().UpdateKeyVersion(record);
    Forget(record.vault, record.name);
    return updated;
  }
  Result<DeletedKeyRecord> DeleteKey(std::string_view vault, std::string_view name,
                                     int64_t deleted_date, int64_t scheduled_purge_date) override {
    auto deleted = target().DeleteKey(vault, name, deleted_date, scheduled_purge_date);
    Forget(vault, name);
    return deleted;
  }
  Result<KeyVersionRecord> RecoverKey(std::string_view vault, std::string_view name) override {
    auto recovered = target().RecoverKey(vault, name);
    Forget(vault, name);
    return recovered;
  }
  Status PurgeKey(std::string_view vault, std::string_view name) override {
    Status purged = target().PurgeKey(vault, name);
    Forget(vault, name);
    return purged;
  }
  Result<int> PurgeExpiredKeys(int64_t now) override {
    auto purged = target().PurgeExpiredKeys(now);
    ForgetAll();
    return purged;
  }
  Status DeleteVault(std::string_view name) override {
    Status deleted = target().DeleteVault(name);
    ForgetAll();
    return deleted;
  }

 private:
  struct Entry {
    std::string version;  // lowercase; empty: the latest
    KeyVersionRecord record;
    std::chrono::steady_clock::time_point fetched;
  };

  // Names cannot contain '\n', so the joined key is unambiguous.
  static std::string KeyOf(std::string_view vault, std::string_view name) {
    return AsciiLower(vault) + "\n" + AsciiLower(name);
  }

  // Called with mutex_ held. When full, starts over: simpler than LRU order, and a cache this
  // size refills in a fraction of a second under the load that filled it.
  void Remember(std::string key, std::string version, const KeyVersionRecord& record,
                std::chrono::steady_clock::time_point fetched) {
    std::vector<Entry>& versions = keys_[std::move(key)];
    for (Entry& entry : versions) {
      if (entry.version == version) {
        entry.record = record;
        entry.fetched = fetched;
        return;
      }
    }
    if (size_ >= capacity_) {
      keys_.clear();
      size_ = 0;
      return;
    }
    versions.push_back(Entry{std::move(version), record, fetched});
    ++size_;
  }

  void Forget(std::string_view vault, std::string_view name) {
    std::lock_guard lock(mutex_);
    ++generation_;
    if (auto it = keys_.find(KeyOf(vault, name)); it != keys_.end()) {
      size_ -= it->second.size();
      keys_.erase(it);
    }
  }

  void ForgetAll() {
    std::lock_guard lock(mutex_);
    ++generation_;
    keys_.clear();
    size_ = 0;
  }

  const Clock& clock_;
  const size_t capacity_;
  std::mutex mutex_;
  // Bumped by every write; a read stores its result only if no write happened meanwhile.
  uint64_t generation_ = 0;
  std::unordered_map<std::string, std::vector<Entry>> keys_;  // by KeyOf(vault, name)
  size_t size_ = 0;                                           // entries in keys_
};

}  // namespace

std::unique_ptr<Store> WithKeyVersionCache(std::unique_ptr<Store> inner, const Clock& clock,
                                           size_t capacity) {
  if (!inner->maintenance().ReadsAreLocal()) return inner;
  return std::make_unique<KeyVersionCachingStore>(std::move(inner), clock, capacity);
}

}  // namespace coffre::store
