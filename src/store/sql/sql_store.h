// SqlStore: every storage rule of the Store contract, written once over an sql::Engine.
//
// The record methods are defined by subject in key_records.cc (keys, versions, soft delete,
// restore, rotation policies, events), secret_records.cc (secrets, the same rules),
// certificate_records.cc (certificates with their key and secret, through object_steps.h),
// access_records.cc (vaults, access policies, role
// assignments), principal_records.cc (principals, settings, job leases) and maintenance.cc
// (whole-store scans and consistency checks). A new record kind gets its own file here and its
// tables in each engine's migrations; nothing else in the engines changes.
//
// Concurrency rules, the same on both engines: a call that depends on a key's state reads the
// key row with a row lock (FOR UPDATE when it changes the row or adds versions, FOR SHARE
// otherwise), so versions are never lost, duplicated or interleaved whichever process adds them;
// calls that write into a vault hold its row FOR KEY SHARE, so DeleteVault (FOR UPDATE) never
// removes a vault that is gaining a key; rows are claimed with INSERT ... ON CONFLICT so racing
// creators never fail on a unique violation. On SQLite the locks are implied (one writer).
// Internal to store/.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "store/sql/sql_engine.h"
#include "store/store.h"

namespace coffre::store::sql {

class SqlStore final : public Store, public StoreMaintenance {
 public:
  explicit SqlStore(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}

  // ---- vaults, access policies, role assignments (access_records.cc)
  Status PutVault(const VaultRecord& vault) override;
  Result<VaultRecord> GetVault(std::string_view name) override;
  Result<std::vector<VaultRecord>> ListVaults() override;
  Status CreateVault(const VaultRecord& vault) override;
  Status UpdateVault(const VaultRecord& vault) override;
  Result<VaultRecord> ModifyVault(std::string_view name,
                                  const std::function<Status(VaultRecord&)>& change) override;
  Status DeleteVault(std::string_view name) override;
  Status PutAccessPolicy(const AccessPolicyRecord& policy) override;
  Result<AccessPolicyRecord> MergeAccessPolicy(const AccessPolicyChange& change) override;
  Status DeleteAccessPolicy(std::string_view vault, std::string_view object_id,
                            std::string_view application_id) override;
  Result<std::vector<AccessPolicyRecord>> ListAccessPolicies(std::string_view vault) override;
  Status AddRoleAssignment(const RoleAssignmentRecord& assignment) override;
  Status DeleteRoleAssignment(std::string_view id) override;
  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignments() override;
  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignmentsFor(
      std::string_view principal_id) override;

  // ---- keys, rotation policies, key events (key_records.cc)
  using Store::AddKeyVersion;
  Status AddKeyVersion(KeyVersionRecord& record,
                       std::optional<int64_t> expected_latest_sequence) override;
  Status RestoreKey(std::vector<KeyVersionRecord>& versions,
                    const std::optional<RotationPolicyRecord>& policy) override;
  Result<KeyVersionRecord> GetKeyVersion(std::string_view vault, std::string_view name,
                                         std::string_view version) override;
  Result<Page<KeyVersionRecord>> ListKeys(std::string_view vault, std::string_view cursor,
                                          int limit) override;
  Result<Page<KeyVersionRecord>> ListKeyVersions(std::string_view vault, std::string_view name,
                                                 std::string_view cursor, int limit) override;
  Result<KeyVersionRecord> UpdateKeyVersion(const KeyVersionRecord& record) override;
  Result<DeletedKeyRecord> DeleteKey(std::string_view vault, std::string_view name,
                                     int64_t deleted_date, int64_t scheduled_purge_date) override;
  Result<DeletedKeyRecord> GetDeletedKey(std::string_view vault, std::string_view name) override;
  Result<Page<DeletedKeyRecord>> ListDeletedKeys(std::string_view vault, std::string_view cursor,
                                                 int limit) override;
  Result<KeyVersionRecord> RecoverKey(std::string_view vault, std::string_view name) override;
  Status PurgeKey(std::string_view vault, std::string_view name) override;
  Result<int> PurgeExpiredKeys(int64_t now) override;
  Result<std::optional<RotationPolicyRecord>> GetRotationPolicy(std::string_view vault,
                                                                std::string_view name) override;
  Result<RotationPolicyRecord> PutRotationPolicy(const RotationPolicyRecord& policy) override;
  Result<std::vector<RotationPolicyRecord>> ListRotationPolicies() override;
  Result<bool> RecordKeyEvent(const KeyEventRecord& event) override;
  Result<std::vector<KeyEventRecord>> ListKeyEvents(std::string_view vault,
                                                    std::string_view name) override;

