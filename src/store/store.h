// Store: the one storage interface. One record layer (store/sql) implements it over two SQL
// engines: SQLite (embedded default) and PostgreSQL (shared by replicas).
//
// The store keeps records; it knows nothing of Key Vault JSON or HTTP. Private key material
// reaches it only sealed (the service layer seals it); the store never sees plaintext. Key and
// vault names compare case-insensitively (ASCII): implementations index by the lowercased name
// and keep the name as first written for display. Every mutating call is one transaction,
// durable when it returns OK.
//
// Errors: kNotFound when the addressed vault/key/version/principal does not exist in the state
// the call needs; kConflict when a key is soft-deleted (AddKeyVersion) or a unique name is taken;
// kInternal for I/O or corruption; kUnavailable when the database is unreachable or stays busy
// (worth a retry later); kBadRequest for arguments no record can have. Inner codes name the
// store's reason where callers must tell reasons apart ("deleted", "stale", "exists", ...).
// Codes are generic (e.g. "NotFound") and messages are for logs, not for the wire: the layers
// above choose the codes and words callers see.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coffre/status.h"
#include "common/bytes.h"

namespace coffre::store {

using Tags = std::vector<std::pair<std::string, std::string>>;  // sorted by name

// Why a call failed, where callers must tell reasons apart (the inner code of its Status). Each
// is written here once; callers test with HasReason, never with string literals of their own.
namespace reason {
inline constexpr std::string_view kDeleted = "deleted";                     // key is soft-deleted
inline constexpr std::string_view kStale = "stale";                         // latest moved on
inline constexpr std::string_view kVersionExists = "version-exists";        // version id taken
inline constexpr std::string_view kExists = "exists";                       // restore over a name
inline constexpr std::string_view kDuplicateVersion = "duplicate-version";  // in one restore
inline constexpr std::string_view kNotEmpty = "not-empty";                  // vault holds keys
inline constexpr std::string_view kManaged = "managed";  // lifetime managed by a certificate
inline constexpr std::string_view kPending = "pending";  // a certificate operation is in progress
inline constexpr std::string_view kNameTaken = "name-taken";           // principal name
inline constexpr std::string_view kClientIdTaken = "client-id-taken";  // principal client id
inline constexpr std::string_view kUpnTaken = "upn-taken";             // user principal name
inline constexpr std::string_view kGroupNotEmpty = "group-not-empty";  // group holds vaults
}  // namespace reason

inline bool HasReason(const Status& status, std::string_view why) {
  return !status.ok() && status.inner_code() == why;
}

struct VaultRecord {
  std::string name;  // lowercase
  int retention_days = 90;
  bool purge_protection = false;
  bool rbac_authorization = false;  // RBAC instead of access policies
  int64_t created = 0;
  // Where Resource Manager files the vault; empty for vaults made another way (admin API, --dev).
  std::string resource_group = {};  // as first written
  std::string location = {};
  std::string sku = "standard";  // "standard" or "premium"
  Tags tags = {};                // the resource's tags (sorted by name)
  // Set while the vault is soft-deleted (through Resource Manager): it serves nothing then and
  // its name stays taken until it is purged.
  std::optional<int64_t> deleted_date = std::nullopt;
  std::optional<int64_t> scheduled_purge_date = std::nullopt;
};

// A Resource Manager resource group (one subscription per server: its tenant).
struct ResourceGroupRecord {
  std::string name;  // as first written; unique case-insensitively
  std::string location;
  Tags tags;
  int64_t created = 0;
};

// A user principal: signs in with a password (resource-owner password grant).
struct UserRecord {
  std::string upn;        // user principal name, e.g. alice@example.test; unique (case-insens.)
  std::string object_id;  // oid (UUID, lowercase)
  std::string display_name;
  std::string password_hash;  // crypto::HashSecret output; never the password
  int64_t created = 0;
};

// One access-policy entry of a vault: what an object id (optionally only when signed in through
// one application) may do, by Azure permission name.
struct AccessPolicyRecord {
  std::string vault;
  std::string object_id;       // lowercase
  std::string application_id;  // lowercase; empty: any application
  std::vector<std::string> keys;
  std::vector<std::string> secrets;
  std::vector<std::string> certificates;
};

// A change to one access-policy entry (Store::MergeAccessPolicy): the permission lists given
// replace the stored ones, those not given (nullopt) stay as they are.
struct AccessPolicyChange {
  std::string vault;
  std::string object_id;       // lowercase
  std::string application_id;  // lowercase; empty: any application
  std::optional<std::vector<std::string>> keys;
  std::optional<std::vector<std::string>> secrets;
  std::optional<std::vector<std::string>> certificates;
};

// A role granted to a principal at a scope ("/", "/vaults/V", "/vaults/V/keys/K").
struct RoleAssignmentRecord {
  std::string id;            // lowercase UUID
  std::string role;          // built-in role name
  std::string principal_id;  // lowercase object id
  std::string scope;         // lowercase
  int64_t created = 0;
};

struct KeyVersionRecord {
  std::string vault;    // lowercase vault name
  std::string name;     // key name, case as first created
  std::string version;  // 32 lowercase hex chars
  // Assigned by AddKeyVersion: increases with every version added to the key; the version
  // with the highest sequence is "latest".
  int64_t sequence = 0;
  std::string key_type;              // e.g. "RSA", "EC-HSM"; opaque here
  std::vector<std::string> key_ops;  // opaque here
  bool enabled = true;
  std::optional<int64_t> not_before;
  std::optional<int64_t> expires;
  int64_t created = 0;
  int64_t updated = 0;
  Tags tags;
  Bytes public_key;          // opaque public material (SubjectPublicKeyInfo DER)
  Bytes sealed_private_key;  // sealed before it gets here; never plaintext
};

struct DeletedKeyRecord {
  KeyVersionRecord latest;  // the latest version at deletion time
  int64_t deleted_date = 0;
  int64_t scheduled_purge_date = 0;
};

// A page of a listing. `next_cursor` is empty at the end; otherwise pass it back to continue
// after the last item. Order is stable: keys by lowercase name, versions by sequence.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;
};

