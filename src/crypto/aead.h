// AES-256-GCM sealing of small blobs (key material, backups).
#pragma once

#include "common/bytes.h"
#include "coffre/status.h"

namespace coffre::crypto {

inline constexpr size_t kAes256KeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

// Returns nonce(12) || ciphertext || tag(16), with a fresh random nonce. `key` is 32 bytes.
Result<Bytes> SealAes256Gcm(ByteSpan key, ByteSpan plaintext, ByteSpan aad);
// Opens what SealAes256Gcm produced. Any failure (wrong key, wrong aad, tampering,
// truncation) is the same error, revealing nothing else.
Result<SecureBytes> OpenAes256Gcm(ByteSpan key, ByteSpan sealed, ByteSpan aad);

}  // namespace coffre::crypto
