// CryptoService: using a vault's keys without releasing them: encrypt, decrypt, wrap, unwrap,
// sign, verify; and random bytes. Enforces, in Key Vault's order: the key exists, is enabled,
// allows the operation (key_ops), is inside its nbf..exp window (only decrypt, unwrapKey and
// verify work outside it), and the algorithm fits the key's type and size.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "service/key_material.h"
#include "service/material_barrier.h"
#include "store/store.h"

namespace coffre::service {

enum class KeyOperation { kEncrypt, kDecrypt, kWrapKey, kUnwrapKey, kSign, kVerify };
// The key_ops name: "encrypt", "decrypt", "wrapKey", "unwrapKey", "sign", "verify".
std::string_view KeyOperationName(KeyOperation op);

struct KeyOperationRequest {
  std::string algorithm;
  SecureBytes value;  // plaintext, ciphertext, key to wrap, digest or data to sign
  std::optional<Bytes> iv;
  std::optional<Bytes> aad;
  std::optional<Bytes> tag;
};

struct KeyOperationResult {
  std::string name;
  std::string version;
  SecureBytes value;  // may be plaintext (decrypt, unwrap): wiped when dropped
  std::optional<Bytes> iv;
  std::optional<Bytes> aad;
  std::optional<Bytes> tag;
};

struct VerifyRequest {
  std::string algorithm;
  Bytes digest;  // for HS*: the data that was MACed
  Bytes signature;
};

class CryptoService {
 public:
  CryptoService(store::Store& store, MaterialBarrier& material, const Clock& clock)
      : store_(store), material_(material), clock_(clock) {}

  // op is one of encrypt, decrypt, wrapKey, unwrapKey, sign. Empty version: latest.
  Result<KeyOperationResult> Perform(const store::VaultRecord& vault, std::string_view name,
                                     std::string_view version, KeyOperation op,
                                     const KeyOperationRequest& request);
  Result<bool> Verify(const store::VaultRecord& vault, std::string_view name,
                      std::string_view version, const VerifyRequest& request);

  // POST /rng: 1..128 bytes from OpenSSL's CSPRNG.
  static Result<Bytes> RandomBytes(int64_t count);

 private:
  struct LoadedKey {
    store::KeyVersionRecord record;
    std::shared_ptr<const KeyMaterial> material;
  };
  Result<LoadedKey> Load(const store::VaultRecord& vault, std::string_view name,
                         std::string_view version, KeyOperation op);

  store::Store& store_;
  MaterialBarrier& material_;
  const Clock& clock_;
};

}  // namespace coffre::service
