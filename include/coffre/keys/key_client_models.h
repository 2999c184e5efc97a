// Models of the keys client: keys, their properties, options of each call, list pages and the
// delete/recover operations. Names follow the Azure SDK for C++ (Azure::Security::KeyVault::Keys).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "coffre/core/context.h"
#include "coffre/core/datetime.h"
#include "coffre/core/extendable_enumeration.h"
#include "coffre/core/http.h"
#include "coffre/core/nullable.h"
#include "coffre/core/operation.h"
#include "coffre/core/paged_response.h"
#include "coffre/core/response.h"

namespace coffre::keys {

namespace _detail {
class KeyClientImpl;
}
class KeyClient;

struct PurgedKey final {};

struct BackupKeyResult final {
  std::vector<uint8_t> BackupKey;
};

// An operation a key permits (JSON "key_ops").
class KeyOperation final : public core::ExtendableEnumeration<KeyOperation> {
 public:
  KeyOperation() = default;
  explicit KeyOperation(std::string operation) : ExtendableEnumeration(std::move(operation)) {}

  static const KeyOperation Encrypt;
  static const KeyOperation Decrypt;
  static const KeyOperation Sign;
  static const KeyOperation Verify;
  static const KeyOperation WrapKey;
  static const KeyOperation UnwrapKey;
  static const KeyOperation Import;
  static const KeyOperation Export;
};

// JSON "kty".
class KeyVaultKeyType final : public core::ExtendableEnumeration<KeyVaultKeyType> {
 public:
  KeyVaultKeyType() = default;
  explicit KeyVaultKeyType(std::string value) : ExtendableEnumeration(std::move(value)) {}

  static const KeyVaultKeyType Ec;
  static const KeyVaultKeyType EcHsm;
  static const KeyVaultKeyType Rsa;
  static const KeyVaultKeyType RsaHsm;
  static const KeyVaultKeyType Oct;
  static const KeyVaultKeyType OctHsm;
};

// JSON "crv".
class KeyCurveName final : public core::ExtendableEnumeration<KeyCurveName> {
 public:
  KeyCurveName() = default;
  explicit KeyCurveName(std::string value) : ExtendableEnumeration(std::move(value)) {}

  static const KeyCurveName P256;
  static const KeyCurveName P256K;
  static const KeyCurveName P384;
  static const KeyCurveName P521;
};

// A JSON Web Key (RFC 7517). The service returns public parts only; private parts are used to
// import keys.
class JsonWebKey final {
 public:
  std::string Id;  // "kid"
  KeyVaultKeyType KeyType;
  Nullable<KeyCurveName> CurveName;

  std::vector<uint8_t> N;   // RSA modulus
  std::vector<uint8_t> E;   // RSA public exponent
  std::vector<uint8_t> D;   // RSA private exponent or EC private key
  std::vector<uint8_t> DP;  // RSA CRT parameters
  std::vector<uint8_t> DQ;
  std::vector<uint8_t> QI;
  std::vector<uint8_t> P;  // RSA primes
  std::vector<uint8_t> Q;
  std::vector<uint8_t> K;  // symmetric key
  std::vector<uint8_t> T;  // "key_hsm" (bring your own key)
  std::vector<uint8_t> X;  // EC point
  std::vector<uint8_t> Y;

  void SetKeyOperations(const std::vector<KeyOperation>& key_operations) {
    key_ops_ = key_operations;
  }
  const std::vector<KeyOperation>& KeyOperations() const { return key_ops_; }
  bool SupportsOperation(const KeyOperation& operation) const;

 private:
  std::vector<KeyOperation> key_ops_;
};

// A secure-key-release policy ("release_policy").
struct KeyReleasePolicy final {
  Nullable<std::string> ContentType;
  bool Immutable = false;
  std::string EncodedPolicy;  // the policy JSON (sent base64url-encoded)
};

// Everything about a key version except its key material.
struct KeyProperties final {
  KeyProperties() = default;
  KeyProperties(std::string name) : Name(std::move(name)) {}  // NOLINT: Azure allows implicit

  std::string Name;
  std::string Id;        // the key identifier ("kid")
  std::string VaultUrl;  // scheme://host[:port]
  std::string Version;   // empty in GetPropertiesOfKeys items
  bool Managed = false;
  std::unordered_map<std::string, std::string> Tags;
  Nullable<bool> Enabled;
  Nullable<DateTime> NotBefore;
  Nullable<DateTime> ExpiresOn;
  Nullable<DateTime> CreatedOn;
  Nullable<DateTime> UpdatedOn;
  Nullable<int> RecoverableDays;
  std::string RecoveryLevel;
  Nullable<bool> Exportable;
  Nullable<KeyReleasePolicy> ReleasePolicy;
  std::string HsmPlatform;
};

struct KeyVaultKey {
  KeyVaultKey() = default;
  KeyVaultKey(std::string name) : Properties(std::move(name)) {}  // NOLINT
  virtual ~KeyVaultKey() = default;

