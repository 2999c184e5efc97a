// KeyClient: manage keys in a Key Vault (or a Coffre server speaking its REST API).
//
// Thread-safe: one client may be used from many threads; copies share the connection pool,
// the token cache and the authentication challenge learned from the vault.
//
// Authentication follows the Key Vault challenge protocol: the first request goes out without a
// token and without its body; the 401 answer's WWW-Authenticate header names the token scope
// (and tenant); the client gets a token for it and sends the real request. Later requests carry
// a cached token directly. Failures throw core::RequestFailedException.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coffre/core/context.h"
#include "coffre/core/credentials.h"
#include "coffre/core/response.h"
#include "coffre/keys/cryptography/cryptography_client.h"
#include "coffre/keys/key_client_models.h"
#include "coffre/keys/key_client_options.h"

namespace coffre::keys {

class KeyClient {
 public:
  // vault_url: "https://NAME.vault.azure.net" (https only; a port and a trailing slash are fine).
  explicit KeyClient(const std::string& vault_url,
                     std::shared_ptr<const core::credentials::TokenCredential> credential,
                     KeyClientOptions options = KeyClientOptions());
  KeyClient(const KeyClient&) = default;
  KeyClient& operator=(const KeyClient&) = default;
  virtual ~KeyClient() = default;

  std::string GetUrl() const;

  // A client for one key that shares this client's pipeline (connections, tokens, challenge).
  cryptography::CryptographyClient GetCryptographyClient(
      const std::string& name, const std::string& version = std::string()) const;

  Response<KeyVaultKey> GetKey(const std::string& name,
                               const GetKeyOptions& options = GetKeyOptions(),
                               const core::Context& context = core::Context()) const;
  // Convenience: GetKey with GetKeyOptions{version}.
  Response<KeyVaultKey> GetKey(const std::string& name, const std::string& version,
                               const core::Context& context = core::Context()) const;

  Response<KeyVaultKey> CreateKey(const std::string& name, const KeyVaultKeyType& key_type,
                                  const CreateKeyOptions& options = CreateKeyOptions(),
                                  const core::Context& context = core::Context()) const;
  Response<KeyVaultKey> CreateRsaKey(const CreateRsaKeyOptions& rsa_key_options,
                                     const core::Context& context = core::Context()) const;
  Response<KeyVaultKey> CreateEcKey(const CreateEcKeyOptions& ec_key_options,
                                    const core::Context& context = core::Context()) const;
  Response<KeyVaultKey> CreateOctKey(const CreateOctKeyOptions& oct_key_options,
                                     const core::Context& context = core::Context()) const;

  // Lists follow the service's nextLink page by page (MoveToNextPage).
  KeyPropertiesPagedResponse GetPropertiesOfKeys(
      const GetPropertiesOfKeysOptions& options = GetPropertiesOfKeysOptions(),
      const core::Context& context = core::Context()) const;
  KeyPropertiesPagedResponse GetPropertiesOfKeyVersions(
      const std::string& name,
      const GetPropertiesOfKeyVersionsOptions& options = GetPropertiesOfKeyVersionsOptions(),
      const core::Context& context = core::Context()) const;
  DeletedKeyPagedResponse GetDeletedKeys(
      const GetDeletedKeysOptions& options = GetDeletedKeysOptions(),
      const core::Context& context = core::Context()) const;

  // Sends Enabled, NotBefore, ExpiresOn, Exportable, ReleasePolicy, Tags (when not empty) and,
  // if given, the key operations; properties.Version empty means the latest version.
  Response<KeyVaultKey> UpdateKeyProperties(
      const KeyProperties& properties,
      const Nullable<std::vector<KeyOperation>>& key_operations =
          Nullable<std::vector<KeyOperation>>(),
      const core::Context& context = core::Context()) const;

  DeleteKeyOperation StartDeleteKey(const std::string& name,
                                    const core::Context& context = core::Context()) const;
  Response<DeletedKey> GetDeletedKey(const std::string& name,
                                     const core::Context& context = core::Context()) const;
  Response<PurgedKey> PurgeDeletedKey(const std::string& name,
                                      const core::Context& context = core::Context()) const;
  RecoverDeletedKeyOperation StartRecoverDeletedKey(
      const std::string& name, const core::Context& context = core::Context()) const;

  Response<BackupKeyResult> BackupKey(const std::string& name,
                                      const core::Context& context = core::Context()) const;
  Response<KeyVaultKey> RestoreKeyBackup(const std::vector<uint8_t>& backup,
                                         const core::Context& context = core::Context()) const;

  Response<KeyVaultKey> ImportKey(const std::string& name, const JsonWebKey& key_material,
                                  const core::Context& context = core::Context()) const;
  Response<KeyVaultKey> ImportKey(const ImportKeyOptions& import_key_options,
                                  const core::Context& context = core::Context()) const;

  Response<KeyVaultKey> RotateKey(const std::string& name,
                                  const core::Context& context = core::Context()) const;
  Response<KeyRotationPolicy> GetKeyRotationPolicy(
      const std::string& name, const core::Context& context = core::Context()) const;
  Response<KeyRotationPolicy> UpdateKeyRotationPolicy(
      const std::string& name, const KeyRotationPolicy& rotation_policy,
      const core::Context& context = core::Context()) const;

  Response<GetRandomBytesResult> GetRandomBytes(
      const GetRandomBytesOptions& options, const core::Context& context = core::Context()) const;

  Response<ReleaseKeyResult> ReleaseKey(const std::string& name, const std::string& version,
                                        const KeyReleaseOptions& options,
                                        const core::Context& context = core::Context()) const;

 private:
  friend class DeleteKeyOperation;
  friend class RecoverDeletedKeyOperation;

  std::shared_ptr<const _detail::KeyClientImpl> impl_;
};

}  // namespace coffre::keys
