// MaterialBarrier: the one way material crosses the master key. Everything secret the store
// keeps (a key version's private key, a secret version's value; later certificate keys) is sealed
// here before it is stored and opened here after it is read, so the store only ever sees sealed
// bytes. It also keeps the unsealed, parsed key versions, so the hot path never unseals or
// re-parses PKCS#8 per request.
//
// A version's material never changes (updates touch attributes only), so a cached entry is never
// stale; entries are dropped when their key is deleted or purged (ForgetKey), and the least
// recently used ones when the cache is full.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "common/bytes.h"
#include "common/lru_cache.h"
#include "service/barrier.h"
#include "service/key_material.h"
#include "store/store.h"

namespace coffre::service {

// Where a sealed blob belongs. Sealing binds the blob to it: a blob copied to another row, or
// opened as another kind of material, does not open. Names compare case-insensitively, as the
// store's do.
struct SealBinding {
  // The kind of material and the layout of this binding; a new kind gets a new label, and the
  // label's version goes up if the fields change meaning.
  std::string_view purpose;
  std::string_view vault;
  std::string_view name;
  std::string_view version;

  // A key version's private key (PKCS#8 DER, or the raw oct key).
  static SealBinding KeyVersion(std::string_view vault, std::string_view name,
                                std::string_view version);
  // A secret version's value.
  static SealBinding SecretVersion(std::string_view vault, std::string_view name,
                                   std::string_view version);

  // The associated data the blob is sealed with: the purpose and the lowercased names, one per
  // line ('\n' cannot occur in vault, object or version names, so it is unambiguous).
  std::string Context() const;
};

class MaterialBarrier {
 public:
  explicit MaterialBarrier(Barrier barrier, size_t cache_capacity = 4096)
      : barrier_(std::move(barrier)), key_cache_(cache_capacity) {}
  MaterialBarrier(const MaterialBarrier&) = delete;
  MaterialBarrier& operator=(const MaterialBarrier&) = delete;

  // Any material bound to one row.
  Result<Bytes> Seal(const SealBinding& binding, ByteSpan plaintext) const;
  Result<SecureBytes> Open(const SealBinding& binding, ByteSpan sealed) const;

  // ---- key versions
  // Seals `private_material` for the version record.vault/name/version.
  Result<Bytes> SealKeyVersion(const store::KeyVersionRecord& record,
                               ByteSpan private_material) const;
  // The version's private material as stored before sealing (no cache: backups and checks).
  Result<SecureBytes> OpenKeyVersion(const store::KeyVersionRecord& record) const;
  // The version's material, parsed, from the cache or opened now. Errors are kInternal and say
  // only that a stored key could not be used.
  Result<std::shared_ptr<const KeyMaterial>> KeyMaterialOf(const store::KeyVersionRecord& record);
  // Drops every cached version of a key (on delete and purge).
  void ForgetKey(std::string_view vault, std::string_view name);

  // ---- backups
  // A backup blob's payload is bound to no row (it restores into any vault, on any server that
  // shares the master key): it is sealed with AES-256-GCM under a key derived from the master key
  // for `purpose` (e.g. "coffre/key-backup/v1"), with `aad` as associated data.
  Result<Bytes> SealBackup(std::string_view purpose, ByteSpan payload, ByteSpan aad) const;
  Result<SecureBytes> OpenBackup(std::string_view purpose, ByteSpan sealed, ByteSpan aad) const;

 private:
  Barrier barrier_;
  LruCache<std::shared_ptr<const KeyMaterial>> key_cache_;
};

}  // namespace coffre::service