// A key's rotation policy (durations are ISO 8601 text, opaque here).
struct LifetimeActionRecord {
  std::string action;    // "Rotate" or "Notify"
  std::string trigger;   // "timeAfterCreate" or "timeBeforeExpiry"
  std::string duration;  // e.g. "P90D"
};

struct RotationPolicyRecord {
  std::string vault;
  std::string name;
  std::vector<LifetimeActionRecord> actions;
  std::optional<std::string> expiry_time;  // e.g. "P2Y"
  int64_t created = 0;
  int64_t updated = 0;
};

// Something that happened to a key version that must happen only once (e.g. a near-expiry
// notification).
struct KeyEventRecord {
  std::string vault;
  std::string name;
  std::string version;
  std::string kind;  // e.g. "NearExpiry"
  int64_t time = 0;
};

// One version of any key, active or soft-deleted (Store::ScanKeyVersions).
struct StoredKeyVersion {
  KeyVersionRecord record;
  bool deleted = false;  // the key is soft-deleted
};

// One version of a secret. The value reaches the store only sealed.
struct SecretVersionRecord {
  std::string vault;    // lowercase vault name
  std::string name;     // secret name, case as first created
  std::string version;  // 32 lowercase hex chars
  // Assigned by AddSecretVersion: increases with every version; the highest is "latest".
  int64_t sequence = 0;
  std::optional<std::string> content_type;
  bool enabled = true;
  std::optional<int64_t> not_before;
  std::optional<int64_t> expires;
  int64_t created = 0;
  int64_t updated = 0;
  Tags tags;
  // The secret backs a certificate: its lifetime is managed by Key Vault, not by the secrets API.
  bool managed = false;
  std::optional<std::string> key_id;  // for a managed secret: the certificate's key
  Bytes sealed_value;                 // sealed before it gets here; never plaintext
};

struct DeletedSecretRecord {
  SecretVersionRecord latest;  // the latest version at deletion time
  int64_t deleted_date = 0;
  int64_t scheduled_purge_date = 0;
};

// Something that happened to a secret version that must happen only once (e.g. a near-expiry
// notification).
struct SecretEventRecord {
  std::string vault;
  std::string name;
  std::string version;
  std::string kind;  // e.g. "SecretNearExpiry"
  int64_t time = 0;
};

