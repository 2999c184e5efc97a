#include "store/key_version_cache.h"

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/metrics.h"
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
    return Cached(keys_, metrics::Cache::kKeyVersions, vault, name, version,
                  [&] { return target().GetKeyVersion(vault, name, version); });
  }

  // Secret versions the same way: what is cached is the record as stored (the value sealed).
  Result<SecretVersionRecord> GetSecretVersion(std::string_view vault, std::string_view name,
                                               std::string_view version) override {
    return Cached(secrets_, metrics::Cache::kSecretVersions, vault, name, version,
                  [&] { return target().GetSecretVersion(vault, name, version); });
  }

  // ---- writes that can change a key version's answer: forget the key once committed (failed
  // writes too: a failure may come after a commit, and forgetting is always safe)
  using Store::AddKeyVersion;
  Status AddKeyVersion(KeyVersionRecord& record,
                       std::optional<int64_t> expected_latest_sequence) override {
    Status added = target().AddKeyVersion(record, expected_latest_sequence);
    Forget(keys_, record.vault, record.name);
    return added;
  }
  Status RestoreKey(std::vector<KeyVersionRecord>& versions,
                    const std::optional<RotationPolicyRecord>& policy) override {
    Status restored = target().RestoreKey(versions, policy);
    for (const auto& version : versions) Forget(keys_, version.vault, version.name);
    return restored;
  }
  Result<KeyVersionRecord> UpdateKeyVersion(const KeyVersionRecord& record) override {
    auto updated = target().UpdateKeyVersion(record);
    Forget(keys_, record.vault, record.name);
    return updated;
  }
  Result<DeletedKeyRecord> DeleteKey(std::string_view vault, std::string_view name,
                                     int64_t deleted_date, int64_t scheduled_purge_date) override {
    auto deleted = target().DeleteKey(vault, name, deleted_date, scheduled_purge_date);
    Forget(keys_, vault, name);
    return deleted;
  }
  Result<KeyVersionRecord> RecoverKey(std::string_view vault, std::string_view name) override {
    auto recovered = target().RecoverKey(vault, name);
    Forget(keys_, vault, name);
    return recovered;
  }
  Status PurgeKey(std::string_view vault, std::string_view name) override {
    Status purged = target().PurgeKey(vault, name);
    Forget(keys_, vault, name);
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

  // ---- the same for secrets
  Status AddSecretVersion(SecretVersionRecord& record) override {
    Status added = target().AddSecretVersion(record);
    Forget(secrets_, record.vault, record.name);
    return added;
  }
  Status RestoreSecret(std::vector<SecretVersionRecord>& versions) override {
    Status restored = target().RestoreSecret(versions);
    for (const auto& version : versions) Forget(secrets_, version.vault, version.name);
    return restored;
  }
  Result<SecretVersionRecord> UpdateSecretVersion(const SecretVersionRecord& record) override {
    auto updated = target().UpdateSecretVersion(record);
    Forget(secrets_, record.vault, record.name);
    return updated;
  }
  Result<DeletedSecretRecord> DeleteSecret(std::string_view vault, std::string_view name,
                                           int64_t deleted_date,
                                           int64_t scheduled_purge_date) override {
    auto deleted = target().DeleteSecret(vault, name, deleted_date, scheduled_purge_date);
    Forget(secrets_, vault, name);
    return deleted;
  }
  Result<SecretVersionRecord> RecoverSecret(std::string_view vault,
                                            std::string_view name) override {
    auto recovered = target().RecoverSecret(vault, name);
    Forget(secrets_, vault, name);
    return recovered;
  }
  Status PurgeSecret(std::string_view vault, std::string_view name) override {
    Status purged = target().PurgeSecret(vault, name);
    Forget(secrets_, vault, name);
    return purged;
  }
  Result<int> PurgeExpiredSecrets(int64_t now) override {
    auto purged = target().PurgeExpiredSecrets(now);
    ForgetAll();
    return purged;
  }

  // ---- certificates write, delete, recover and purge their key and secret with them
  Status AddCertificateVersion(
      CertificateVersionRecord& certificate, KeyVersionRecord& key, SecretVersionRecord& secret,
      std::string_view policy,
      const std::optional<CertificateOperationRecord>& operation) override {
    const std::string vault = certificate.vault;
    const std::string name = certificate.name;
    Status added = target().AddCertificateVersion(certificate, key, secret, policy, operation);
    ForgetBoth(vault, name);
    return added;
  }
  Result<CertificateVersionRecord> UpdateCertificateVersion(
      const CertificateVersionRecord& record) override {
    auto updated = target().UpdateCertificateVersion(record);
    ForgetBoth(record.vault, record.name);
    return updated;
  }
  Result<DeletedCertificateRecord> DeleteCertificate(std::string_view vault, std::string_view name,
                                                     int64_t deleted_date,
                                                     int64_t scheduled_purge_date) override {
    auto deleted = target().DeleteCertificate(vault, name, deleted_date, scheduled_purge_date);
    ForgetBoth(vault, name);
    return deleted;
  }
  Result<CertificateVersionRecord> RecoverCertificate(std::string_view vault,
                                                      std::string_view name) override {
    auto recovered = target().RecoverCertificate(vault, name);
    ForgetBoth(vault, name);
    return recovered;
  }
  Status PurgeCertificate(std::string_view vault, std::string_view name) override {
    Status purged = target().PurgeCertificate(vault, name);
    ForgetBoth(vault, name);
    return purged;
  }
  Result<int> PurgeExpiredCertificates(int64_t now) override {
    auto purged = target().PurgeExpiredCertificates(now);
    ForgetAll();
    return purged;
  }

 private:
  void ForgetBoth(std::string_view vault, std::string_view name) {
    Forget(keys_, vault, name);
    Forget(secrets_, vault, name);
  }

  template <typename Record>
  struct Entry {
    std::string version;  // lowercase; empty: the latest
    Record record;
    std::chrono::steady_clock::time_point fetched;
  };
  // By KeyOf(vault, name).
  template <typename Record>
  using Map = std::unordered_map<std::string, std::vector<Entry<Record>>>;

  // Names cannot contain '\n', so the joined key is unambiguous.
  static std::string KeyOf(std::string_view vault, std::string_view name) {
    return AsciiLower(vault) + "\n" + AsciiLower(name);
  }

  // The cached answer if fresh, else `read`'s, remembered unless a write happened meanwhile.
  template <typename Record, typename Read>
  Result<Record> Cached(Map<Record>& map, metrics::Cache which, std::string_view vault,
                        std::string_view name, std::string_view version, Read read) {
    std::string key = KeyOf(vault, name);
    std::string lower_version = AsciiLower(version);
    const auto now = clock_.Monotonic();
    uint64_t generation;
    {
      std::lock_guard lock(mutex_);
      if (auto it = map.find(key); it != map.end()) {
        for (const Entry<Record>& entry : it->second) {
          if (entry.version == lower_version && now - entry.fetched < kKeyVersionCacheTtl) {
            metrics::Global().RecordCacheLookup(which, true);
            return entry.record;
          }
        }
      }
      generation = generation_;
    }
    metrics::Global().RecordCacheLookup(which, false);
    Result<Record> record = read();
    if (record.ok()) {
      std::lock_guard lock(mutex_);
      if (generation_ == generation) {
        Remember(map, std::move(key), std::move(lower_version), *record, now);
      }
    }
    return record;
  }

  // Called with mutex_ held. When full, starts over: simpler than LRU order, and a cache this
  // size refills in a fraction of a second under the load that filled it.
  template <typename Record>
  void Remember(Map<Record>& map, std::string key, std::string version, const Record& record,
                std::chrono::steady_clock::time_point fetched) {
    std::vector<Entry<Record>>& versions = map[std::move(key)];
    for (Entry<Record>& entry : versions) {
      if (entry.version == version) {
        entry.record = record;
        entry.fetched = fetched;
        return;
      }
    }
    if (size_ >= capacity_) {
      keys_.clear();
      secrets_.clear();
      size_ = 0;
      return;
    }
    versions.push_back(Entry<Record>{std::move(version), record, fetched});
    ++size_;
  }

  template <typename Record>
  void Forget(Map<Record>& map, std::string_view vault, std::string_view name) {
    std::lock_guard lock(mutex_);
    ++generation_;
    if (auto it = map.find(KeyOf(vault, name)); it != map.end()) {
      size_ -= it->second.size();
      map.erase(it);
    }
  }

  void ForgetAll() {
    std::lock_guard lock(mutex_);
    ++generation_;
    keys_.clear();
    secrets_.clear();
    size_ = 0;
  }

  const Clock& clock_;
  const size_t capacity_;
  std::mutex mutex_;
  // Bumped by every write; a read stores its result only if no write happened meanwhile.
  uint64_t generation_ = 0;
  Map<KeyVersionRecord> keys_;
  Map<SecretVersionRecord> secrets_;
  size_t size_ = 0;  // entries in keys_ and secrets_
};

}  // namespace

std::unique_ptr<Store> WithKeyVersionCache(std::unique_ptr<Store> inner, const Clock& clock,
                                           size_t capacity) {
  if (!inner->maintenance().ReadsAreLocal()) return inner;
  return std::make_unique<KeyVersionCachingStore>(std::move(inner), clock, capacity);
}

}  // namespace coffre::store
