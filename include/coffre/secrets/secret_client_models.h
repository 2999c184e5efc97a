// Models of the secrets client: secrets, their properties, options of each call, list pages and
// the delete/recover operations. Names follow the Azure SDK for C++
// (Azure::Security::KeyVault::Secrets).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "coffre/core/context.h"
#include "coffre/core/datetime.h"
#include "coffre/core/http.h"
#include "coffre/core/nullable.h"
#include "coffre/core/operation.h"
#include "coffre/core/paged_response.h"
#include "coffre/core/response.h"

namespace coffre::secrets {

namespace _detail {
class SecretClientImpl;
}
class SecretClient;

// Everything about a secret version except its value.
struct SecretProperties final {
  SecretProperties() = default;
  SecretProperties(std::string name) : Name(std::move(name)) {}  // NOLINT: Azure allows implicit

  // Splits a secret id (https://host[:port]/secrets/NAME[/VERSION]) into Id, VaultUrl, Name and
  // Version; throws std::invalid_argument when `url` is not one.
  static SecretProperties CreateFromURL(const std::string& url);

  Nullable<bool> Enabled;
  Nullable<DateTime> NotBefore;
  Nullable<DateTime> ExpiresOn;
  Nullable<DateTime> CreatedOn;
  Nullable<DateTime> UpdatedOn;
  Nullable<std::string> ContentType;
  std::unordered_map<std::string, std::string> Tags;
  // True for secrets backing a certificate; their key is KeyId.
  bool Managed = false;
  Nullable<std::string> KeyId;
  Nullable<std::string> RecoveryLevel;
  Nullable<int64_t> RecoverableDays;
  std::string Version;   // empty in GetPropertiesOfSecrets items
  std::string VaultUrl;  // scheme://host[:port]
  std::string Name;
  std::string Id;  // the secret identifier
};

struct KeyVaultSecret {
  KeyVaultSecret() = default;
  // Throws std::invalid_argument for an empty name.
  KeyVaultSecret(std::string name, std::string value);
  virtual ~KeyVaultSecret() = default;

  std::string Name;
  // Unset where the service sends no value (updates, lists, deleted secrets).
  Nullable<std::string> Value;
  std::string Id;
  SecretProperties Properties;
};

struct DeletedSecret final : public KeyVaultSecret {
  DeletedSecret() = default;
  explicit DeletedSecret(std::string name);

  std::string RecoveryId;  // https://host/deletedsecrets/NAME
  Nullable<DateTime> DeletedOn;
  Nullable<DateTime> ScheduledPurgeDate;
};

struct PurgedSecret final {};

// The opaque, sealed blob of every version of a secret.
struct BackupSecretResult final {
  std::vector<uint8_t> Secret;
};

// ---- options of individual calls -----------------------------------------------------------

struct GetSecretOptions final {
  std::string Version;  // empty: the latest version
};

// List options. MaxResults (1..25) asks for smaller pages; NextPageToken resumes a listing at a
// nextLink returned earlier.
struct GetPropertiesOfSecretsOptions final {
  Nullable<std::string> NextPageToken;
  Nullable<int32_t> MaxResults;
};
struct GetPropertiesOfSecretsVersionsOptions final {
  Nullable<std::string> NextPageToken;
  Nullable<int32_t> MaxResults;
};
struct GetDeletedSecretsOptions final {
  Nullable<std::string> NextPageToken;
  Nullable<int32_t> MaxResults;
};

// ---- pages ---------------------------------------------------------------------------------

class SecretPropertiesPagedResponse final
    : public core::PagedResponse<SecretPropertiesPagedResponse> {
 public:
  SecretPropertiesPagedResponse() = default;

  std::vector<SecretProperties> Items;

 private:
  friend class SecretClient;
  friend class core::PagedResponse<SecretPropertiesPagedResponse>;
  void OnNextPage(const core::Context& context);

  std::shared_ptr<const _detail::SecretClientImpl> client_;
};

class DeletedSecretPagedResponse final : public core::PagedResponse<DeletedSecretPagedResponse> {
 public:
  DeletedSecretPagedResponse() = default;

  std::vector<DeletedSecret> Items;

 private:
  friend class SecretClient;
  friend class core::PagedResponse<DeletedSecretPagedResponse>;
  void OnNextPage(const core::Context& context);

  std::shared_ptr<const _detail::SecretClientImpl> client_;
};

// ---- long-running operations ---------------------------------------------------------------

// Deleting a secret. Value() is the DeletedSecret from the DELETE response; polling asks for
// GET /deletedsecrets/{name} until it stops answering 404 (the service deletes asynchronously).
class DeleteSecretOperation final : public core::Operation<DeletedSecret> {
 public:
  DeletedSecret Value() const override { return value_; }
  std::string GetResumeToken() const override { return name_; }

  static DeleteSecretOperation CreateFromResumeToken(
      const std::string& resume_token, const SecretClient& client,
      const core::Context& context = core::Context());

 private:
  friend class SecretClient;
  DeleteSecretOperation(std::shared_ptr<const _detail::SecretClientImpl> client, std::string name);

  std::unique_ptr<core::http::RawResponse> PollInternal(const core::Context& context) override;
  Response<DeletedSecret> PollUntilDoneInternal(std::chrono::milliseconds period,
                                                core::Context& context) override;

  std::shared_ptr<const _detail::SecretClientImpl> client_;
  std::string name_;
  DeletedSecret value_;
};

// Recovering a deleted secret. Polling asks for GET /secrets/{name}/ until it succeeds; the
// value is the recovered secret's properties (as in the Azure SDK, without the secret value).
class RecoverDeletedSecretOperation final : public core::Operation<SecretProperties> {
 public:
  SecretProperties Value() const override { return value_; }
  std::string GetResumeToken() const override { return name_; }

  static RecoverDeletedSecretOperation CreateFromResumeToken(
      const std::string& resume_token, const SecretClient& client,
      const core::Context& context = core::Context());

 private:
  friend class SecretClient;
  RecoverDeletedSecretOperation(std::shared_ptr<const _detail::SecretClientImpl> client,
                                std::string name);

  std::unique_ptr<core::http::RawResponse> PollInternal(const core::Context& context) override;
  Response<SecretProperties> PollUntilDoneInternal(std::chrono::milliseconds period,
                                                   core::Context& context) override;

  std::shared_ptr<const _detail::SecretClientImpl> client_;
  std::string name_;
  SecretProperties value_;
};

}  // namespace coffre::secrets
