// Barrier: the master key and the sealed format. Callers seal through MaterialBarrier
// (service/material_barrier.h), which decides what each blob is bound to.
//
// Format: version byte 0x01 || AES-256-GCM(nonce || ciphertext || tag). The associated data
// (`context`) binds the blob to where it belongs, so a sealed blob copied to another row fails to
// open.
#pragma once

#include <string>
#include <string_view>

#include "coffre/status.h"
#include "common/bytes.h"

namespace coffre::service {

class Barrier {
 public:
  explicit Barrier(SecureBytes master_key);  // 32 bytes

  // Reads a 32-byte master key file (raw bytes or 64 hex chars), creating it with a fresh
  // random key and mode 0600 if absent. Refuses a file readable by group or others.
  static Result<Barrier> LoadOrCreate(const std::string& path);

  Result<Bytes> Seal(ByteSpan plaintext, std::string_view context) const;
  Result<SecureBytes> Open(ByteSpan sealed, std::string_view context) const;

  // A 32-byte key for one purpose (e.g. "coffre/backup/v1"), derived from the master key with
  // HKDF, so every server sharing the master key derives the same one.
  SecureBytes DeriveKey(std::string_view purpose) const;

 private:
  SecureBytes master_key_;
};

}  // namespace coffre::service
