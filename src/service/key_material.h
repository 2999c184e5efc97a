// KeyMaterial: a key version's unsealed private material, ready for OpenSSL; and the bounded
// cache that keeps it, so the hot path never unseals or re-parses PKCS#8 per request.
//
// A version's material never changes (updates touch attributes only), so a cached entry is
// never stale; entries are dropped when their key is deleted or purged, and the least
// recently used ones when the cache is full.
#pragma once

#include <memory>
#include <string_view>
#include <variant>

#include "coffre/status.h"
#include "common/lru_cache.h"
#include "crypto/asymmetric_key.h"
#include "service/key_model.h"
#include "store/barrier.h"
#include "store/store.h"

namespace coffre::service {

struct KeyMaterial {
  KeyType kty = KeyType::kRsa;
  // RSA/EC: a key pair. oct: the raw AES/HMAC key (16, 24 or 32 bytes).
  std::variant<SecureBytes, crypto::AsymmetricKey> material;

  const crypto::AsymmetricKey* asymmetric() const {
    return std::get_if<crypto::AsymmetricKey>(&material);
  }
  const SecureBytes* symmetric() const { return std::get_if<SecureBytes>(&material); }
};

// Unseals and parses one stored version's private material.
Result<std::shared_ptr<const KeyMaterial>> UnsealKeyMaterial(const store::Barrier& barrier,
                                                             const store::KeyVersionRecord& r);

class KeyMaterialCache {
 public:
  explicit KeyMaterialCache(const store::Barrier& barrier, size_t capacity = 4096)
      : barrier_(barrier), cache_(capacity) {}

  // The material of this version, from the cache or unsealed now.
  Result<std::shared_ptr<const KeyMaterial>> Get(const store::KeyVersionRecord& record);
  // Drops every cached version of a key (on delete and purge).
  void Invalidate(std::string_view vault, std::string_view name);

 private:
  const store::Barrier& barrier_;
  LruCache<std::shared_ptr<const KeyMaterial>> cache_;
};

}  // namespace coffre::service
