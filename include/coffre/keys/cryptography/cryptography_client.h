// CryptographyClient: cryptographic operations with one Key Vault key.
//
// Private-key operations (decrypt, unwrap, sign) always run in the service. Public-key
// operations (RSA encrypt/wrap, RS/PS/ES verify) run locally with OpenSSL when the client knows
// the public key and the key allows the operation now (enabled, in key_ops, and for encrypt/wrap
// inside nbf..exp); otherwise they go to the service too. The client learns the key with one GET
// on first use; if that is refused (e.g. no keys/get permission) everything stays remote.
// SignData/VerifyData hash locally (SHA-256/384/512 per algorithm) and sign/verify the digest.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coffre/core/context.h"
#include "coffre/core/credentials.h"
#include "coffre/core/response.h"
#include "coffre/keys/cryptography/cryptography_client_models.h"
#include "coffre/keys/key_client_models.h"
#include "coffre/keys/key_client_options.h"

namespace coffre::keys {
class KeyClient;
}

namespace coffre::keys::cryptography {

namespace _detail {
class CryptographyClientImpl;
}

struct CryptographyClientOptions : KeyClientOptions {
  // Run public-key operations locally when possible (see above).
  bool UseLocalCryptography = true;
};

class CryptographyClient final {
 public:
  // key_id: "https://{vault}/keys/{name}[/{version}]"; without a version the latest is used.
  explicit CryptographyClient(const std::string& key_id,
                              std::shared_ptr<const core::credentials::TokenCredential> credential,
                              const CryptographyClientOptions& options = {});
  // A client that already knows the key's public material (no GET on first use).
  CryptographyClient(const KeyVaultKey& key,
                     std::shared_ptr<const core::credentials::TokenCredential> credential,
                     const CryptographyClientOptions& options = {});

  // The key id requests go to (versioned once the key has been fetched).
  std::string GetKeyId() const;

  Response<EncryptResult> Encrypt(const EncryptParameters& parameters,
                                  const core::Context& context = core::Context()) const;
  Response<DecryptResult> Decrypt(const DecryptParameters& parameters,
                                  const core::Context& context = core::Context()) const;
  Response<WrapResult> WrapKey(const KeyWrapAlgorithm& algorithm, const std::vector<uint8_t>& key,
                               const core::Context& context = core::Context()) const;
  Response<UnwrapResult> UnwrapKey(const KeyWrapAlgorithm& algorithm,
                                   const std::vector<uint8_t>& encrypted_key,
                                   const core::Context& context = core::Context()) const;
  // `digest` is the hash of the data (32/48/64 bytes for the 256/384/512 algorithms).
  Response<SignResult> Sign(const SignatureAlgorithm& algorithm, const std::vector<uint8_t>& digest,
                            const core::Context& context = core::Context()) const;
  Response<SignResult> SignData(const SignatureAlgorithm& algorithm,
                                const std::vector<uint8_t>& data,
                                const core::Context& context = core::Context()) const;
  Response<VerifyResult> Verify(const SignatureAlgorithm& algorithm,
                                const std::vector<uint8_t>& digest,
                                const std::vector<uint8_t>& signature,
                                const core::Context& context = core::Context()) const;
  Response<VerifyResult> VerifyData(const SignatureAlgorithm& algorithm,
                                    const std::vector<uint8_t>& data,
                                    const std::vector<uint8_t>& signature,
                                    const core::Context& context = core::Context()) const;

 private:
  friend class coffre::keys::KeyClient;
  explicit CryptographyClient(std::shared_ptr<_detail::CryptographyClientImpl> impl);

  std::shared_ptr<_detail::CryptographyClientImpl> impl_;
};

}  // namespace coffre::keys::cryptography