  JsonWebKey Key;
  KeyProperties Properties;

  const std::string& Id() const { return Key.Id; }
  const std::string& Name() const { return Properties.Name; }
  const KeyVaultKeyType& GetKeyType() const { return Key.KeyType; }
  const std::vector<KeyOperation>& KeyOperations() const { return Key.KeyOperations(); }
};

struct DeletedKey final : public KeyVaultKey {
  DeletedKey() = default;
  DeletedKey(std::string name) : KeyVaultKey(std::move(name)) {}  // NOLINT

  std::string RecoveryId;
  DateTime DeletedDate;
  DateTime ScheduledPurgeDate;
};

// ---- options of individual calls -----------------------------------------------------------

struct GetKeyOptions final {
  std::string Version;  // empty: the latest version
};

// List options. MaxResults (1..25) asks for smaller pages; NextPageToken resumes a listing at a
// nextLink returned earlier.
struct GetPropertiesOfKeysOptions final {
  Nullable<std::string> NextPageToken;
  Nullable<int32_t> MaxResults;
};
struct GetPropertiesOfKeyVersionsOptions final {
  Nullable<std::string> NextPageToken;
  Nullable<int32_t> MaxResults;
};
struct GetDeletedKeysOptions final {
  Nullable<std::string> NextPageToken;
  Nullable<int32_t> MaxResults;
};

struct CreateKeyOptions {
  virtual ~CreateKeyOptions() = default;

  std::vector<KeyOperation> KeyOperations;
  Nullable<DateTime> NotBefore;
  Nullable<DateTime> ExpiresOn;
  Nullable<bool> Enabled;
  std::unordered_map<std::string, std::string> Tags;
  Nullable<bool> Exportable;
  Nullable<KeyReleasePolicy> ReleasePolicy;
};

class CreateRsaKeyOptions final : public CreateKeyOptions {
 public:
  explicit CreateRsaKeyOptions(std::string name, bool hardware_protected = false);
  const std::string& GetName() const { return name_; }
  const KeyVaultKeyType& GetKeyType() const { return key_type_; }

  Nullable<int64_t> KeySize;         // 2048 (default), 3072 or 4096
  Nullable<int64_t> PublicExponent;  // e.g. 65537

 private:
  std::string name_;
  KeyVaultKeyType key_type_;
};

class CreateEcKeyOptions final : public CreateKeyOptions {
 public:
  explicit CreateEcKeyOptions(std::string name, bool hardware_protected = false);
  const std::string& GetName() const { return name_; }
  const KeyVaultKeyType& GetKeyType() const { return key_type_; }

  Nullable<KeyCurveName> CurveName;  // default P-256

 private:
  std::string name_;
  KeyVaultKeyType key_type_;
};

class CreateOctKeyOptions final : public CreateKeyOptions {
 public:
  explicit CreateOctKeyOptions(std::string name, bool hardware_protected = false);
  const std::string& GetName() const { return name_; }
  const KeyVaultKeyType& GetKeyType() const { return key_type_; }

  Nullable<int64_t> KeySize;  // 128, 192 or 256 (default)

 private:
  std::string name_;
  KeyVaultKeyType key_type_;
};

struct ImportKeyOptions final {
  ImportKeyOptions(std::string name, JsonWebKey key_material)
      : Key(std::move(key_material)), Properties(std::move(name)) {}
  const std::string& Name() const { return Properties.Name; }

  JsonWebKey Key;
  Nullable<bool> HardwareProtected;
  // Enabled, NotBefore, ExpiresOn, Exportable, ReleasePolicy and Tags are sent.
  KeyProperties Properties;
};

// ---- secure key release --------------------------------------------------------------------

class KeyEncryptionAlgorithm final : public core::ExtendableEnumeration<KeyEncryptionAlgorithm> {
 public:
  KeyEncryptionAlgorithm() = default;
  explicit KeyEncryptionAlgorithm(std::string value) : ExtendableEnumeration(std::move(value)) {}

