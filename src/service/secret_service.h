// SecretService: Key Vault secret semantics (versions, soft delete, recover, purge, backup and
// restore, certificate-managed secrets) over the Store.
//
// Values are sealed by the MaterialBarrier (bound to vault, name and version) before the store
// sees them and opened only for a GET; every buffer holding a value wipes itself. Every method is
// blocking (it may commit to disk): callers run it off the I/O threads. Errors come back as Key
// Vault errors (code, message, inner code) ready for the wire, and never carry a value.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "service/key_model.h"
#include "service/material_barrier.h"
#include "store/store.h"

namespace coffre::service {

// Limits from the Key Vault documentation: a value of at most 25 KB, a content type of at most
// 255 characters.
inline constexpr size_t kMaxSecretValueBytes = 25600;
inline constexpr size_t kMaxContentTypeLength = 255;

// A secret's attributes carry the same fields as a key's.
using SecretAttributes = KeyAttributes;

struct SecretBundle {
  std::string name;
  std::string version;
  SecureString value;  // empty unless the operation returns the value (set, get)
  bool has_value = false;
  std::optional<std::string> content_type;
  SecretAttributes attributes;
  Tags tags;
  bool managed = false;
  std::optional<std::string> key_id;  // a certificate's key, for managed secrets
};

// A list entry: never the value.
struct SecretItem {
  std::string name;
  std::string version;  // empty in /secrets and /deletedsecrets listings (version-less id)
  std::optional<std::string> content_type;
  SecretAttributes attributes;
  Tags tags;
  bool managed = false;
};

struct DeletedSecretBundle {
  SecretBundle bundle;  // without the value
  DeletionInfo deletion;
};

struct DeletedSecretItem {
  SecretItem item;
  DeletionInfo deletion;
};

struct SetSecretRequest {
  std::string name;
  SecureString value;
  std::optional<std::string> content_type;
  AttributeChanges attributes;
  std::optional<Tags> tags;
};

struct UpdateSecretRequest {
  std::optional<std::string> content_type;  // absent: unchanged
  AttributeChanges attributes;
  std::optional<Tags> tags;  // replaces all tags when present
};

class SecretService {
 public:
  SecretService(store::Store& store, MaterialBarrier& material, const Clock& clock);

  Result<SecretBundle> SetSecret(const store::VaultRecord& vault, const SetSecretRequest& request);
  // A secret whose lifetime Key Vault manages (the secret half of a certificate): the secrets
  // API refuses to set, update or delete it. Not reachable through the secrets API.
  Result<SecretBundle> SetManagedSecret(const store::VaultRecord& vault,
                                        const SetSecretRequest& request, std::string key_id);
  // Empty version: latest. A disabled version -> 403 SecretDisabled.
  Result<SecretBundle> GetSecret(const store::VaultRecord& vault, std::string_view name,
                                 std::string_view version);
  Result<SecretBundle> UpdateSecret(const store::VaultRecord& vault, std::string_view name,
                                    std::string_view version, const UpdateSecretRequest& request);
  Result<Page<SecretItem>> ListSecrets(const store::VaultRecord& vault, const PageRequest& page);
  Result<Page<SecretItem>> ListSecretVersions(const store::VaultRecord& vault,
                                              std::string_view name, const PageRequest& page);
  Result<DeletedSecretBundle> DeleteSecret(const store::VaultRecord& vault, std::string_view name);
  Result<DeletedSecretBundle> GetDeletedSecret(const store::VaultRecord& vault,
                                               std::string_view name);
  Result<Page<DeletedSecretItem>> ListDeletedSecrets(const store::VaultRecord& vault,
                                                     const PageRequest& page);
  Result<SecretBundle> RecoverDeletedSecret(const store::VaultRecord& vault, std::string_view name);
  Status PurgeDeletedSecret(const store::VaultRecord& vault, std::string_view name);
  // Purges soft-deleted secrets whose retention has ended (all vaults). Returns how many.
  Result<int> PurgeExpiredSecrets();

  // Every version of a secret, sealed under the backup key (derived from the master key, so
  // any server sharing it can restore).
  Result<Bytes> BackupSecret(const store::VaultRecord& vault, std::string_view name);
  Result<SecretBundle> RestoreSecret(const store::VaultRecord& vault, ByteSpan backup);

  // Key Vault's error texts, shared with the HTTP layer for route-level errors.
  static Status SecretNotFound(std::string_view name_or_id);
  static Status DeletedSecretNotFound(std::string_view name);

 private:
  Result<SecretBundle> AddVersion(const store::VaultRecord& vault, const SetSecretRequest& request,
                                  std::optional<std::string> key_id);

  store::Store& store_;
  MaterialBarrier& material_;
  const Clock& clock_;
};

}  // namespace coffre::service