// One version of a certificate: the certificate itself. Its key and secret (same name, same
// version) are stored as a key version and a managed secret version, written with it in one
// transaction (Store::AddCertificateVersion), so none of the three views exists without the
// others.
struct CertificateVersionRecord {
  std::string vault;    // lowercase vault name
  std::string name;     // certificate name, case as first created
  std::string version;  // 32 lowercase hex chars
  // Assigned by AddCertificateVersion: increases with every version; the highest is "latest".
  int64_t sequence = 0;
  Bytes cer;  // the leaf certificate, DER
  Bytes x5t;  // SHA-1 thumbprint of `cer`
  bool enabled = true;
  std::optional<int64_t> not_before;
  std::optional<int64_t> expires;
  int64_t created = 0;
  int64_t updated = 0;
  Tags tags;
  std::string key_version;     // the backing key's version
  std::string secret_version;  // the backing secret's version
};

struct DeletedCertificateRecord {
  CertificateVersionRecord latest;  // the latest version at deletion time
  std::string policy;               // the policy document at deletion time
  int64_t deleted_date = 0;
  int64_t scheduled_purge_date = 0;
};

// A certificate's issuance policy: a JSON document owned by the service layer, opaque here.
struct CertificatePolicyRecord {
  std::string vault;
  std::string name;
  std::string policy;
  int64_t updated = 0;
};

// The latest issuance operation of a certificate (one per name). While it is in progress it
// holds the certificate request and the sealed private key that a merge completes.
struct CertificateOperationRecord {
  std::string vault;
  std::string name;
  std::string request_id;  // lowercase hex, names this operation
  std::string status;      // "inProgress", "completed", "failed", "cancelled"; opaque here
  std::optional<std::string> status_details;
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  bool cancellation_requested = false;
  std::string issuer;          // issuer name of the policy, e.g. "Self", "Unknown"
  std::string target_version;  // the version a completion creates
  Bytes csr;                   // PKCS#10 request, DER (empty when none)
  std::string key_type;        // e.g. "RSA", "EC"; opaque here
  Bytes public_key;            // SubjectPublicKeyInfo DER of the pending key
  Bytes sealed_private_key;    // sealed before it gets here; never plaintext
  int64_t created = 0;
  int64_t updated = 0;
};

// An issuer or the contacts of a vault's certificates: a JSON document owned by the service
// layer (opaque here) and, sealed before it gets here, what must not be readable at rest (an
// issuer's password). `kind` is e.g. "issuer" or "contacts"; `name` is unique per vault and kind
// (case-insensitive).
struct CertificateSettingRecord {
  std::string vault;
  std::string kind;
  std::string name;
  std::string document;
  Bytes sealed;
  int64_t created = 0;
  int64_t updated = 0;
};

// One version of a certificate with its key and secret versions, as a restore writes it.
struct CertificateVersionViews {
  CertificateVersionRecord certificate;
  KeyVersionRecord key;
  SecretVersionRecord secret;
};

// One version of any secret, active or soft-deleted (StoreMaintenance::ScanSecretVersions).
struct StoredSecretVersion {
  SecretVersionRecord record;
  bool deleted = false;  // the secret is soft-deleted
};

struct PrincipalRecord {
  std::string name;         // display name, unique (case-insensitive)
  std::string client_id;    // appId (UUID)
  std::string object_id;    // oid (UUID)
  std::string secret_hash;  // crypto::HashSecret output; never the secret
  int64_t created = 0;
};

// What a store offers background jobs and operators besides records (as Vault keeps its HA
// backend apart from its physical backend): job leases, whole-store scans and checks, and
// whether reads are local.
class StoreMaintenance {
 public:
  virtual ~StoreMaintenance() = default;

  // ---- background-job leases
  // Several servers (replicas) may share one database. Background jobs (the scheduled purge,
  // auto-rotation, near-expiry notification) call this before each run and skip the run unless it
  // returns true, so each job runs on one replica at a time. `holder` identifies the caller (e.g.
  // a random id made at start-up, the same for every call of that process).
  // Atomically takes or renews the lease on `job` until now + ttl_seconds and returns true if it
  // was free, expired (its end <= now) or already held by `holder`; returns false while another
  // holder's lease runs. A holder that stops renewing loses the lease when it expires.
  // kBadRequest if job or holder is empty or ttl_seconds < 1.
  virtual Result<bool> TryAcquireJobLease(std::string_view job, std::string_view holder,
                                          int64_t now, int64_t ttl_seconds) = 0;