  // ---- secrets, their versions and events (secret_records.cc)
  Status AddSecretVersion(SecretVersionRecord& record) override;
  Status RestoreSecret(std::vector<SecretVersionRecord>& versions) override;
  Result<SecretVersionRecord> GetSecretVersion(std::string_view vault, std::string_view name,
                                               std::string_view version) override;
  Result<Page<SecretVersionRecord>> ListSecrets(std::string_view vault, std::string_view cursor,
                                                int limit) override;
  Result<Page<SecretVersionRecord>> ListSecretVersions(std::string_view vault,
                                                       std::string_view name,
                                                       std::string_view cursor, int limit) override;
  Result<SecretVersionRecord> UpdateSecretVersion(const SecretVersionRecord& record) override;
  Result<DeletedSecretRecord> DeleteSecret(std::string_view vault, std::string_view name,
                                           int64_t deleted_date,
                                           int64_t scheduled_purge_date) override;
  Result<DeletedSecretRecord> GetDeletedSecret(std::string_view vault,
                                               std::string_view name) override;
  Result<Page<DeletedSecretRecord>> ListDeletedSecrets(std::string_view vault,
                                                       std::string_view cursor, int limit) override;
  Result<SecretVersionRecord> RecoverSecret(std::string_view vault, std::string_view name) override;
  Status PurgeSecret(std::string_view vault, std::string_view name) override;
  Result<int> PurgeExpiredSecrets(int64_t now) override;
  Result<bool> RecordSecretEvent(const SecretEventRecord& event) override;
  Result<std::vector<SecretEventRecord>> ListSecretEvents(std::string_view vault,
                                                          std::string_view name) override;

  // ---- users, resource groups, vault purge (directory_records.cc)
  Status PurgeVault(std::string_view name) override;
  Result<std::pair<ResourceGroupRecord, bool>> PutResourceGroup(
      const ResourceGroupRecord& group) override;
  Result<ResourceGroupRecord> GetResourceGroup(std::string_view name) override;
  Result<std::vector<ResourceGroupRecord>> ListResourceGroups() override;
  Status DeleteResourceGroup(std::string_view name) override;
  Status AddUser(const UserRecord& user) override;
  Result<UserRecord> GetUserByUpn(std::string_view upn) override;
  Result<UserRecord> GetUserByObjectId(std::string_view object_id) override;
  Result<std::vector<UserRecord>> ListUsers() override;
  Status DeleteUser(std::string_view upn) override;
  // ---- certificates, their versions, policy and operation (certificate_records.cc)
  Status AddCertificateVersion(CertificateVersionRecord& certificate, KeyVersionRecord& key,
                               SecretVersionRecord& secret, std::string_view policy,
                               const std::optional<CertificateOperationRecord>& operation) override;
  Status BeginCertificateOperation(std::string_view policy,
                                   const CertificateOperationRecord& operation) override;
  Result<CertificateOperationRecord> GetCertificateOperation(std::string_view vault,
                                                             std::string_view name) override;
  Result<CertificateOperationRecord> UpdateCertificateOperation(
      const CertificateOperationRecord& operation) override;
  Result<CertificateOperationRecord> DeleteCertificateOperation(std::string_view vault,
                                                                std::string_view name) override;
  Result<CertificateVersionRecord> GetCertificateVersion(std::string_view vault,
                                                         std::string_view name,
                                                         std::string_view version) override;
  Result<Page<CertificateVersionRecord>> ListCertificates(std::string_view vault,
                                                          std::string_view cursor,
                                                          int limit) override;
  Result<Page<CertificateVersionRecord>> ListCertificateVersions(std::string_view vault,
                                                                 std::string_view name,
                                                                 std::string_view cursor,
                                                                 int limit) override;
  Result<CertificateVersionRecord> UpdateCertificateVersion(
      const CertificateVersionRecord& record) override;
  Result<CertificatePolicyRecord> GetCertificatePolicy(std::string_view vault,
                                                       std::string_view name) override;
  Result<CertificatePolicyRecord> PutCertificatePolicy(
      const CertificatePolicyRecord& policy) override;
  Result<DeletedCertificateRecord> DeleteCertificate(std::string_view vault, std::string_view name,
                                                     int64_t deleted_date,
                                                     int64_t scheduled_purge_date) override;
  Result<DeletedCertificateRecord> GetDeletedCertificate(std::string_view vault,
                                                         std::string_view name) override;
  Result<Page<DeletedCertificateRecord>> ListDeletedCertificates(std::string_view vault,
                                                                 std::string_view cursor,
                                                                 int limit) override;
  Result<CertificateVersionRecord> RecoverCertificate(std::string_view vault,
                                                      std::string_view name) override;
  Status PurgeCertificate(std::string_view vault, std::string_view name) override;
  Result<int> PurgeExpiredCertificates(int64_t now) override;
  Status RestoreCertificate(std::vector<CertificateVersionViews>& versions,
                            std::string_view policy) override;
  Result<CertificateSettingRecord> PutCertificateSetting(const CertificateSettingRecord& setting,
                                                         bool replace) override;
  Result<CertificateSettingRecord> GetCertificateSetting(std::string_view vault,
                                                         std::string_view kind,
                                                         std::string_view name) override;
  Result<Page<CertificateSettingRecord>> ListCertificateSettings(std::string_view vault,
                                                                 std::string_view kind,
                                                                 std::string_view cursor,
                                                                 int limit) override;
  Result<CertificateSettingRecord> DeleteCertificateSetting(std::string_view vault,
                                                            std::string_view kind,
                                                            std::string_view name) override;

