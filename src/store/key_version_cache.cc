#include "store/key_version_cache.h"

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/strings.h"

namespace coffre::store {
namespace {

class KeyVersionCachingStore final : public Store {
 public:
  KeyVersionCachingStore(std::unique_ptr<Store> inner, size_t capacity)
      : inner_(std::move(inner)), capacity_(capacity) {}

  Result<KeyVersionRecord> GetKeyVersion(std::string_view vault, std::string_view name,
                                         std::string_view version) override {
    std::string key = KeyOf(vault, name);
    std::string lower_version = AsciiLower(version);
    const auto now = std::chrono::steady_clock::now();
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
    auto record = inner_->GetKeyVersion(vault, name, version);
    if (record.ok()) {
      std::lock_guard lock(mutex_);
      if (generation_ == generation)
        Remember(std::move(key), std::move(lower_version), *record, now);
    }
    return record;
  }

  // ---- writes that can change a key version's answer: forget the key once committed (failed
  // writes too: a failure may come after a commit, and forgetting is always safe)
  Status AddKeyVersion(KeyVersionRecord& record,
                       std::optional<int64_t> expected_latest_sequence) override {
    Status added = inner_->AddKeyVersion(record, expected_latest_sequence);
    Forget(record.vault, record.name);
    return added;
  }
  Status RestoreKey(std::vector<KeyVersionRecord>& versions,
                    const std::optional<RotationPolicyRecord>& policy) override {
    Status restored = inner_->RestoreKey(versions, policy);
    for (const auto& version : versions) Forget(version.vault, version.name);
    return restored;
  }
  Result<KeyVersionRecord> UpdateKeyVersion(const KeyVersionRecord& record) override {
    auto updated = inner_->UpdateKeyVersion(record);
    Forget(record.vault, record.name);
    return updated;
  }
  Result<DeletedKeyRecord> DeleteKey(std::string_view vault, std::string_view name,
                                     int64_t deleted_date, int64_t scheduled_purge_date) override {
    auto deleted = inner_->DeleteKey(vault, name, deleted_date, scheduled_purge_date);
    Forget(vault, name);
    return deleted;
  }
  Result<KeyVersionRecord> RecoverKey(std::string_view vault, std::string_view name) override {
    auto recovered = inner_->RecoverKey(vault, name);
    Forget(vault, name);
    return recovered;
  }
  Status PurgeKey(std::string_view vault, std::string_view name) override {
    Status purged = inner_->PurgeKey(vault, name);
    Forget(vault, name);
    return purged;
  }
  Result<int> PurgeExpiredKeys(int64_t now) override {
    auto purged = inner_->PurgeExpiredKeys(now);
    ForgetAll();
    return purged;
  }
  Status DeleteVault(std::string_view name) override {
    Status deleted = inner_->DeleteVault(name);
    ForgetAll();
    return deleted;
  }

