// SecretClient: manage secrets in a Key Vault (or a Coffre server speaking its REST API).
//
// Thread-safe: one client may be used from many threads; copies share the connection pool, the
// token cache and the authentication challenge learned from the vault. Authentication follows
// the Key Vault challenge protocol (see coffre/keys/key_client.h). Failures throw
// core::RequestFailedException.
//
// Secret values: request bodies that carry a value and the client's own parse buffers are wiped
// (OPENSSL_cleanse) once used. The values handed back (KeyVaultSecret::Value and the
// RawResponse of a GetSecret) belong to the caller, who should wipe them after use.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coffre/core/context.h"
#include "coffre/core/credentials.h"
#include "coffre/core/response.h"
#include "coffre/secrets/secret_client_models.h"
#include "coffre/secrets/secret_client_options.h"

namespace coffre::secrets {

class SecretClient {
 public:
  // vault_url: "https://NAME.vault.azure.net" (https only; a port and a trailing slash are fine).
  explicit SecretClient(const std::string& vault_url,
                        std::shared_ptr<const core::credentials::TokenCredential> credential,
                        SecretClientOptions options = SecretClientOptions());
  SecretClient(const SecretClient&) = default;
  SecretClient& operator=(const SecretClient&) = default;
  virtual ~SecretClient() = default;

  std::string GetUrl() const;

  // GET /secrets/{name}/{version}; an empty version means the latest.
  Response<KeyVaultSecret> GetSecret(const std::string& name,
                                     const GetSecretOptions& options = GetSecretOptions(),
                                     const core::Context& context = core::Context()) const;

  // PUT /secrets/{name}: a new version holding `value`.
  Response<KeyVaultSecret> SetSecret(const std::string& name, const std::string& value,
                                     const core::Context& context = core::Context()) const;
  // As above with secret.Value and, from secret.Properties, ContentType, Enabled, NotBefore,
  // ExpiresOn and Tags.
  Response<KeyVaultSecret> SetSecret(const std::string& name, const KeyVaultSecret& secret,
                                     const core::Context& context = core::Context()) const;

  // PATCH /secrets/{name}/{version} with ContentType, Enabled, NotBefore, ExpiresOn and Tags
  // (when not empty) of `properties`; properties.Version empty means the latest version. The
  // value never changes; the answer carries none.
  Response<KeyVaultSecret> UpdateSecretProperties(
      const SecretProperties& properties, const core::Context& context = core::Context()) const;

  // Lists follow the service's nextLink page by page (MoveToNextPage); items carry no value.
  SecretPropertiesPagedResponse GetPropertiesOfSecrets(
      const GetPropertiesOfSecretsOptions& options = GetPropertiesOfSecretsOptions(),
      const core::Context& context = core::Context()) const;
  SecretPropertiesPagedResponse GetPropertiesOfSecretsVersions(
      const std::string& name,
      const GetPropertiesOfSecretsVersionsOptions& options =
          GetPropertiesOfSecretsVersionsOptions(),
      const core::Context& context = core::Context()) const;
  DeletedSecretPagedResponse GetDeletedSecrets(
      const GetDeletedSecretsOptions& options = GetDeletedSecretsOptions(),
      const core::Context& context = core::Context()) const;

  DeleteSecretOperation StartDeleteSecret(const std::string& name,
                                          const core::Context& context = core::Context()) const;
  Response<DeletedSecret> GetDeletedSecret(const std::string& name,
                                           const core::Context& context = core::Context()) const;
  RecoverDeletedSecretOperation StartRecoverDeletedSecret(
      const std::string& name, const core::Context& context = core::Context()) const;
  Response<PurgedSecret> PurgeDeletedSecret(const std::string& name,
                                            const core::Context& context = core::Context()) const;

  Response<BackupSecretResult> BackupSecret(const std::string& name,
                                            const core::Context& context = core::Context()) const;
  Response<KeyVaultSecret> RestoreSecretBackup(
      const BackupSecretResult& backup, const core::Context& context = core::Context()) const;
  Response<KeyVaultSecret> RestoreSecretBackup(
      const std::vector<uint8_t>& backup, const core::Context& context = core::Context()) const;

 private:
  friend class DeleteSecretOperation;
  friend class RecoverDeletedSecretOperation;

  std::shared_ptr<const _detail::SecretClientImpl> impl_;
};

}  // namespace coffre::secrets