  // ---- principals, settings, job leases (principal_records.cc)
  Status AddPrincipal(const PrincipalRecord& principal) override;
  Result<PrincipalRecord> GetPrincipalByClientId(std::string_view client_id) override;
  Result<std::vector<PrincipalRecord>> ListPrincipals() override;
  Status DeletePrincipal(std::string_view name) override;
  Result<std::string> GetOrPutSetting(std::string_view key, std::string_view value) override;
  Result<std::optional<std::string>> GetSetting(std::string_view key) override;
  Status PutSetting(std::string_view key, std::string_view value) override;
  Result<bool> TryAcquireJobLease(std::string_view job, std::string_view holder, int64_t now,
                                  int64_t ttl_seconds) override;

  // ---- whole-store scans and checks (maintenance.cc)
  Result<Page<StoredKeyVersion>> ScanKeyVersions(std::string_view cursor, int limit) override;
  Result<Page<StoredSecretVersion>> ScanSecretVersions(std::string_view cursor, int limit) override;
  Result<std::vector<std::string>> CheckConsistency() override;
  bool ReadsAreLocal() const override { return engine_->ReadsAreLocal(); }

  StoreMaintenance& maintenance() override { return *this; }

 private:
  // Runs `fn` (Transaction& -> Status or Result<T>) through the engine and returns its result,
  // or the engine's error when the transaction itself failed (e.g. at COMMIT).
  template <typename Fn>
  auto Run(Engine::Mode mode, Fn&& fn) -> std::invoke_result_t<Fn&, Transaction&> {
    using R = std::invoke_result_t<Fn&, Transaction&>;
    std::optional<R> result;
    const bool writes = mode == Engine::Mode::kWrite || mode == Engine::Mode::kIdempotentWrite;
    const auto started =
        writes ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    Status status = engine_->Run(mode, [&](Transaction& txn) -> Status {
      result.emplace(fn(txn));
      if constexpr (std::is_same_v<R, Status>) {
        return *result;
      } else {
        return result->ok() ? Status::Ok() : result->status();
      }
    });
    if (writes) {
      metrics::Global().RecordStoreWrite(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    if (!status.ok()) return status;
    return std::move(*result);
  }

  std::unique_ptr<Engine> engine_;
};

}  // namespace coffre::store::sql
