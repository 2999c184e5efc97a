#include "service/key_service.h"

#include <algorithm>

#include "common/binary_codec.h"
#include "crypto/asymmetric_key.h"
#include "crypto/key_operations.h"
#include "crypto/random.h"

namespace coffre::service {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int kDefaultRsaKeySize = 2048;
constexpr uint32_t kDefaultPublicExponent = 65537;

std::vector<std::string> DefaultKeyOps(KeyType kty) {
  if (IsEc(kty)) return {"sign", "verify"};
  if (IsRsa(kty)) return {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"};
  return {"encrypt", "decrypt", "wrapKey", "unwrapKey"};
}

// The operations a new key gets. An empty list counts as none given: the Azure SDK for C++
// always sends key_ops, [] when the caller chose none, and Azure answers with the defaults.
std::vector<std::string> KeyOpsOrDefault(const std::optional<std::vector<std::string>>& requested,
                                         KeyType kty) {
  if (!requested || requested->empty()) return DefaultKeyOps(kty);
  return *requested;
}

// Refuses an unknown operation and collapses repeats (first occurrence order kept), so what is
// stored is at most the defined set.
Status NormalizeKeyOps(std::vector<std::string>& ops) {
  std::vector<std::string> unique;
  for (auto& op : ops) {
    if (!IsKeyOperation(op)) {
      return Status::BadParameter("Invalid key operation: " + op.substr(0, 64));
    }
    if (std::find(unique.begin(), unique.end(), op) == unique.end()) {
      unique.push_back(std::move(op));
    }
  }
  ops = std::move(unique);
  return Status::Ok();
}

// What the keys API may not do to a key whose lifetime a certificate manages (the store refuses
// these with reason::kManaged).
Status KeyManagedByKeyVault(std::string_view operation) {
  return Status::Forbidden("Operation \"" + std::string(operation) +
                               "\" is not allowed as this object's lifetime is managed by Key "
                               "Vault.",
                           "KeyManagedByKeyVault");
}

Status ConflictDeleted(std::string_view name) {
  return Status::Conflict("Key " + std::string(name) +
                              " is currently in a deleted but recoverable state, and its name "
                              "cannot be reused; in this state, the key can only be recovered "
                              "or purged.",
                          "ObjectIsDeletedButRecoverable");
}

// Freshly made or imported key material, before sealing.
struct NewKeyMaterial {
  Bytes public_key;              // SubjectPublicKeyInfo DER; empty for oct keys
  SecureBytes private_material;  // PKCS#8 DER, or the raw oct key
  // The public key's JWK fields, known without decoding public_key again.
  std::optional<crypto::PublicKeyParams> public_params;
};

NewKeyMaterial FromKeyPair(const crypto::AsymmetricKey& key_pair) {
  return {key_pair.PublicDer(), key_pair.PrivateDer(), key_pair.PublicParams()};
}

Result<NewKeyMaterial> GenerateKey(const CreateKeyRequest& request) {
  std::string kty(KeyTypeName(request.kty));
  if (IsRsa(request.kty)) {
    if (request.curve) {
      return Status::BadParameter("The property crv is not valid for key type " + kty + ".");
    }
    int size = request.key_size.value_or(kDefaultRsaKeySize);
    if (size != 2048 && size != 3072 && size != 4096) {
      return Status::BadParameter("Unsupported key size: " + std::to_string(size) +
                                  ". RSA keys may be 2048, 3072 or 4096 bits.");
    }
    uint32_t exponent = request.public_exponent.value_or(kDefaultPublicExponent);
    if (exponent < 3 || exponent % 2 == 0 || exponent > 0x7fffffff) {
      return Status::BadParameter("Unsupported public exponent: " + std::to_string(exponent) +
                                  ". It must be an odd number from 3 to 2147483647.");
    }
    COFFRE_ASSIGN_OR_RETURN(auto key_pair, crypto::AsymmetricKey::GenerateRsa(size, exponent));
    return FromKeyPair(key_pair);
  }
  if (request.public_exponent) {
    return Status::BadParameter("The property public_exponent is not valid for key type " + kty +
                                ".");
  }
  if (IsEc(request.kty)) {
    crypto::Curve curve = request.curve.value_or(crypto::Curve::kP256);
    if (request.key_size) {
      // AKV accepts key_size for EC only when it agrees with the curve.
      int expected = curve == crypto::Curve::kP384   ? 384
                     : curve == crypto::Curve::kP521 ? 521
                                                     : 256;
      if (*request.key_size != expected) {
        return Status::BadParameter("Unsupported key size: " + std::to_string(*request.key_size) +
                                    " for curve " + std::string(crypto::CurveName(curve)) + ".");
      }
    }
    COFFRE_ASSIGN_OR_RETURN(auto key_pair, crypto::AsymmetricKey::GenerateEc(curve));
    return FromKeyPair(key_pair);
  }
  if (request.curve) {
    return Status::BadParameter("The property crv is not valid for key type " + kty + ".");
  }
  int bits = request.key_size.value_or(256);
  if (bits != 128 && bits != 192 && bits != 256) {
    return Status::BadParameter("Unsupported key size: " + std::to_string(bits) +
                                ". oct keys may be 128, 192 or 256 bits.");
  }
  return NewKeyMaterial{{}, crypto::RandomSecureBytes(static_cast<size_t>(bits / 8)), std::nullopt};
}

Status InvalidJsonWebKey() {
  return Status::BadParameter("The property \"key\" must be a valid JsonWebKey object.");
}

// The stored type for an imported key: the JWK's kty, made -HSM when "Hsm" is true.
Result<KeyType> ImportedKeyType(const ImportKeyRequest& request) {
  auto kty = KeyTypeFromName(request.key.kty);
  if (!kty) return InvalidJsonWebKey();
  if (!request.hsm) return *kty;
  if (IsRsa(*kty)) return KeyType::kRsaHsm;
  if (IsEc(*kty)) return KeyType::kEcHsm;
  return KeyType::kOctHsm;
}

Result<NewKeyMaterial> ImportedMaterial(KeyType kty, const PrivateJsonWebKey& jwk) {
  if (IsRsa(kty)) {
    if (jwk.n.empty() || jwk.e.empty() || jwk.d.empty()) return InvalidJsonWebKey();
    crypto::RsaPrivateComponents parts{jwk.n, jwk.e, jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi};
    auto key_pair = crypto::RsaKeyFromComponents(parts);
    if (!key_pair.ok() || key_pair->bits() < 2048 || key_pair->bits() > 4096) {
      return InvalidJsonWebKey();
    }
    return FromKeyPair(*key_pair);
  }
  if (IsEc(kty)) {
    auto curve = crypto::CurveFromName(jwk.crv);
    if (!curve || jwk.d.empty()) return InvalidJsonWebKey();
    auto key_pair = crypto::EcKeyFromComponents(*curve, jwk.x, jwk.y, jwk.d);
    if (!key_pair.ok()) return InvalidJsonWebKey();
    return FromKeyPair(*key_pair);
  }
  if (jwk.k.size() != 16 && jwk.k.size() != 24 && jwk.k.size() != 32) return InvalidJsonWebKey();
  return NewKeyMaterial{{}, jwk.k, std::nullopt};
}

// The generation request that reproduces an existing key's type, size or curve (rotation).
CreateKeyRequest SameKindAs(const store::KeyVersionRecord& latest, KeyType kty,
                            const KeyMaterial& material) {
  CreateKeyRequest request;
  request.name = latest.name;
  request.kty = kty;
  if (const auto* pair = material.asymmetric()) {
    if (IsRsa(kty)) {
      request.key_size = pair->bits();
      crypto::PublicKeyParams params = pair->PublicParams();
      uint32_t exponent = 0;
      for (uint8_t byte : params.e) exponent = (exponent << 8) | byte;
      request.public_exponent = exponent;
    } else {
      request.curve = pair->curve();
    }
  } else if (const auto* secret = material.symmetric()) {
    request.key_size = static_cast<int>(secret->size() * 8);
  }
  return request;
}

}  // namespace

std::string RecoveryLevel(const store::VaultRecord& vault) {
  std::string level = vault.retention_days < 90 ? "CustomizedRecoverable" : "Recoverable";
  if (!vault.purge_protection) level += "+Purgeable";
  return level;
}

Status KeyService::KeyNotFound(std::string_view name_or_id) {
  return Status::NotFound(
      "KeyNotFound",
      "A key with (name/id) " + std::string(name_or_id) +
          " was not found in this key vault. If you recently deleted this key you may be able "
          "to recover it using the correct recovery command. For help resolving this issue, "
          "please see https://go.microsoft.com/fwlink/?linkid=2125182");
}

Status KeyService::DeletedKeyNotFound(std::string_view name) {
  return Status::NotFound("KeyNotFound", "Deleted Key not found: " + std::string(name));
}

KeyService::KeyService(store::Store& store, MaterialBarrier& material, const Clock& clock)
    : store_(store), material_(material), clock_(clock) {}

namespace {

KeyAttributes AttributesOf(const store::VaultRecord& vault, const store::KeyVersionRecord& r) {
  KeyAttributes attributes;
  attributes.enabled = r.enabled;
  attributes.not_before = r.not_before;
  attributes.expires = r.expires;
  attributes.created = r.created;
  attributes.updated = r.updated;
  attributes.recoverable_days = vault.retention_days;
  attributes.recovery_level = RecoveryLevel(vault);
  return attributes;
}

KeyItem ItemOf(const store::VaultRecord& vault, const store::KeyVersionRecord& r,
               bool with_version) {
  KeyItem item;
  item.name = r.name;
  if (with_version) item.version = r.version;
  item.attributes = AttributesOf(vault, r);
  item.tags = r.tags;
  return item;
}

DeletionInfo DeletionOf(const store::DeletedKeyRecord& r) {
  return {r.deleted_date, r.scheduled_purge_date};
}

}  // namespace

Result<KeyBundle> KeyService::CreateKey(const store::VaultRecord& vault,
                                        const CreateKeyRequest& request) {
  if (!IsValidObjectName(request.name)) {
    return Status::BadParameter("The request URI contains an invalid name: " + request.name);
  }
  std::vector<std::string> key_ops = KeyOpsOrDefault(request.key_ops, request.kty);
  COFFRE_RETURN_IF_ERROR(NormalizeKeyOps(key_ops));
  Tags tags = SortedTags(request.tags.value_or(Tags{}));
  COFFRE_RETURN_IF_ERROR(ValidateTags(tags));

  // Refuse a deleted name before spending time on key generation; AddKeyVersion checks again
  // atomically.
  if (auto deleted = store_.GetDeletedKey(vault.name, request.name); deleted.ok()) {
    return ConflictDeleted(request.name);
  }

  COFFRE_ASSIGN_OR_RETURN(NewKeyMaterial material, GenerateKey(request));
  store::KeyVersionRecord record;
  record.vault = vault.name;
  record.name = request.name;
  record.key_type = std::string(KeyTypeName(request.kty));
  record.key_ops = std::move(key_ops);
  record.enabled = request.attributes.enabled.value_or(true);
  record.not_before = request.attributes.not_before;
  record.expires = request.attributes.expires;
  record.tags = std::move(tags);
  record.public_key = std::move(material.public_key);
  return StoreNewVersion(vault, std::move(record), material.private_material,
                         material.public_params, std::nullopt);
}

Result<KeyBundle> KeyService::StoreNewVersion(
    const store::VaultRecord& vault, store::KeyVersionRecord record, ByteSpan private_material,
    const std::optional<crypto::PublicKeyParams>& public_params,
    std::optional<int64_t> expected_latest_sequence) {
  record.vault = vault.name;
  record.version = crypto::RandomHex(16);
  record.created = record.updated = clock_.NowSeconds();
  COFFRE_ASSIGN_OR_RETURN(record.sealed_private_key,
                          material_.SealKeyVersion(record, private_material));
  std::string name = record.name;
  Status added = store_.AddKeyVersion(record, expected_latest_sequence);
  if (added.kind() == ErrorKind::kConflict && store::HasReason(added, store::reason::kDeleted)) {
    return ConflictDeleted(name);
  }
  if (store::HasReason(added, store::reason::kManaged)) return KeyManagedByKeyVault("create");
  if (added.kind() == ErrorKind::kNotFound) {
    return Status::NotFound("VaultNotFound", "The vault " + vault.name + " does not exist.");
  }
  COFFRE_RETURN_IF_ERROR(added);
  // The new version's public parameters are known: BundleOf need not decode its SPKI.
  if (public_params) public_params_.Put(std::string(AsChars(record.public_key)), *public_params);
  return BundleOf(vault, record);
}

Result<KeyBundle> KeyService::ImportKey(const store::VaultRecord& vault,
                                        const ImportKeyRequest& request) {
  if (!IsValidObjectName(request.name)) {
    return Status::BadParameter("The request URI contains an invalid name: " + request.name);
  }
  COFFRE_ASSIGN_OR_RETURN(KeyType kty, ImportedKeyType(request));
  std::vector<std::string> key_ops = KeyOpsOrDefault(request.key.key_ops, kty);
  COFFRE_RETURN_IF_ERROR(NormalizeKeyOps(key_ops));
  Tags tags = SortedTags(request.tags.value_or(Tags{}));
  COFFRE_RETURN_IF_ERROR(ValidateTags(tags));
  COFFRE_ASSIGN_OR_RETURN(NewKeyMaterial material, ImportedMaterial(kty, request.key));
  store::KeyVersionRecord record;
  record.name = request.name;
  record.key_type = std::string(KeyTypeName(kty));
  record.key_ops = std::move(key_ops);
  record.enabled = request.attributes.enabled.value_or(true);
  record.not_before = request.attributes.not_before;
  record.expires = request.attributes.expires;
  record.tags = std::move(tags);
  record.public_key = std::move(material.public_key);
  return StoreNewVersion(vault, std::move(record), material.private_material,
                         material.public_params, std::nullopt);
}

Result<KeyBundle> KeyService::BundleOf(const store::VaultRecord& vault,
                                       const store::KeyVersionRecord& r) {
  KeyBundle bundle;
  bundle.name = r.name;
  bundle.version = r.version;
  auto kty = KeyTypeFromName(r.key_type);
  if (!kty) return Status::Internal("A stored key has an unknown type.");
  bundle.key.kty = *kty;
  bundle.key.key_ops = r.key_ops;
  if (IsRsa(*kty) || IsEc(*kty)) {
    // Decoding SPKI through OpenSSL's decoders costs more than the rest of a GET, and equal DER
    // always decodes to equal parameters, so the DER itself is the cache key.
    std::string der(AsChars(r.public_key));
    if (auto cached = public_params_.Get(der)) {
      bundle.key.params = *std::move(cached);
    } else {
      auto public_key = crypto::AsymmetricKey::FromPublicDer(r.public_key);
      if (!public_key.ok()) return Status::Internal("A stored public key could not be read.");
      bundle.key.params = public_key->PublicParams();
      public_params_.Put(std::move(der), bundle.key.params);
    }
  }
  bundle.attributes = AttributesOf(vault, r);
  bundle.tags = r.tags;
  return bundle;
}

Result<KeyBundle> KeyService::GetKey(const store::VaultRecord& vault, std::string_view name,
                                     std::string_view version) {
  std::string id =
      version.empty() ? std::string(name) : std::string(name) + "/" + std::string(version);
  if (!version.empty() && !IsValidVersion(version)) return KeyNotFound(id);
  auto record = store_.GetKeyVersion(vault.name, name, version);
  if (!record.ok()) {
    if (record.status().kind() == ErrorKind::kNotFound) return KeyNotFound(id);
    return record.status();
  }
  return BundleOf(vault, *record);
}

Result<KeyBundle> KeyService::UpdateKey(const store::VaultRecord& vault, std::string_view name,
                                        std::string_view version, const UpdateKeyRequest& request) {
  std::string id =
      version.empty() ? std::string(name) : std::string(name) + "/" + std::string(version);
  if (!version.empty() && !IsValidVersion(version)) return KeyNotFound(id);
  std::optional<std::vector<std::string>> key_ops = request.key_ops;
  if (key_ops) COFFRE_RETURN_IF_ERROR(NormalizeKeyOps(*key_ops));
  std::optional<Tags> tags;
  if (request.tags) {
    tags = SortedTags(*request.tags);
    COFFRE_RETURN_IF_ERROR(ValidateTags(*tags));
  }
  auto found = store_.GetKeyVersion(vault.name, name, version);
  if (!found.ok()) {
    if (found.status().kind() == ErrorKind::kNotFound) return KeyNotFound(id);
    return found.status();
  }
  store::KeyVersionRecord record = std::move(found).value();
  // A certificate's key changes only with its certificate.
  if (store_.GetCertificatePolicy(vault.name, name).ok()) return KeyManagedByKeyVault("update");
  if (key_ops) record.key_ops = std::move(*key_ops);
  if (request.attributes.enabled) record.enabled = *request.attributes.enabled;
  if (request.attributes.not_before) record.not_before = request.attributes.not_before;
  if (request.attributes.expires) record.expires = request.attributes.expires;
  if (tags) record.tags = std::move(*tags);
  record.updated = clock_.NowSeconds();
  auto stored = store_.UpdateKeyVersion(record);
  if (!stored.ok()) {
    if (stored.status().kind() == ErrorKind::kNotFound) return KeyNotFound(id);
    return stored.status();
  }
  return BundleOf(vault, *stored);
}

Result<Page<KeyItem>> KeyService::ListKeys(const store::VaultRecord& vault,
                                           const PageRequest& page) {
  COFFRE_ASSIGN_OR_RETURN(auto records, store_.ListKeys(vault.name, page.cursor, page.max_results));
  Page<KeyItem> result;
  for (const auto& r : records.items) result.items.push_back(ItemOf(vault, r, false));
  result.next_cursor = std::move(records.next_cursor);
  return result;
}

Result<Page<KeyItem>> KeyService::ListKeyVersions(const store::VaultRecord& vault,
                                                  std::string_view name, const PageRequest& page) {
  auto records = store_.ListKeyVersions(vault.name, name, page.cursor, page.max_results);
  Page<KeyItem> result;
  if (!records.ok()) {
    // The service answers an empty list for a name with no active key.
    if (records.status().kind() == ErrorKind::kNotFound) return result;
    return records.status();
  }
  for (const auto& r : records->items) result.items.push_back(ItemOf(vault, r, true));
  result.next_cursor = std::move(records->next_cursor);
  return result;
}

Result<DeletedKeyBundle> KeyService::DeleteKey(const store::VaultRecord& vault,
                                               std::string_view name) {
  int64_t now = clock_.NowSeconds();
  auto deleted =
      store_.DeleteKey(vault.name, name, now, now + int64_t{vault.retention_days} * kSecondsPerDay);
  material_.ForgetKey(vault.name, name);
  if (!deleted.ok()) {
    if (deleted.status().kind() == ErrorKind::kNotFound) return KeyNotFound(name);
    if (store::HasReason(deleted.status(), store::reason::kManaged)) {
      return KeyManagedByKeyVault("delete");
    }
    return deleted.status();
  }
  COFFRE_ASSIGN_OR_RETURN(KeyBundle bundle, BundleOf(vault, deleted->latest));
  return DeletedKeyBundle{std::move(bundle), DeletionOf(*deleted)};
}

Result<DeletedKeyBundle> KeyService::GetDeletedKey(const store::VaultRecord& vault,
                                                   std::string_view name) {
  auto deleted = store_.GetDeletedKey(vault.name, name);
  if (!deleted.ok()) {
    if (deleted.status().kind() == ErrorKind::kNotFound) return DeletedKeyNotFound(name);
    return deleted.status();
  }
  COFFRE_ASSIGN_OR_RETURN(KeyBundle bundle, BundleOf(vault, deleted->latest));
  return DeletedKeyBundle{std::move(bundle), DeletionOf(*deleted)};
}

Result<Page<DeletedKeyItem>> KeyService::ListDeletedKeys(const store::VaultRecord& vault,
                                                         const PageRequest& page) {
  COFFRE_ASSIGN_OR_RETURN(auto records,
                          store_.ListDeletedKeys(vault.name, page.cursor, page.max_results));
  Page<DeletedKeyItem> result;
  for (const auto& r : records.items) {
    result.items.push_back({ItemOf(vault, r.latest, false), DeletionOf(r)});
  }
  result.next_cursor = std::move(records.next_cursor);
  return result;
}

Result<KeyBundle> KeyService::RecoverDeletedKey(const store::VaultRecord& vault,
                                                std::string_view name) {
  auto recovered = store_.RecoverKey(vault.name, name);
  if (!recovered.ok()) {
    if (recovered.status().kind() == ErrorKind::kNotFound) return KeyNotFound(name);
    if (store::HasReason(recovered.status(), store::reason::kManaged)) {
      return KeyManagedByKeyVault("recover");
    }
    return recovered.status();
  }
  return BundleOf(vault, *recovered);
}

Status KeyService::PurgeDeletedKey(const store::VaultRecord& vault, std::string_view name) {
  if (vault.purge_protection) {
    return Status::Forbidden(
        "Operation \"purge\" is not allowed because purge protection is enabled for this vault. "
        "Key Vault service will automatically purge it after the retention period has passed. "
        "Vault: " +
            vault.name + ";location=local",
        "ForbiddenByPolicy");
  }
  Status purged = store_.PurgeKey(vault.name, name);
  material_.ForgetKey(vault.name, name);
  if (purged.kind() == ErrorKind::kNotFound) return DeletedKeyNotFound(name);
  if (store::HasReason(purged, store::reason::kManaged)) return KeyManagedByKeyVault("purge");
  return purged;
}

Result<int> KeyService::PurgeExpiredKeys() { return store_.PurgeExpiredKeys(clock_.NowSeconds()); }

// ---- rotation

Result<KeyBundle> KeyService::AddRotatedVersion(const store::VaultRecord& vault,
                                                const store::KeyVersionRecord& latest,
                                                std::optional<int64_t> expected_latest_sequence) {
  auto kty = KeyTypeFromName(latest.key_type);
  if (!kty) return Status::Internal("A stored key has an unknown type.");
  COFFRE_ASSIGN_OR_RETURN(auto material, material_.KeyMaterialOf(latest));
  COFFRE_ASSIGN_OR_RETURN(NewKeyMaterial fresh, GenerateKey(SameKindAs(latest, *kty, *material)));

  store::KeyVersionRecord record;
  record.name = latest.name;
  record.key_type = latest.key_type;
  record.key_ops = latest.key_ops;
  record.tags = latest.tags;
  record.public_key = std::move(fresh.public_key);
  auto stored_policy = store_.GetRotationPolicy(vault.name, latest.name);
  if (!stored_policy.ok()) {
    // Deleted since it was read.
    if (stored_policy.status().kind() == ErrorKind::kNotFound) return KeyNotFound(latest.name);
    return stored_policy.status();
  }
  auto policy = std::move(*stored_policy);
  if (policy && policy->expiry_time) {
    if (auto expiry = ParseIsoDuration(*policy->expiry_time)) {
      record.expires = AddIsoDuration(clock_.NowSeconds(), *expiry);
    }
  }
  return StoreNewVersion(vault, std::move(record), fresh.private_material, fresh.public_params,
                         expected_latest_sequence);
}

Result<KeyBundle> KeyService::RotateKey(const store::VaultRecord& vault, std::string_view name) {
  if (!IsValidObjectName(name)) {
    return Status::BadParameter("The request URI contains an invalid name: " + std::string(name));
  }
  auto latest = store_.GetKeyVersion(vault.name, name, "");
  if (!latest.ok()) {
    if (latest.status().kind() == ErrorKind::kNotFound) return KeyNotFound(name);
    return latest.status();
  }
  return AddRotatedVersion(vault, *latest, std::nullopt);
}

Result<KeyBundle> KeyService::RotateIfLatest(const store::VaultRecord& vault,
                                             const store::KeyVersionRecord& latest) {
  return AddRotatedVersion(vault, latest, latest.sequence);
}

Result<RotationPolicy> KeyService::GetRotationPolicy(const store::VaultRecord& vault,
                                                     std::string_view name) {
  auto stored = store_.GetRotationPolicy(vault.name, name);
  if (!stored.ok()) {
    if (stored.status().kind() == ErrorKind::kNotFound) return KeyNotFound(name);
    return stored.status();
  }
  if (!stored->has_value()) return DefaultRotationPolicy();
  return FromRecord(**stored);
}

Result<RotationPolicy> KeyService::UpdateRotationPolicy(const store::VaultRecord& vault,
                                                        std::string_view name,
                                                        RotationPolicy policy) {
  COFFRE_RETURN_IF_ERROR(ValidateRotationPolicy(policy));
  store::RotationPolicyRecord record = ToRecord(policy);
  record.vault = vault.name;
  record.name = std::string(name);
  record.created = record.updated = clock_.NowSeconds();
  auto stored = store_.PutRotationPolicy(record);
  if (!stored.ok()) {
    if (stored.status().kind() == ErrorKind::kNotFound) return KeyNotFound(name);
    return stored.status();
  }
  return FromRecord(*stored);
}

// ---- backup and restore
//
// A backup blob is kBackupMagic, a format version byte, then AES-256-GCM under a key derived
// from the master key (associated data: magic + version) over a BinaryWriter encoding of the
// key's versions (with their private material) and its rotation policy.

namespace {

constexpr std::string_view kBackupMagic = "CFKB";
constexpr uint8_t kBackupFormatVersion = 1;
constexpr std::string_view kBackupKeyPurpose = "coffre/key-backup/v1";
constexpr uint32_t kMaxBackupItems = 100000;

Status InvalidBackup() {
  return Status::BadParameter("The backup blob is not valid or was not made by this server.");
}

Status RestoreConflict() {
  return Status::Conflict(
      "There was a conflict restoring the key. This can happen if either: a second key with the "
      "same name was created after the first key was deleted; thus trying to restore a key whose "
      "name is already in use. To fix this, rename the second key to something else so that the "
      "restore works. The second probable cause of this exception is when multiple operations "
      "are performed in parallel against the key. To avoid this error, perform operations "
      "against a key in a sequential manner.");
}

std::string BackupAad() {
  return std::string(kBackupMagic) + static_cast<char>(kBackupFormatVersion);
}

void PutOptionalTime(BinaryWriter& w, const std::optional<int64_t>& t) {
  w.PutU8(t ? 1 : 0);
  if (t) w.PutI64(*t);
}

bool ReadOptionalTime(BinaryReader& r, std::optional<int64_t>& t) {
  auto present = r.U8();
  if (!present || *present > 1) return false;
  if (*present == 0) return true;
  auto v = r.I64();
  if (!v) return false;
  t = *v;
  return true;
}

bool ReadStrings(BinaryReader& r, std::vector<std::string>& out) {
  auto count = r.U32();
  if (!count || *count > kMaxBackupItems) return false;
  for (uint32_t i = 0; i < *count; ++i) {
    auto s = r.String();
    if (!s) return false;
    out.push_back(std::move(*s));
  }
  return true;
}

}  // namespace

Result<Bytes> KeyService::BackupKey(const store::VaultRecord& vault, std::string_view name) {
  std::vector<store::KeyVersionRecord> versions;
  std::string cursor;
  do {
    auto page = store_.ListKeyVersions(vault.name, name, cursor, 100);
    if (!page.ok()) {
      if (page.status().kind() == ErrorKind::kNotFound) return KeyNotFound(name);
      return page.status();
    }
    for (auto& v : page->items) versions.push_back(std::move(v));
    cursor = page->next_cursor;
  } while (!cursor.empty());
  if (versions.empty()) return KeyNotFound(name);
  auto stored_policy = store_.GetRotationPolicy(vault.name, name);
  if (!stored_policy.ok()) {
    // Deleted since its versions were read.
    if (stored_policy.status().kind() == ErrorKind::kNotFound) return KeyNotFound(name);
    return stored_policy.status();
  }
  auto policy = std::move(*stored_policy);

  BinaryWriter w;
  w.PutString(versions.front().name);
  w.PutU32(static_cast<uint32_t>(versions.size()));
  for (const auto& v : versions) {
    COFFRE_ASSIGN_OR_RETURN(SecureBytes material, material_.OpenKeyVersion(v));
    w.PutString(v.version);
    w.PutString(v.key_type);
    w.PutU32(static_cast<uint32_t>(v.key_ops.size()));
    for (const auto& op : v.key_ops) w.PutString(op);
    w.PutU8(v.enabled ? 1 : 0);
    PutOptionalTime(w, v.not_before);
    PutOptionalTime(w, v.expires);
    w.PutI64(v.created);
    w.PutI64(v.updated);
    w.PutU32(static_cast<uint32_t>(v.tags.size()));
    for (const auto& [tag, value] : v.tags) {
      w.PutString(tag);
      w.PutString(value);
    }
    w.PutBytes(v.public_key);
    w.PutBytes(material);
  }
  w.PutU8(policy ? 1 : 0);
  if (policy) {
    w.PutU32(static_cast<uint32_t>(policy->actions.size()));
    for (const auto& a : policy->actions) {
      w.PutString(a.action);
      w.PutString(a.trigger);
      w.PutString(a.duration);
    }
    w.PutU8(policy->expiry_time ? 1 : 0);
    if (policy->expiry_time) w.PutString(*policy->expiry_time);
    w.PutI64(policy->created);
    w.PutI64(policy->updated);
  }
  COFFRE_ASSIGN_OR_RETURN(Bytes sealed,
                          material_.SealBackup(kBackupKeyPurpose, w.bytes(), AsBytes(BackupAad())));
  Bytes blob(kBackupMagic.begin(), kBackupMagic.end());
  blob.push_back(kBackupFormatVersion);
  blob.insert(blob.end(), sealed.begin(), sealed.end());
  return blob;
}

Result<KeyBundle> KeyService::RestoreKey(const store::VaultRecord& vault, ByteSpan backup) {
  if (backup.size() <= kBackupMagic.size() + 1 ||
      AsChars(backup.subspan(0, kBackupMagic.size())) != kBackupMagic ||
      backup[kBackupMagic.size()] != kBackupFormatVersion) {
    return InvalidBackup();
  }
  auto payload = material_.OpenBackup(kBackupKeyPurpose, backup.subspan(kBackupMagic.size() + 1),
                                      AsBytes(BackupAad()));
  if (!payload.ok()) return InvalidBackup();

  BinaryReader r(*payload);
  auto name = r.String();
  auto count = r.U32();
  if (!name || !IsValidObjectName(*name) || !count || *count == 0 || *count > kMaxBackupItems) {
    return InvalidBackup();
  }
  std::vector<store::KeyVersionRecord> versions;
  for (uint32_t i = 0; i < *count; ++i) {
    store::KeyVersionRecord v;
    v.vault = vault.name;
    v.name = *name;
    auto version = r.String();
    auto key_type = r.String();
    if (!version || !IsValidVersion(*version) || !key_type || !KeyTypeFromName(*key_type) ||
        !ReadStrings(r, v.key_ops)) {
      return InvalidBackup();
    }
    v.version = *version;
    v.key_type = *key_type;
    auto enabled = r.U8();
    if (!enabled || *enabled > 1 || !ReadOptionalTime(r, v.not_before) ||
        !ReadOptionalTime(r, v.expires)) {
      return InvalidBackup();
    }
    v.enabled = *enabled == 1;
    auto created = r.I64();
    auto updated = r.I64();
    auto tag_count = r.U32();
    if (!created || !updated || !tag_count || *tag_count > kMaxBackupItems) return InvalidBackup();
    v.created = *created;
    v.updated = *updated;
    for (uint32_t t = 0; t < *tag_count; ++t) {
      auto tag = r.String();
      auto value = r.String();
      if (!tag || !value) return InvalidBackup();
      v.tags.emplace_back(std::move(*tag), std::move(*value));
    }
    auto public_key = r.Bytes();
    auto material = r.Bytes();
    if (!public_key || !material) return InvalidBackup();
    v.public_key.assign(public_key->begin(), public_key->end());
    COFFRE_ASSIGN_OR_RETURN(v.sealed_private_key, material_.SealKeyVersion(v, *material));
    // A version whose public key does not parse would be stored and then fail every read (500).
    if (!BundleOf(vault, v).ok()) return InvalidBackup();
    versions.push_back(std::move(v));
  }
  std::optional<store::RotationPolicyRecord> policy;
  auto has_policy = r.U8();
  if (!has_policy || *has_policy > 1) return InvalidBackup();
  if (*has_policy == 1) {
    policy.emplace();
    policy->vault = vault.name;
    policy->name = *name;
    auto action_count = r.U32();
    if (!action_count || *action_count > 16) return InvalidBackup();
    for (uint32_t a = 0; a < *action_count; ++a) {
      auto action = r.String();
      auto trigger = r.String();
      auto duration = r.String();
      if (!action || !trigger || !duration) return InvalidBackup();
      policy->actions.push_back({std::move(*action), std::move(*trigger), std::move(*duration)});
    }
    auto has_expiry = r.U8();
    if (!has_expiry || *has_expiry > 1) return InvalidBackup();
    if (*has_expiry == 1) {
      auto expiry = r.String();
      if (!expiry) return InvalidBackup();
      policy->expiry_time = std::move(*expiry);
    }
    auto created = r.I64();
    auto updated = r.I64();
    if (!created || !updated || !FromRecord(*policy).ok()) return InvalidBackup();
    policy->created = *created;
    policy->updated = *updated;
  }
  if (!r.AtEnd()) return InvalidBackup();

  Status restored = store_.RestoreKey(versions, policy);
  if (restored.kind() == ErrorKind::kConflict) return RestoreConflict();
  if (restored.kind() == ErrorKind::kBadRequest) return InvalidBackup();
  COFFRE_RETURN_IF_ERROR(restored);
  return BundleOf(vault, versions.back());
}

}  // namespace coffre::service