  // ---- whole-store checks (`coffre store check`)
  // Every stored version of every key, active and soft-deleted, in every vault, ordered by
  // (vault, lowercase key name, sequence), after `cursor` (empty: from the start). Each page is
  // its own snapshot: versions changed while a scan runs may be seen in either state.
  virtual Result<Page<StoredKeyVersion>> ScanKeyVersions(std::string_view cursor, int limit) = 0;
  // The same for secrets: every version of every secret, ordered by (vault, lowercase name,
  // sequence), after `cursor`.
  virtual Result<Page<StoredSecretVersion>> ScanSecretVersions(std::string_view cursor,
                                                               int limit) = 0;
  // Checks the database's own integrity (where the backend can) and the references between
  // rows: keys without versions, a key's next sequence not above its latest version's, versions,
  // policies and events of keys or vaults that do not exist, and the like. Returns one line per
  // problem found (naming vaults, keys and versions, never their material); empty when sound.
  // An error status means the check itself could not run (which a caller should treat as damage
  // too when it is kInternal).
  virtual Result<std::vector<std::string>> CheckConsistency() = 0;

  // True when a read is served in this process (SQLite's page cache and local disk), false when
  // every read waits on a network round trip (PostgreSQL). Callers use it to decide whether a
  // read may run on a thread that must not idle.
  virtual bool ReadsAreLocal() const = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- vaults
  // Creates the vault if absent; an existing vault is left unchanged (returns OK).
  virtual Status PutVault(const VaultRecord& vault) = 0;
  // Creates the vault; kConflict (reason::kExists) if one of that name exists.
  virtual Status CreateVault(const VaultRecord& vault) = 0;
  virtual Result<VaultRecord> GetVault(std::string_view name) = 0;
  virtual Result<std::vector<VaultRecord>> ListVaults() = 0;
  // Writes retention, purge protection and the permission model of an existing vault
  // (kNotFound otherwise).
  virtual Status UpdateVault(const VaultRecord& vault) = 0;
  // Reads the vault under a row lock, lets `change` edit it (its name and creation time stay),
  // and writes the result back, in one transaction; returns what was stored. kNotFound if there
  // is no such vault; an error from `change` is returned as it is and nothing is written.
  // `change` may run more than once (a transaction can be retried), so it must only edit.
  virtual Result<VaultRecord> ModifyVault(std::string_view name,
                                          const std::function<Status(VaultRecord&)>& change) = 0;
  // Removes a vault and its access policies. kConflict (inner code "not-empty") while it holds
  // keys or secrets, active or soft-deleted; kNotFound if there is no such vault.
  virtual Status DeleteVault(std::string_view name) = 0;
  // Removes a vault with everything in it (keys and secrets, active or soft-deleted, their
  // versions, policies and events; its access policies and role assignments), in one
  // transaction: purging a soft-deleted vault. kNotFound if there is no such vault.
  virtual Status PurgeVault(std::string_view name) = 0;

  // ---- resource groups (Resource Manager)
  // Creates the group, or updates location and tags of an existing one (the name keeps its first
  // spelling); returns what is stored and whether it was created.
  virtual Result<std::pair<ResourceGroupRecord, bool>> PutResourceGroup(
      const ResourceGroupRecord& group) = 0;
  virtual Result<ResourceGroupRecord> GetResourceGroup(std::string_view name) = 0;
  virtual Result<std::vector<ResourceGroupRecord>> ListResourceGroups() = 0;
  // kConflict (reason::kGroupNotEmpty) while an active vault names the group;
  // kNotFound if there is no such group.
  virtual Status DeleteResourceGroup(std::string_view name) = 0;

  // ---- access policies (one per vault, object id and application id)
  // Creates or replaces; kNotFound if the vault does not exist.
  virtual Status PutAccessPolicy(const AccessPolicyRecord& policy) = 0;
  // Applies `change` to its entry as one atomic step (concurrent merges of different lists of
  // one entry both take effect), creating the entry with empty lists first if absent. Returns
  // the entry as stored. kNotFound if the vault does not exist.
  virtual Result<AccessPolicyRecord> MergeAccessPolicy(const AccessPolicyChange& change) = 0;
  virtual Status DeleteAccessPolicy(std::string_view vault, std::string_view object_id,
                                    std::string_view application_id) = 0;
  virtual Result<std::vector<AccessPolicyRecord>> ListAccessPolicies(std::string_view vault) = 0;