  static const KeyEncryptionAlgorithm CkmRsaAesKeyWrap;
  static const KeyEncryptionAlgorithm RsaAesKeyWrap256;
  static const KeyEncryptionAlgorithm RsaAesKeyWrap384;
};

struct KeyReleaseOptions final {
  std::string Target;  // attestation assertion
  Nullable<std::string> Nonce;
  Nullable<KeyEncryptionAlgorithm> Encryption;
};

struct ReleaseKeyResult final {
  std::string Value;  // JWS with the released key
};

// ---- rotation ------------------------------------------------------------------------------

class LifetimeActionType final : public core::ExtendableEnumeration<LifetimeActionType> {
 public:
  LifetimeActionType() = default;
  explicit LifetimeActionType(std::string value) : ExtendableEnumeration(std::move(value)) {}

  static const LifetimeActionType Rotate;
  static const LifetimeActionType Notify;
};

// Exactly one of the two, as an ISO 8601 duration ("P90D").
struct LifetimeActionTrigger final {
  Nullable<std::string> TimeAfterCreate;
  Nullable<std::string> TimeBeforeExpiry;
};

struct LifetimeActionsType final {
  LifetimeActionTrigger Trigger;
  LifetimeActionType Action;
};

struct KeyRotationPolicy final {
  std::string Id;
  std::vector<LifetimeActionsType> LifetimeActions;
  Nullable<std::string> ExpiresIn;  // "attributes.expiryTime", e.g. "P2Y"
  Nullable<DateTime> CreatedOn;
  Nullable<DateTime> UpdatedOn;
};

// ---- random bytes --------------------------------------------------------------------------

struct GetRandomBytesOptions final {
  int32_t Count = 0;  // 1..128
};

struct GetRandomBytesResult final {
  std::vector<uint8_t> RandomBytes;
};

// ---- pages ---------------------------------------------------------------------------------

class KeyPropertiesPagedResponse final : public core::PagedResponse<KeyPropertiesPagedResponse> {
 public:
  KeyPropertiesPagedResponse() = default;

  std::vector<KeyProperties> Items;

 private:
  friend class KeyClient;
  friend class core::PagedResponse<KeyPropertiesPagedResponse>;
  void OnNextPage(const core::Context& context);

  std::shared_ptr<const _detail::KeyClientImpl> client_;
};

class DeletedKeyPagedResponse final : public core::PagedResponse<DeletedKeyPagedResponse> {
 public:
  DeletedKeyPagedResponse() = default;

  std::vector<DeletedKey> Items;

 private:
  friend class KeyClient;
  friend class core::PagedResponse<DeletedKeyPagedResponse>;
  void OnNextPage(const core::Context& context);

  std::shared_ptr<const _detail::KeyClientImpl> client_;
};

// ---- long-running operations ---------------------------------------------------------------

// Deleting a key. Value() is the DeletedKey from the DELETE response; polling asks for
// GET /deletedkeys/{name} until it stops answering 404 (the service deletes asynchronously).
class DeleteKeyOperation final : public core::Operation<DeletedKey> {
 public:
  DeletedKey Value() const override { return value_; }
  std::string GetResumeToken() const override { return name_; }

  static DeleteKeyOperation CreateFromResumeToken(const std::string& resume_token,
                                                  const KeyClient& client,
                                                  const core::Context& context = core::Context());

 private:
  friend class KeyClient;
  DeleteKeyOperation(std::shared_ptr<const _detail::KeyClientImpl> client, std::string name);

  std::unique_ptr<core::http::RawResponse> PollInternal(const core::Context& context) override;
  Response<DeletedKey> PollUntilDoneInternal(std::chrono::milliseconds period,
                                             core::Context& context) override;

  std::shared_ptr<const _detail::KeyClientImpl> client_;
  std::string name_;
  DeletedKey value_;
};

// Recovering a deleted key. Polling asks for GET /keys/{name}/ until it succeeds.
class RecoverDeletedKeyOperation final : public core::Operation<KeyVaultKey> {
 public:
  KeyVaultKey Value() const override { return value_; }
  std::string GetResumeToken() const override { return name_; }

  static RecoverDeletedKeyOperation CreateFromResumeToken(
      const std::string& resume_token, const KeyClient& client,
      const core::Context& context = core::Context());

 private:
  friend class KeyClient;
  RecoverDeletedKeyOperation(std::shared_ptr<const _detail::KeyClientImpl> client,
                             std::string name);

  std::unique_ptr<core::http::RawResponse> PollInternal(const core::Context& context) override;
  Response<KeyVaultKey> PollUntilDoneInternal(std::chrono::milliseconds period,
                                              core::Context& context) override;

  std::shared_ptr<const _detail::KeyClientImpl> client_;
  std::string name_;
  KeyVaultKey value_;
};

}  // namespace coffre::keys
