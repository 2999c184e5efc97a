#include "service/key_service.h"

#include <algorithm>

#include "crypto/asymmetric_key.h"
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

Status ValidateKeyOps(const std::vector<std::string>& ops) {
  for (const auto& op : ops) {
    if (!IsKeyOperation(op)) {
      return Status::BadParameter("Invalid key operation: " + op.substr(0, 64));
    }
  }
  return Status::Ok();
}

Status ValidateTags(const Tags& tags) {
  if (tags.size() > kMaxTags) {
    return Status::BadParameter("The number of tags exceeds the limit of 15.");
  }
  for (const auto& [name, value] : tags) {
    if (name.empty() || name.size() > kMaxTagNameLength) {
      return Status::BadParameter("Tag names must be 1 to 256 characters long.");
    }
    if (value.size() > kMaxTagValueLength) {
      return Status::BadParameter("Tag values must be at most 256 characters long.");
    }
  }
  return Status::Ok();
}

Tags SortedTags(Tags tags) {
  std::sort(tags.begin(), tags.end());
  return tags;
}

Status ConflictDeleted(std::string_view name) {
  return Status::Conflict("Key " + std::string(name) +
                              " is currently in a deleted but recoverable state, and its name "
                              "cannot be reused; in this state, the key can only be recovered "
                              "or purged.",
                          "ObjectIsDeletedButRecoverable");
}

Result<crypto::AsymmetricKey> GenerateKeyPair(const CreateKeyRequest& request) {
  if (IsRsa(request.kty)) {
    if (request.curve) {
      return Status::BadParameter("The property crv is not valid for key type " +
                                  std::string(KeyTypeName(request.kty)) + ".");
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
    return crypto::AsymmetricKey::GenerateRsa(size, exponent);
  }
  if (IsEc(request.kty)) {
    if (request.public_exponent) {
      return Status::BadParameter("The property public_exponent is not valid for key type " +
                                  std::string(KeyTypeName(request.kty)) + ".");
    }
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
    return crypto::AsymmetricKey::GenerateEc(curve);
  }
  return Status::BadParameter("Invalid kty value: " + std::string(KeyTypeName(request.kty)),
                              "KeyTypeNotSupported");
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

KeyService::KeyService(store::Store& store, const store::Barrier& barrier, const Clock& clock)
    : store_(store), barrier_(barrier), clock_(clock) {}

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

Result<KeyBundle> BundleOf(const store::VaultRecord& vault, const store::KeyVersionRecord& r) {
  KeyBundle bundle;
  bundle.name = r.name;
  bundle.version = r.version;
  auto kty = KeyTypeFromName(r.key_type);
  if (!kty) return Status::Internal("A stored key has an unknown type.");
  bundle.key.kty = *kty;
  bundle.key.key_ops = r.key_ops;
  if (IsRsa(*kty) || IsEc(*kty)) {
    auto public_key = crypto::AsymmetricKey::FromPublicDer(r.public_key);
    if (!public_key.ok()) return Status::Internal("A stored public key could not be read.");
    bundle.key.params = public_key->PublicParams();
  }
  bundle.attributes = AttributesOf(vault, r);
  bundle.tags = r.tags;
  return bundle;
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
  std::vector<std::string> key_ops = request.key_ops.value_or(DefaultKeyOps(request.kty));
  COFFRE_RETURN_IF_ERROR(ValidateKeyOps(key_ops));
  Tags tags = SortedTags(request.tags.value_or(Tags{}));
  COFFRE_RETURN_IF_ERROR(ValidateTags(tags));

  // Refuse a deleted name before spending time on key generation; AddKeyVersion checks again
  // atomically.
  if (auto deleted = store_.GetDeletedKey(vault.name, request.name); deleted.ok()) {
    return ConflictDeleted(request.name);
  }

  COFFRE_ASSIGN_OR_RETURN(crypto::AsymmetricKey key_pair, GenerateKeyPair(request));

  store::KeyVersionRecord record;
  record.vault = vault.name;
  record.name = request.name;
  record.version = crypto::RandomHex(16);
  record.key_type = std::string(KeyTypeName(request.kty));
  record.key_ops = std::move(key_ops);
  record.enabled = request.attributes.enabled.value_or(true);
  record.not_before = request.attributes.not_before;
  record.expires = request.attributes.expires;
  record.created = record.updated = clock_.NowSeconds();
  record.tags = std::move(tags);
  record.public_key = key_pair.PublicDer();
  {
    SecureBytes private_der = key_pair.PrivateDer();
    if (private_der.empty()) return Status::Internal("Key generation failed.");
    COFFRE_ASSIGN_OR_RETURN(
        record.sealed_private_key,
        barrier_.Seal(private_der,
                      store::Barrier::KeyMaterialContext(vault.name, request.name, record.version)));
  }

  Status added = store_.AddKeyVersion(record);
  if (added.kind() == ErrorKind::kConflict && added.inner_code() == "deleted") {
    return ConflictDeleted(request.name);
  }
  if (added.kind() == ErrorKind::kNotFound) {
    return Status::NotFound("VaultNotFound", "The vault " + vault.name + " does not exist.");
  }
  COFFRE_RETURN_IF_ERROR(added);
  return BundleOf(vault, record);
}

Result<KeyBundle> KeyService::GetKey(const store::VaultRecord& vault, std::string_view name,
                                     std::string_view version) {
  std::string id = version.empty() ? std::string(name) : std::string(name) + "/" +
                                                             std::string(version);
  if (!version.empty() && !IsValidVersion(version)) return KeyNotFound(id);
  auto record = store_.GetKeyVersion(vault.name, name, version);
  if (!record.ok()) {
    if (record.status().kind() == ErrorKind::kNotFound) return KeyNotFound(id);
    return record.status();
  }
  return BundleOf(vault, *record);
}

Result<KeyBundle> KeyService::UpdateKey(const store::VaultRecord& vault, std::string_view name,
                                        std::string_view version,
                                        const UpdateKeyRequest& request) {
  std::string id = version.empty() ? std::string(name) : std::string(name) + "/" +
                                                             std::string(version);
  if (!version.empty() && !IsValidVersion(version)) return KeyNotFound(id);
  if (request.key_ops) COFFRE_RETURN_IF_ERROR(ValidateKeyOps(*request.key_ops));
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
  if (request.key_ops) record.key_ops = *request.key_ops;
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
                                                  std::string_view name,
                                                  const PageRequest& page) {
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
  auto deleted = store_.DeleteKey(vault.name, name, now,
                                  now + int64_t{vault.retention_days} * kSecondsPerDay);
  if (!deleted.ok()) {
    if (deleted.status().kind() == ErrorKind::kNotFound) return KeyNotFound(name);
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
  if (purged.kind() == ErrorKind::kNotFound) return DeletedKeyNotFound(name);
  return purged;
}

Result<int> KeyService::PurgeExpiredKeys() { return store_.PurgeExpiredKeys(clock_.NowSeconds()); }

}  // namespace coffre::service