  // ---- everything else goes straight through
  Status PutVault(const VaultRecord& vault) override { return inner_->PutVault(vault); }
  Result<VaultRecord> GetVault(std::string_view name) override { return inner_->GetVault(name); }
  Result<std::vector<VaultRecord>> ListVaults() override { return inner_->ListVaults(); }
  Status UpdateVault(const VaultRecord& vault) override { return inner_->UpdateVault(vault); }
  Status PutAccessPolicy(const AccessPolicyRecord& policy) override {
    return inner_->PutAccessPolicy(policy);
  }
  Result<AccessPolicyRecord> MergeAccessPolicy(const AccessPolicyChange& change) override {
    return inner_->MergeAccessPolicy(change);
  }
  Status DeleteAccessPolicy(std::string_view vault, std::string_view object_id,
                            std::string_view application_id) override {
    return inner_->DeleteAccessPolicy(vault, object_id, application_id);
  }
  Result<std::vector<AccessPolicyRecord>> ListAccessPolicies(std::string_view vault) override {
    return inner_->ListAccessPolicies(vault);
  }
  Status AddRoleAssignment(const RoleAssignmentRecord& assignment) override {
    return inner_->AddRoleAssignment(assignment);
  }
  Status DeleteRoleAssignment(std::string_view id) override {
    return inner_->DeleteRoleAssignment(id);
  }
  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignments() override {
    return inner_->ListRoleAssignments();
  }
  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignmentsFor(
      std::string_view principal_id) override {
    return inner_->ListRoleAssignmentsFor(principal_id);
  }
  Result<Page<KeyVersionRecord>> ListKeys(std::string_view vault, std::string_view cursor,
                                          int limit) override {
    return inner_->ListKeys(vault, cursor, limit);
  }
  Result<Page<KeyVersionRecord>> ListKeyVersions(std::string_view vault, std::string_view name,
                                                 std::string_view cursor, int limit) override {
    return inner_->ListKeyVersions(vault, name, cursor, limit);
  }
  Result<DeletedKeyRecord> GetDeletedKey(std::string_view vault, std::string_view name) override {
    return inner_->GetDeletedKey(vault, name);
  }
  Result<Page<DeletedKeyRecord>> ListDeletedKeys(std::string_view vault, std::string_view cursor,
                                                 int limit) override {
    return inner_->ListDeletedKeys(vault, cursor, limit);
  }
  Result<std::optional<RotationPolicyRecord>> GetRotationPolicy(std::string_view vault,
                                                                std::string_view name) override {
    return inner_->GetRotationPolicy(vault, name);
  }
  Result<RotationPolicyRecord> PutRotationPolicy(const RotationPolicyRecord& policy) override {
    return inner_->PutRotationPolicy(policy);
  }
  Result<std::vector<RotationPolicyRecord>> ListRotationPolicies() override {
    return inner_->ListRotationPolicies();
  }
  Result<bool> RecordKeyEvent(const KeyEventRecord& event) override {
    return inner_->RecordKeyEvent(event);
  }
  Result<std::vector<KeyEventRecord>> ListKeyEvents(std::string_view vault,
                                                    std::string_view name) override {
    return inner_->ListKeyEvents(vault, name);
  }
  Status AddPrincipal(const PrincipalRecord& principal) override {
    return inner_->AddPrincipal(principal);
  }
  Result<PrincipalRecord> GetPrincipalByClientId(std::string_view client_id) override {
    return inner_->GetPrincipalByClientId(client_id);
  }
  Result<std::vector<PrincipalRecord>> ListPrincipals() override {
    return inner_->ListPrincipals();
  }
  Status DeletePrincipal(std::string_view name) override { return inner_->DeletePrincipal(name); }
  Result<std::string> GetOrPutSetting(std::string_view key, std::string_view value) override {
    return inner_->GetOrPutSetting(key, value);
  }
  Result<bool> TryAcquireJobLease(std::string_view job, std::string_view holder, int64_t now,
                                  int64_t ttl_seconds) override {
    return inner_->TryAcquireJobLease(job, holder, now, ttl_seconds);
  }
  Result<Page<StoredKeyVersion>> ScanKeyVersions(std::string_view cursor, int limit) override {
    return inner_->ScanKeyVersions(cursor, limit);
  }
  Result<std::vector<std::string>> CheckConsistency() override {
    return inner_->CheckConsistency();
  }
  bool ReadsAreLocal() const override { return inner_->ReadsAreLocal(); }

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

  std::unique_ptr<Store> inner_;
  const size_t capacity_;
  std::mutex mutex_;
  // Bumped by every write; a read stores its result only if no write happened meanwhile.
  uint64_t generation_ = 0;
  std::unordered_map<std::string, std::vector<Entry>> keys_;  // by KeyOf(vault, name)
  size_t size_ = 0;                                           // entries in keys_
};

}  // namespace

std::unique_ptr<Store> WithKeyVersionCache(std::unique_ptr<Store> inner, size_t capacity) {
  if (!inner->ReadsAreLocal()) return inner;
  return std::make_unique<KeyVersionCachingStore>(std::move(inner), capacity);
}

}  // namespace coffre::store