  // ---- role assignments (server-wide; scopes name vaults and keys)
  // kConflict if the id exists.
  virtual Status AddRoleAssignment(const RoleAssignmentRecord& assignment) = 0;
  virtual Status DeleteRoleAssignment(std::string_view id) = 0;
  virtual Result<std::vector<RoleAssignmentRecord>> ListRoleAssignments() = 0;
  virtual Result<std::vector<RoleAssignmentRecord>> ListRoleAssignmentsFor(
      std::string_view principal_id) = 0;

  // ---- keys
  // Adds a version to an active key, or creates the key with this first version.
  // kConflict if the key is soft-deleted; kConflict if the version id already exists.
  // Sets record.sequence. kNotFound if the vault does not exist.
  // With expected_latest_sequence, the version is added only if the key's latest version still
  // has that sequence (kConflict, inner code "stale", otherwise): rotations decided on a
  // snapshot never stack up when several callers decide at once.
  virtual Status AddKeyVersion(KeyVersionRecord& record,
                               std::optional<int64_t> expected_latest_sequence) = 0;
  Status AddKeyVersion(KeyVersionRecord& record) { return AddKeyVersion(record, std::nullopt); }
  // Restores a key from a backup: every version with its own version id, in the given order
  // (sequences assigned in that order), and its rotation policy if given, in one transaction.
  // kConflict (inner code "exists") if the name exists in the vault, active or deleted.
  virtual Status RestoreKey(std::vector<KeyVersionRecord>& versions,
                            const std::optional<RotationPolicyRecord>& policy) = 0;
  // An active key's version; empty `version` = latest. kNotFound otherwise.
  virtual Result<KeyVersionRecord> GetKeyVersion(std::string_view vault, std::string_view name,
                                                 std::string_view version) = 0;
  // Active keys, one item each (its latest version), by lowercase name after `cursor`.
  virtual Result<Page<KeyVersionRecord>> ListKeys(std::string_view vault, std::string_view cursor,
                                                  int limit) = 0;
  // Every version of an active key, by sequence after `cursor`. kNotFound if no such key.
  virtual Result<Page<KeyVersionRecord>> ListKeyVersions(std::string_view vault,
                                                         std::string_view name,
                                                         std::string_view cursor, int limit) = 0;
  // Writes the mutable fields (enabled, not_before, expires, key_ops, tags, updated) of the
  // version named by record.vault/name/version of an active key; returns the stored result.
  virtual Result<KeyVersionRecord> UpdateKeyVersion(const KeyVersionRecord& record) = 0;
  // Soft-deletes an active key (all versions). kNotFound if not active.
  virtual Result<DeletedKeyRecord> DeleteKey(std::string_view vault, std::string_view name,
                                             int64_t deleted_date,
                                             int64_t scheduled_purge_date) = 0;
  virtual Result<DeletedKeyRecord> GetDeletedKey(std::string_view vault, std::string_view name) = 0;
  virtual Result<Page<DeletedKeyRecord>> ListDeletedKeys(std::string_view vault,
                                                         std::string_view cursor, int limit) = 0;
  // Makes a soft-deleted key active again; returns its latest version.
  virtual Result<KeyVersionRecord> RecoverKey(std::string_view vault, std::string_view name) = 0;
  // Removes a soft-deleted key and all its versions for good. kNotFound if not soft-deleted.
  virtual Status PurgeKey(std::string_view vault, std::string_view name) = 0;
  // Purges every soft-deleted key whose scheduled purge date is <= now; returns how many.
  virtual Result<int> PurgeExpiredKeys(int64_t now) = 0;

  // ---- rotation policies (kept while a key is soft-deleted, removed when it is purged)
  // kNotFound if the key is not active; nullopt if it has no policy.
  virtual Result<std::optional<RotationPolicyRecord>> GetRotationPolicy(std::string_view vault,
                                                                        std::string_view name) = 0;
  // Creates or replaces the policy of an active key (kNotFound otherwise). On replace the
  // stored `created` is kept. Returns the stored policy.
  virtual Result<RotationPolicyRecord> PutRotationPolicy(const RotationPolicyRecord& policy) = 0;
  // Every policy of an active key, all vaults (for the rotation scheduler).
  virtual Result<std::vector<RotationPolicyRecord>> ListRotationPolicies() = 0;

