// KeyMaterial: a key version's unsealed private material, ready for OpenSSL. MaterialBarrier
// (service/material_barrier.h) opens it from the store and keeps it in its cache.
#pragma once

#include <memory>
#include <string_view>
#include <variant>

#include "coffre/status.h"
#include "common/bytes.h"
#include "crypto/asymmetric_key.h"
#include "service/key_model.h"

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

// Parses one version's opened private material (PKCS#8 DER for RSA/EC, the raw key for oct)
// as a key of the stored type `key_type`.
Result<std::shared_ptr<const KeyMaterial>> ParseKeyMaterial(std::string_view key_type,
                                                            SecureBytes opened);

}  // namespace coffre::service
