// StoreWrapper: a Store that forwards every call to another (as LevelDB's EnvWrapper does for
// Env), so a decorator overrides only what it changes and a method added to Store is forwarded
// here once instead of in every decorator.
#pragma once

#include <memory>
#include <utility>

#include "store/store.h"

namespace coffre::store {

class StoreWrapper : public Store {
 public:
  explicit StoreWrapper(std::unique_ptr<Store> target) : target_(std::move(target)) {}

  Store& target() const { return *target_; }

  Status PutVault(const VaultRecord& vault) override { return target_->PutVault(vault); }
  Result<VaultRecord> GetVault(std::string_view name) override { return target_->GetVault(name); }
  Result<std::vector<VaultRecord>> ListVaults() override { return target_->ListVaults(); }
  Status CreateVault(const VaultRecord& vault) override { return target_->CreateVault(vault); }
  Result<VaultRecord> ModifyVault(std::string_view name,
                                  const std::function<Status(VaultRecord&)>& change) override {
    return target_->ModifyVault(name, change);
  }
  Status UpdateVault(const VaultRecord& vault) override { return target_->UpdateVault(vault); }
  Status DeleteVault(std::string_view name) override { return target_->DeleteVault(name); }
  Status PutAccessPolicy(const AccessPolicyRecord& policy) override {
    return target_->PutAccessPolicy(policy);
  }
  Result<AccessPolicyRecord> MergeAccessPolicy(const AccessPolicyChange& change) override {
    return target_->MergeAccessPolicy(change);
  }
  Status DeleteAccessPolicy(std::string_view vault, std::string_view object_id,
                            std::string_view application_id) override {
    return target_->DeleteAccessPolicy(vault, object_id, application_id);
  }
  Result<std::vector<AccessPolicyRecord>> ListAccessPolicies(std::string_view vault) override {
    return target_->ListAccessPolicies(vault);
  }
  Status AddRoleAssignment(const RoleAssignmentRecord& assignment) override {
    return target_->AddRoleAssignment(assignment);
  }
  Status DeleteRoleAssignment(std::string_view id) override {
    return target_->DeleteRoleAssignment(id);
  }
  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignments() override {
    return target_->ListRoleAssignments();
  }
  Result<std::vector<RoleAssignmentRecord>> ListRoleAssignmentsFor(
      std::string_view principal_id) override {
    return target_->ListRoleAssignmentsFor(principal_id);
  }
  using Store::AddKeyVersion;
  Status AddKeyVersion(KeyVersionRecord& record,
                       std::optional<int64_t> expected_latest_sequence) override {
    return target_->AddKeyVersion(record, expected_latest_sequence);
  }
  Status RestoreKey(std::vector<KeyVersionRecord>& versions,
                    const std::optional<RotationPolicyRecord>& policy) override {
    return target_->RestoreKey(versions, policy);
  }
  Result<KeyVersionRecord> GetKeyVersion(std::string_view vault, std::string_view name,
                                         std::string_view version) override {
    return target_->GetKeyVersion(vault, name, version);
  }
  Result<Page<KeyVersionRecord>> ListKeys(std::string_view vault, std::string_view cursor,
                                          int limit) override {
    return target_->ListKeys(vault, cursor, limit);
  }
  Result<Page<KeyVersionRecord>> ListKeyVersions(std::string_view vault, std::string_view name,
                                                 std::string_view cursor, int limit) override {
    return target_->ListKeyVersions(vault, name, cursor, limit);
  }
  Result<KeyVersionRecord> UpdateKeyVersion(const KeyVersionRecord& record) override {
    return target_->UpdateKeyVersion(record);
  }
  Result<DeletedKeyRecord> DeleteKey(std::string_view vault, std::string_view name,
                                     int64_t deleted_date, int64_t scheduled_purge_date) override {
    return target_->DeleteKey(vault, name, deleted_date, scheduled_purge_date);
  }
  Result<DeletedKeyRecord> GetDeletedKey(std::string_view vault, std::string_view name) override {
    return target_->GetDeletedKey(vault, name);
  }
  Result<Page<DeletedKeyRecord>> ListDeletedKeys(std::string_view vault, std::string_view cursor,
                                                 int limit) override {
    return target_->ListDeletedKeys(vault, cursor, limit);
  }
  Result<KeyVersionRecord> RecoverKey(std::string_view vault, std::string_view name) override {
    return target_->RecoverKey(vault, name);
  }
  Status PurgeKey(std::string_view vault, std::string_view name) override {
    return target_->PurgeKey(vault, name);
  }
  Result<int> PurgeExpiredKeys(int64_t now) override { return target_->PurgeExpiredKeys(now); }
  Result<std::optional<RotationPolicyRecord>> GetRotationPolicy(std::string_view vault,
                                                                std::string_view name) override {
    return target_->GetRotationPolicy(vault, name);
  }
  Result<RotationPolicyRecord> PutRotationPolicy(const RotationPolicyRecord& policy) override {
    return target_->PutRotationPolicy(policy);
  }
  Result<std::vector<RotationPolicyRecord>> ListRotationPolicies() override {
    return target_->ListRotationPolicies();
  }
  Result<bool> RecordKeyEvent(const KeyEventRecord& event) override {
    return target_->RecordKeyEvent(event);
  }
  Result<std::vector<KeyEventRecord>> ListKeyEvents(std::string_view vault,
                                                    std::string_view name) override {
    return target_->ListKeyEvents(vault, name);
  }
  Status AddSecretVersion(SecretVersionRecord& record) override {
    return target_->AddSecretVersion(record);
  }
  Status RestoreSecret(std::vector<SecretVersionRecord>& versions) override {
    return target_->RestoreSecret(versions);
  }
  Result<SecretVersionRecord> GetSecretVersion(std::string_view vault, std::string_view name,
                                               std::string_view version) override {
    return target_->GetSecretVersion(vault, name, version);
  }
  Result<Page<SecretVersionRecord>> ListSecrets(std::string_view vault, std::string_view cursor,
                                                int limit) override {
    return target_->ListSecrets(vault, cursor, limit);
  }
  Result<Page<SecretVersionRecord>> ListSecretVersions(std::string_view vault,
                                                       std::string_view name,
                                                       std::string_view cursor,
                                                       int limit) override {
    return target_->ListSecretVersions(vault, name, cursor, limit);
  }
  Result<SecretVersionRecord> UpdateSecretVersion(const SecretVersionRecord& record) override {
    return target_->UpdateSecretVersion(record);
  }
  Result<DeletedSecretRecord> DeleteSecret(std::string_view vault, std::string_view name,
                                           int64_t deleted_date,
                                           int64_t scheduled_purge_date) override {
    return target_->DeleteSecret(vault, name, deleted_date, scheduled_purge_date);
  }
  Result<DeletedSecretRecord> GetDeletedSecret(std::string_view vault,
                                               std::string_view name) override {
    return target_->GetDeletedSecret(vault, name);
  }
  Result<Page<DeletedSecretRecord>> ListDeletedSecrets(std::string_view vault,
                                                       std::string_view cursor,
                                                       int limit) override {
    return target_->ListDeletedSecrets(vault, cursor, limit);
  }
  Result<SecretVersionRecord> RecoverSecret(std::string_view vault,
                                            std::string_view name) override {
    return target_->RecoverSecret(vault, name);
  }
  Status PurgeSecret(std::string_view vault, std::string_view name) override {
    return target_->PurgeSecret(vault, name);
  }
  Result<int> PurgeExpiredSecrets(int64_t now) override {
    return target_->PurgeExpiredSecrets(now);
  }
  Result<bool> RecordSecretEvent(const SecretEventRecord& event) override {
    return target_->RecordSecretEvent(event);
  }
  Result<std::vector<SecretEventRecord>> ListSecretEvents(std::string_view vault,
                                                          std::string_view name) override {
    return target_->ListSecretEvents(vault, name);
  }
  Status PurgeVault(std::string_view name) override { return target_->PurgeVault(name); }
  Result<std::pair<ResourceGroupRecord, bool>> PutResourceGroup(
      const ResourceGroupRecord& group) override {
    return target_->PutResourceGroup(group);
  }
  Result<ResourceGroupRecord> GetResourceGroup(std::string_view name) override {
    return target_->GetResourceGroup(name);
  }
  Result<std::vector<ResourceGroupRecord>> ListResourceGroups() override {
    return target_->ListResourceGroups();
  }
  Status DeleteResourceGroup(std::string_view name) override {
    return target_->DeleteResourceGroup(name);
  }
  Status AddUser(const UserRecord& user) override { return target_->AddUser(user); }
  Result<UserRecord> GetUserByUpn(std::string_view upn) override {
    return target_->GetUserByUpn(upn);
  }
  Result<UserRecord> GetUserByObjectId(std::string_view object_id) override {
    return target_->GetUserByObjectId(object_id);
  }
  Result<std::vector<UserRecord>> ListUsers() override { return target_->ListUsers(); }
  Status DeleteUser(std::string_view upn) override { return target_->DeleteUser(upn); }
  Status AddCertificateVersion(
      CertificateVersionRecord& certificate, KeyVersionRecord& key, SecretVersionRecord& secret,
      std::string_view policy,
      const std::optional<CertificateOperationRecord>& operation) override {
    return target_->AddCertificateVersion(certificate, key, secret, policy, operation);
  }
  Status BeginCertificateOperation(std::string_view policy,
                                   const CertificateOperationRecord& operation) override {
    return target_->BeginCertificateOperation(policy, operation);
  }
  Result<CertificateOperationRecord> GetCertificateOperation(std::string_view vault,
                                                             std::string_view name) override {
    return target_->GetCertificateOperation(vault, name);
  }
  Result<CertificateOperationRecord> UpdateCertificateOperation(
      const CertificateOperationRecord& operation) override {
    return target_->UpdateCertificateOperation(operation);
  }
  Result<CertificateOperationRecord> DeleteCertificateOperation(std::string_view vault,
                                                                std::string_view name) override {
    return target_->DeleteCertificateOperation(vault, name);
  }
  Result<CertificateVersionRecord> GetCertificateVersion(std::string_view vault,
                                                         std::string_view name,
                                                         std::string_view version) override {
    return target_->GetCertificateVersion(vault, name, version);
  }
  Result<Page<CertificateVersionRecord>> ListCertificates(std::string_view vault,
                                                          std::string_view cursor,
                                                          int limit) override {
    return target_->ListCertificates(vault, cursor, limit);
  }
  Result<Page<CertificateVersionRecord>> ListCertificateVersions(std::string_view vault,
                                                                 std::string_view name,
                                                                 std::string_view cursor,
                                                                 int limit) override {
    return target_->ListCertificateVersions(vault, name, cursor, limit);
  }
  Result<CertificateVersionRecord> UpdateCertificateVersion(
      const CertificateVersionRecord& record) override {
    return target_->UpdateCertificateVersion(record);
  }
  Result<CertificatePolicyRecord> GetCertificatePolicy(std::string_view vault,
                                                       std::string_view name) override {
    return target_->GetCertificatePolicy(vault, name);
  }
  Result<CertificatePolicyRecord> PutCertificatePolicy(
      const CertificatePolicyRecord& policy) override {
    return target_->PutCertificatePolicy(policy);
  }
  Result<DeletedCertificateRecord> DeleteCertificate(std::string_view vault, std::string_view name,
                                                     int64_t deleted_date,
                                                     int64_t scheduled_purge_date) override {
    return target_->DeleteCertificate(vault, name, deleted_date, scheduled_purge_date);
  }
  Result<DeletedCertificateRecord> GetDeletedCertificate(std::string_view vault,
                                                         std::string_view name) override {
    return target_->GetDeletedCertificate(vault, name);
  }
  Result<Page<DeletedCertificateRecord>> ListDeletedCertificates(std::string_view vault,
                                                                 std::string_view cursor,
                                                                 int limit) override {
    return target_->ListDeletedCertificates(vault, cursor, limit);
  }
  Result<CertificateVersionRecord> RecoverCertificate(std::string_view vault,
                                                      std::string_view name) override {
    return target_->RecoverCertificate(vault, name);
  }
  Status PurgeCertificate(std::string_view vault, std::string_view name) override {
    return target_->PurgeCertificate(vault, name);
  }
  Result<int> PurgeExpiredCertificates(int64_t now) override {
    return target_->PurgeExpiredCertificates(now);
  }
  Status RestoreCertificate(std::vector<CertificateVersionViews>& versions,
                            std::string_view policy) override {
    return target_->RestoreCertificate(versions, policy);
  }
  Result<CertificateSettingRecord> PutCertificateSetting(const CertificateSettingRecord& setting,
                                                         bool replace) override {
    return target_->PutCertificateSetting(setting, replace);
  }
  Result<CertificateSettingRecord> GetCertificateSetting(std::string_view vault,
                                                         std::string_view kind,
                                                         std::string_view name) override {
    return target_->GetCertificateSetting(vault, kind, name);
  }
  Result<Page<CertificateSettingRecord>> ListCertificateSettings(std::string_view vault,
                                                                 std::string_view kind,
                                                                 std::string_view cursor,
                                                                 int limit) override {
    return target_->ListCertificateSettings(vault, kind, cursor, limit);
  }
  Result<CertificateSettingRecord> DeleteCertificateSetting(std::string_view vault,
                                                            std::string_view kind,
                                                            std::string_view name) override {
    return target_->DeleteCertificateSetting(vault, kind, name);
  }
  Status AddPrincipal(const PrincipalRecord& principal) override {
    return target_->AddPrincipal(principal);
  }
  Result<PrincipalRecord> GetPrincipalByClientId(std::string_view client_id) override {
    return target_->GetPrincipalByClientId(client_id);
  }
  Result<std::vector<PrincipalRecord>> ListPrincipals() override {
    return target_->ListPrincipals();
  }
  Status DeletePrincipal(std::string_view name) override { return target_->DeletePrincipal(name); }
  Result<std::string> GetOrPutSetting(std::string_view key, std::string_view value) override {
    return target_->GetOrPutSetting(key, value);
  }
  Result<std::optional<std::string>> GetSetting(std::string_view key) override {
    return target_->GetSetting(key);
  }
  Status PutSetting(std::string_view key, std::string_view value) override {
    return target_->PutSetting(key, value);
  }
  StoreMaintenance& maintenance() override { return target_->maintenance(); }

 private:
  std::unique_ptr<Store> target_;
};

}  // namespace coffre::store