  // ---- key events
  // Records the event unless one with the same vault, name, version and kind exists; returns
  // whether it was new. kNotFound if the key is not active.
  virtual Result<bool> RecordKeyEvent(const KeyEventRecord& event) = 0;
  // Oldest first. Events go with the key when it is purged.
  virtual Result<std::vector<KeyEventRecord>> ListKeyEvents(std::string_view vault,
                                                            std::string_view name) = 0;

  // ---- secrets (the same rules as keys: versions, soft delete, recover, purge, restore)
  // Adds a version to an active secret, or creates the secret with this first version. Sets
  // record.sequence (and record.name to the name as first written). kConflict (reason::kDeleted)
  // if the secret is soft-deleted; kConflict (reason::kManaged) if the record is not managed
  // but the secret's latest version is; kConflict (reason::kVersionExists) if the version id
  // exists; kNotFound if the vault does not exist.
  virtual Status AddSecretVersion(SecretVersionRecord& record) = 0;
  // Restores a secret from a backup: every version in the given order, in one transaction.
  // kConflict (reason::kExists) if the name exists in the vault, active or deleted.
  virtual Status RestoreSecret(std::vector<SecretVersionRecord>& versions) = 0;
  // An active secret's version; empty `version` = latest. kNotFound otherwise.
  virtual Result<SecretVersionRecord> GetSecretVersion(std::string_view vault,
                                                       std::string_view name,
                                                       std::string_view version) = 0;
  // Active secrets, one item each (its latest version), by lowercase name after `cursor`.
  virtual Result<Page<SecretVersionRecord>> ListSecrets(std::string_view vault,
                                                        std::string_view cursor, int limit) = 0;
  // Every version of an active secret, by sequence after `cursor`. kNotFound if no such secret.
  virtual Result<Page<SecretVersionRecord>> ListSecretVersions(std::string_view vault,
                                                               std::string_view name,
                                                               std::string_view cursor,
                                                               int limit) = 0;
  // Writes the mutable fields (content_type, enabled, not_before, expires, tags, updated) of
  // the version named by record.vault/name/version (empty: latest) of an active secret; the
  // value, managed flag and key id never change. Returns the stored result.
  virtual Result<SecretVersionRecord> UpdateSecretVersion(const SecretVersionRecord& record) = 0;
  // Soft-deletes an active secret (all versions). kNotFound if not active.
  virtual Result<DeletedSecretRecord> DeleteSecret(std::string_view vault, std::string_view name,
                                                   int64_t deleted_date,
                                                   int64_t scheduled_purge_date) = 0;
  virtual Result<DeletedSecretRecord> GetDeletedSecret(std::string_view vault,
                                                       std::string_view name) = 0;
  virtual Result<Page<DeletedSecretRecord>> ListDeletedSecrets(std::string_view vault,
                                                               std::string_view cursor,
                                                               int limit) = 0;
  // Makes a soft-deleted secret active again; returns its latest version.
  virtual Result<SecretVersionRecord> RecoverSecret(std::string_view vault,
                                                    std::string_view name) = 0;
  // Removes a soft-deleted secret and all its versions for good. kNotFound if not soft-deleted.
  virtual Status PurgeSecret(std::string_view vault, std::string_view name) = 0;
  // Purges every soft-deleted secret whose scheduled purge date is <= now; returns how many.
  virtual Result<int> PurgeExpiredSecrets(int64_t now) = 0;
  // Records the event unless one with the same vault, name, version and kind exists; returns
  // whether it was new. kNotFound if the secret is not active. Events go with a purged secret.
  virtual Result<bool> RecordSecretEvent(const SecretEventRecord& event) = 0;
  // Oldest first.
  virtual Result<std::vector<SecretEventRecord>> ListSecretEvents(std::string_view vault,
                                                                  std::string_view name) = 0;

