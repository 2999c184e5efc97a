// KeyService: Key Vault key semantics (versions, soft delete, recover, purge) over the Store.
//
// Every method is blocking (it may generate keys or commit to disk): callers run it off the
// I/O threads. Errors come back as Key Vault errors (code, message, inner code) ready for the wire.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "common/clock.h"
#include "common/lru_cache.h"
#include "crypto/asymmetric_key.h"
#include "service/key_model.h"
#include "service/material_barrier.h"
#include "service/rotation_policy.h"
#include "store/store.h"

namespace coffre::service {

class KeyService {
 public:
  KeyService(store::Store& store, MaterialBarrier& material, const Clock& clock);

  Result<KeyBundle> CreateKey(const store::VaultRecord& vault, const CreateKeyRequest& request);
  Result<KeyBundle> ImportKey(const store::VaultRecord& vault, const ImportKeyRequest& request);
  // Empty version: latest.
  Result<KeyBundle> GetKey(const store::VaultRecord& vault, std::string_view name,
                           std::string_view version);
  Result<KeyBundle> UpdateKey(const store::VaultRecord& vault, std::string_view name,
                              std::string_view version, const UpdateKeyRequest& request);
  Result<Page<KeyItem>> ListKeys(const store::VaultRecord& vault, const PageRequest& page);
  Result<Page<KeyItem>> ListKeyVersions(const store::VaultRecord& vault, std::string_view name,
                                        const PageRequest& page);
  Result<DeletedKeyBundle> DeleteKey(const store::VaultRecord& vault, std::string_view name);
  Result<DeletedKeyBundle> GetDeletedKey(const store::VaultRecord& vault, std::string_view name);
  Result<Page<DeletedKeyItem>> ListDeletedKeys(const store::VaultRecord& vault,
                                               const PageRequest& page);
  Result<KeyBundle> RecoverDeletedKey(const store::VaultRecord& vault, std::string_view name);
  Status PurgeDeletedKey(const store::VaultRecord& vault, std::string_view name);
  // Purges soft-deleted keys whose retention has ended (all vaults). Returns how many.
  Result<int> PurgeExpiredKeys();

  // A new version with the same type, size or curve, key_ops and tags; exp from the rotation
  // policy's expiryTime if it has one.
  Result<KeyBundle> RotateKey(const store::VaultRecord& vault, std::string_view name);
  // The scheduler's rotation: only if `latest` is still the latest version (kConflict "stale"
  // otherwise), so concurrent schedulers never rotate twice for one trigger.
  Result<KeyBundle> RotateIfLatest(const store::VaultRecord& vault,
                                   const store::KeyVersionRecord& latest);
  Result<RotationPolicy> GetRotationPolicy(const store::VaultRecord& vault, std::string_view name);
  Result<RotationPolicy> UpdateRotationPolicy(const store::VaultRecord& vault,
                                              std::string_view name, RotationPolicy policy);

  // Every version of a key, sealed under the backup key (derived from the master key, so any
  // server sharing it can restore).
  Result<Bytes> BackupKey(const store::VaultRecord& vault, std::string_view name);
  Result<KeyBundle> RestoreKey(const store::VaultRecord& vault, ByteSpan backup);

  // Key Vault's error texts, shared with the HTTP layer for route-level errors.
  static Status KeyNotFound(std::string_view name_or_id);
  static Status DeletedKeyNotFound(std::string_view name);

 private:
  Result<KeyBundle> AddRotatedVersion(const store::VaultRecord& vault,
                                      const store::KeyVersionRecord& latest,
                                      std::optional<int64_t> expected_latest_sequence);
  // Seals the private material and stores a new version; maps store errors to Key Vault ones.
  // `public_params` (when the caller has them) spare BundleOf decoding the new SPKI.
  Result<KeyBundle> StoreNewVersion(const store::VaultRecord& vault, store::KeyVersionRecord record,
                                    ByteSpan private_material,
                                    const std::optional<crypto::PublicKeyParams>& public_params,
                                    std::optional<int64_t> expected_latest_sequence);

  // The bundle of a stored version: attributes, tags and the public half as JWK parameters.
  Result<KeyBundle> BundleOf(const store::VaultRecord& vault, const store::KeyVersionRecord& r);

  store::Store& store_;
  MaterialBarrier& material_;
  const Clock& clock_;
  // Decoded public keys by their SPKI DER.
  LruCache<crypto::PublicKeyParams> public_params_{4096};
};

// "CustomizedRecoverable+Purgeable" etc., from retention days and purge protection.
std::string RecoveryLevel(const store::VaultRecord& vault);

}  // namespace coffre::service