  // ---- certificates (versions, policy, the pending operation, soft delete, recover, purge)
  // Adds a certificate version together with its key version and its managed secret version
  // (both named as the certificate), writes `policy` as the certificate's policy and, if given,
  // `operation` as its operation, all in one transaction. Creates the certificate if it does not
  // exist. Sets the sequences (and names as first written) in all three records. kConflict
  // (reason::kDeleted) if the certificate, its key or its secret is soft-deleted; kConflict
  // (reason::kManaged) if a key or secret of that name exists that no certificate owns;
  // kConflict (reason::kVersionExists) if a version id is taken; kNotFound if the vault does
  // not exist. `secret.managed` must be true.
  virtual Status AddCertificateVersion(
      CertificateVersionRecord& certificate, KeyVersionRecord& key, SecretVersionRecord& secret,
      std::string_view policy, const std::optional<CertificateOperationRecord>& operation) = 0;
  // Starts an operation that ends later (e.g. a certificate request for an outside issuer):
  // creates the certificate if absent (with no versions yet), writes `policy` and `operation`
  // in one transaction. kConflict (reason::kDeleted) if the certificate is soft-deleted,
  // kConflict (reason::kPending) if its operation is still "inProgress", kConflict
  // (reason::kManaged) if a key or secret of that name exists that no certificate owns.
  virtual Status BeginCertificateOperation(std::string_view policy,
                                           const CertificateOperationRecord& operation) = 0;
  // The operation of an active certificate; kNotFound if none.
  virtual Result<CertificateOperationRecord> GetCertificateOperation(std::string_view vault,
                                                                     std::string_view name) = 0;
  // Writes status, details, error and cancellation of the active certificate's operation with
  // the same request id; returns what was stored. kNotFound if there is none (or it has another
  // request id).
  virtual Result<CertificateOperationRecord> UpdateCertificateOperation(
      const CertificateOperationRecord& operation) = 0;
  // Removes the operation of an active certificate; returns it as it was. A certificate that
  // has no versions goes with it. kNotFound if there is none.
  virtual Result<CertificateOperationRecord> DeleteCertificateOperation(std::string_view vault,
                                                                        std::string_view name) = 0;
  // An active certificate's version; empty `version` = latest. kNotFound otherwise (also for a
  // certificate that has only a pending operation).
  virtual Result<CertificateVersionRecord> GetCertificateVersion(std::string_view vault,
                                                                 std::string_view name,
                                                                 std::string_view version) = 0;
  // Active certificates with at least one version, one item each (the latest), by lowercase
  // name after `cursor`.
  virtual Result<Page<CertificateVersionRecord>> ListCertificates(std::string_view vault,
                                                                  std::string_view cursor,
                                                                  int limit) = 0;
  // Every version of an active certificate, by sequence after `cursor`.
  virtual Result<Page<CertificateVersionRecord>> ListCertificateVersions(std::string_view vault,
                                                                         std::string_view name,
                                                                         std::string_view cursor,
                                                                         int limit) = 0;
  // Writes enabled, not_before, expires, tags and updated of a version (empty: latest) of an
  // active certificate, and enabled, not_before and expires of its key and secret versions, in
  // one transaction. Returns the stored certificate version.
  virtual Result<CertificateVersionRecord> UpdateCertificateVersion(
      const CertificateVersionRecord& record) = 0;
  // The policy of an active certificate (kNotFound otherwise).
  virtual Result<CertificatePolicyRecord> GetCertificatePolicy(std::string_view vault,
                                                               std::string_view name) = 0;
  // Replaces the policy of an active certificate; returns what was stored.
  virtual Result<CertificatePolicyRecord> PutCertificatePolicy(
      const CertificatePolicyRecord& policy) = 0;
  // Soft-deletes an active certificate that has versions, with its key and secret, in one
  // transaction. kNotFound if not active.
  virtual Result<DeletedCertificateRecord> DeleteCertificate(std::string_view vault,
                                                             std::string_view name,
                                                             int64_t deleted_date,
                                                             int64_t scheduled_purge_date) = 0;
  virtual Result<DeletedCertificateRecord> GetDeletedCertificate(std::string_view vault,
                                                                 std::string_view name) = 0;
  virtual Result<Page<DeletedCertificateRecord>> ListDeletedCertificates(std::string_view vault,
                                                                         std::string_view cursor,
                                                                         int limit) = 0;
  // Makes a soft-deleted certificate, its key and its secret active again; returns its latest
  // version.
  virtual Result<CertificateVersionRecord> RecoverCertificate(std::string_view vault,
                                                              std::string_view name) = 0;
  // Removes a soft-deleted certificate, its key and its secret for good. kNotFound if not
  // soft-deleted.
  virtual Status PurgeCertificate(std::string_view vault, std::string_view name) = 0;
  // Purges every soft-deleted certificate (with its key and secret) whose scheduled purge date
  // is <= now; returns how many certificates.
  virtual Result<int> PurgeExpiredCertificates(int64_t now) = 0;
  // Restores a certificate from a backup: every version with its key and secret, in the given
  // order, and its policy, in one transaction. kConflict if a certificate, key or secret of that
  // name exists (deleted or not), kNotFound if the vault does not exist.
  virtual Status RestoreCertificate(std::vector<CertificateVersionViews>& versions,
                                    std::string_view policy) = 0;
  // Creates or (if `replace`) replaces a setting, keeping `created` of a replaced one; returns
  // what is stored (without `replace`, an existing setting is left as it is and returned).
  // kNotFound if the vault does not exist.
  virtual Result<CertificateSettingRecord> PutCertificateSetting(
      const CertificateSettingRecord& setting, bool replace) = 0;
  // kNotFound if absent.
  virtual Result<CertificateSettingRecord> GetCertificateSetting(std::string_view vault,
                                                                 std::string_view kind,
                                                                 std::string_view name) = 0;
  // By lowercase name after `cursor`.
  virtual Result<Page<CertificateSettingRecord>> ListCertificateSettings(std::string_view vault,
                                                                         std::string_view kind,
                                                                         std::string_view cursor,
                                                                         int limit) = 0;
  // Removes a setting; returns it as it was. kNotFound if absent.
  virtual Result<CertificateSettingRecord> DeleteCertificateSetting(std::string_view vault,
                                                                    std::string_view kind,
                                                                    std::string_view name) = 0;

  // ---- principals (client-credential identities)
  // kConflict if the name or client id is taken.
  virtual Status AddPrincipal(const PrincipalRecord& principal) = 0;
  virtual Result<PrincipalRecord> GetPrincipalByClientId(std::string_view client_id) = 0;
  virtual Result<std::vector<PrincipalRecord>> ListPrincipals() = 0;
  virtual Status DeletePrincipal(std::string_view name) = 0;

  // ---- users (password sign-in)
  // kConflict (reason::kUpnTaken) if the UPN is taken (case-insensitive), kConflict if the
  // object id is.
  virtual Status AddUser(const UserRecord& user) = 0;
  virtual Result<UserRecord> GetUserByUpn(std::string_view upn) = 0;
  virtual Result<UserRecord> GetUserByObjectId(std::string_view object_id) = 0;
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;
  virtual Status DeleteUser(std::string_view upn) = 0;

  // ---- server settings (small text values: tenant id, identity ids)
  // Returns the stored value, storing `value` first if the setting is absent (atomic).
  virtual Result<std::string> GetOrPutSetting(std::string_view key, std::string_view value) = 0;
  // The stored value, or nullopt if the setting is absent.
  virtual Result<std::optional<std::string>> GetSetting(std::string_view key) = 0;
  // Stores `value`, replacing any earlier one.
  virtual Status PutSetting(std::string_view key, std::string_view value) = 0;

  // Leases, whole-store scans and checks, and where reads run: what background jobs and
  // operators need, apart from the records.
  virtual StoreMaintenance& maintenance() = 0;
};

// Opens (creating if needed) an SQLite store in WAL mode with synchronous=FULL, applying the
// schema. Safe to use from many threads.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

// Opens a PostgreSQL store from a libpq URL ("postgresql://user:password@host:port/db?..."),
// applying the schema (migrations run once even when several replicas start at the same moment).
// Keeps a pool of up to 8 connections, reconnects broken ones, retries transactions that hit a
// serialization failure or deadlock, and sets a 30 s statement timeout unless the URL, role or
// database sets one. Several processes may use one database at once. Safe to use from many
// threads. Error messages never contain the password.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url);

// Opens the store a URL names: "postgresql://..." or "postgres://..." -> PostgreSQL;
// "sqlite:PATH" or a bare PATH -> SQLite. kBadRequest for any other "scheme://" URL.
Result<std::unique_ptr<Store>> OpenStore(const std::string& url);

}  // namespace coffre::store
