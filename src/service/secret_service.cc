#include "service/secret_service.h"

#include <algorithm>
#include <utility>

#include "common/binary_codec.h"
#include "crypto/random.h"
#include "service/key_service.h"

namespace coffre::service {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

// Characters, not bytes: the service counts the content type as text.
size_t Utf8Length(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

Status ValidateContentType(const std::optional<std::string>& content_type) {
  if (content_type && Utf8Length(*content_type) > kMaxContentTypeLength) {
    return Status::BadParameter("The content type of the secret is longer than the maximum of " +
                                std::to_string(kMaxContentTypeLength) + " characters.");
  }
  return Status::Ok();
}

Status InvalidName(std::string_view name) {
  return Status::BadParameter("The request URI contains an invalid name: " +
                              std::string(name.substr(0, 256)));
}

Status ConflictDeleted(std::string_view name) {
  return Status::Conflict("Secret " + std::string(name) +
                              " is currently in a deleted but recoverable state, and its name "
                              "cannot be reused; in this state, the secret can only be recovered "
                              "or purged.",
                          "ObjectIsDeletedButRecoverable");
}

Status SecretDisabled() {
  return Status::Forbidden("Operation get is not allowed on a disabled secret.", "SecretDisabled");
}

// What the secrets API may not do to a secret whose lifetime a certificate manages.
Status ManagedByKeyVault(std::string_view operation) {
  return Status::Forbidden("Operation \"" + std::string(operation) +
                               "\" is not allowed as this object's lifetime is managed by Key "
                               "Vault.",
                           "SecretManagedByKeyVault");
}

Status VaultGone(const store::VaultRecord& vault) {
  return Status::NotFound("VaultNotFound", "The vault " + vault.name + " does not exist.");
}

SecretAttributes AttributesOf(const store::VaultRecord& vault,
                              const store::SecretVersionRecord& r) {
  SecretAttributes attributes;
  attributes.enabled = r.enabled;
  attributes.not_before = r.not_before;
  attributes.expires = r.expires;
  attributes.created = r.created;
  attributes.updated = r.updated;
  attributes.recoverable_days = vault.retention_days;
  attributes.recovery_level = RecoveryLevel(vault);
  return attributes;
}

// The bundle of a stored version, without its value.
SecretBundle BundleOf(const store::VaultRecord& vault, const store::SecretVersionRecord& r) {
  SecretBundle bundle;
  bundle.name = r.name;
  bundle.version = r.version;
  bundle.content_type = r.content_type;
  bundle.attributes = AttributesOf(vault, r);
  bundle.tags = r.tags;
  bundle.managed = r.managed;
  bundle.key_id = r.key_id;
  return bundle;
}

SecretItem ItemOf(const store::VaultRecord& vault, const store::SecretVersionRecord& r,
                  bool with_version) {
  SecretItem item;
  item.name = r.name;
  if (with_version) item.version = r.version;
  item.content_type = r.content_type;
  item.attributes = AttributesOf(vault, r);
  item.tags = r.tags;
  item.managed = r.managed;
  return item;
}

DeletionInfo DeletionOf(const store::DeletedSecretRecord& r) {
  return {r.deleted_date, r.scheduled_purge_date};
}

// A listing cursor the store refuses came from a forged or damaged $skiptoken.
Status ListingError(const Status& status) {
  if (status.kind() == ErrorKind::kBadRequest) {
    return Status::BadParameter("The $skiptoken is not valid.");
  }
  return status;
}

std::string IdOf(std::string_view name, std::string_view version) {
  return version.empty() ? std::string(name) : std::string(name) + "/" + std::string(version);
}

}  // namespace

Status SecretService::SecretNotFound(std::string_view name_or_id) {
  return Status::NotFound(
      "SecretNotFound",
      "A secret with (name/id) " + std::string(name_or_id.substr(0, 300)) +
          " was not found in this key vault. If you recently deleted this secret you may be able "
          "to recover it using the correct recovery command. For help resolving this issue, "
          "please see https://go.microsoft.com/fwlink/?linkid=2125182");
}

Status SecretService::DeletedSecretNotFound(std::string_view name) {
  return Status::NotFound("SecretNotFound",
                          "Deleted Secret not found: " + std::string(name.substr(0, 256)));
}

SecretService::SecretService(store::Store& store, MaterialBarrier& material, const Clock& clock)
    : store_(store), material_(material), clock_(clock) {}

Result<SecretBundle> SecretService::SetSecret(const store::VaultRecord& vault,
                                              const SetSecretRequest& request) {
  return AddVersion(vault, request, std::nullopt);
}

Result<SecretBundle> SecretService::SetManagedSecret(const store::VaultRecord& vault,
                                                     const SetSecretRequest& request,
                                                     std::string key_id) {
  return AddVersion(vault, request, std::move(key_id));
}

Result<SecretBundle> SecretService::AddVersion(const store::VaultRecord& vault,
                                               const SetSecretRequest& request,
                                               std::optional<std::string> key_id) {
  if (!IsValidObjectName(request.name)) return InvalidName(request.name);
  if (request.value.size() > kMaxSecretValueBytes) {
    return Status::BadParameter("Secret is beyond the maximum permitted length of " +
                                std::to_string(kMaxSecretValueBytes) + " characters.");
  }
  COFFRE_RETURN_IF_ERROR(ValidateContentType(request.content_type));
  Tags tags = SortedTags(request.tags.value_or(Tags{}));
  COFFRE_RETURN_IF_ERROR(ValidateTags(tags));

  store::SecretVersionRecord record;
  record.vault = vault.name;
  record.name = request.name;
  record.version = crypto::RandomHex(16);
  record.content_type = request.content_type;
  record.enabled = request.attributes.enabled.value_or(true);
  record.not_before = request.attributes.not_before;
  record.expires = request.attributes.expires;
  record.created = record.updated = clock_.NowSeconds();
  record.tags = std::move(tags);
  record.managed = key_id.has_value();
  record.key_id = std::move(key_id);
  COFFRE_ASSIGN_OR_RETURN(
      record.sealed_value,
      material_.Seal(SealBinding::SecretVersion(record.vault, record.name, record.version),
                     AsBytes(request.value)));
  Status added = store_.AddSecretVersion(record);
  if (store::HasReason(added, store::reason::kDeleted)) return ConflictDeleted(request.name);
  if (store::HasReason(added, store::reason::kManaged)) return ManagedByKeyVault("set");
  if (added.kind() == ErrorKind::kNotFound) return VaultGone(vault);
  COFFRE_RETURN_IF_ERROR(added);
  SecretBundle bundle = BundleOf(vault, record);
  bundle.value = request.value;
  bundle.has_value = true;
  return bundle;
}

Result<SecretBundle> SecretService::GetSecret(const store::VaultRecord& vault,
                                              std::string_view name, std::string_view version) {
  const std::string id = IdOf(name, version);
  if (!version.empty() && !IsValidVersion(version)) return SecretNotFound(id);
  auto record = store_.GetSecretVersion(vault.name, name, version);
  if (!record.ok()) {
    if (record.status().kind() == ErrorKind::kNotFound) return SecretNotFound(id);
    return record.status();
  }
  // nbf and exp are informational: only a disabled version refuses to be read.
  if (!record->enabled) return SecretDisabled();
  auto value =
      material_.Open(SealBinding::SecretVersion(record->vault, record->name, record->version),
                     record->sealed_value);
  if (!value.ok()) return Status::Internal("A stored secret could not be read.");
  SecretBundle bundle = BundleOf(vault, *record);
  bundle.value.assign(reinterpret_cast<const char*>(value->data()), value->size());
  bundle.has_value = true;
  return bundle;
}

Result<SecretBundle> SecretService::UpdateSecret(const store::VaultRecord& vault,
                                                 std::string_view name, std::string_view version,
                                                 const UpdateSecretRequest& request) {
  const std::string id = IdOf(name, version);
  if (!version.empty() && !IsValidVersion(version)) return SecretNotFound(id);
  COFFRE_RETURN_IF_ERROR(ValidateContentType(request.content_type));
  std::optional<Tags> tags;
  if (request.tags) {
    tags = SortedTags(*request.tags);
    COFFRE_RETURN_IF_ERROR(ValidateTags(*tags));
  }
  auto current = store_.GetSecretVersion(vault.name, name, version);
  if (!current.ok()) {
    if (current.status().kind() == ErrorKind::kNotFound) return SecretNotFound(id);
    return current.status();
  }
  if (current->managed) return ManagedByKeyVault("update");
  store::SecretVersionRecord record = std::move(*current);
  if (request.content_type) record.content_type = request.content_type;
  if (request.attributes.enabled) record.enabled = *request.attributes.enabled;
  if (request.attributes.not_before) record.not_before = request.attributes.not_before;
  if (request.attributes.expires) record.expires = request.attributes.expires;
  if (tags) record.tags = std::move(*tags);
  record.updated = clock_.NowSeconds();
  auto stored = store_.UpdateSecretVersion(record);
  if (!stored.ok()) {
    if (stored.status().kind() == ErrorKind::kNotFound) return SecretNotFound(id);
    return stored.status();
  }
  return BundleOf(vault, *stored);
}

Result<Page<SecretItem>> SecretService::ListSecrets(const store::VaultRecord& vault,
                                                    const PageRequest& page) {
  auto records = store_.ListSecrets(vault.name, page.cursor, page.max_results);
  if (!records.ok()) return ListingError(records.status());
  Page<SecretItem> result;
  for (const auto& r : records->items) result.items.push_back(ItemOf(vault, r, false));
  result.next_cursor = std::move(records->next_cursor);
  return result;
}

Result<Page<SecretItem>> SecretService::ListSecretVersions(const store::VaultRecord& vault,
                                                           std::string_view name,
                                                           const PageRequest& page) {
  auto records = store_.ListSecretVersions(vault.name, name, page.cursor, page.max_results);
  Page<SecretItem> result;
  if (!records.ok()) {
    // The service answers an empty list for a name with no active secret.
    if (records.status().kind() == ErrorKind::kNotFound) return result;
    return ListingError(records.status());
  }
  for (const auto& r : records->items) result.items.push_back(ItemOf(vault, r, true));
  result.next_cursor = std::move(records->next_cursor);
  return result;
}

Result<DeletedSecretBundle> SecretService::DeleteSecret(const store::VaultRecord& vault,
                                                        std::string_view name) {
  auto latest = store_.GetSecretVersion(vault.name, name, "");
  if (!latest.ok()) {
    if (latest.status().kind() == ErrorKind::kNotFound) return SecretNotFound(name);
    return latest.status();
  }
  if (latest->managed) return ManagedByKeyVault("delete");
  const int64_t now = clock_.NowSeconds();
  auto deleted = store_.DeleteSecret(vault.name, name, now,
                                     now + int64_t{vault.retention_days} * kSecondsPerDay);
  if (!deleted.ok()) {
    if (deleted.status().kind() == ErrorKind::kNotFound) return SecretNotFound(name);
    return deleted.status();
  }
  return DeletedSecretBundle{BundleOf(vault, deleted->latest), DeletionOf(*deleted)};
}

Result<DeletedSecretBundle> SecretService::GetDeletedSecret(const store::VaultRecord& vault,
                                                            std::string_view name) {
  auto deleted = store_.GetDeletedSecret(vault.name, name);
  if (!deleted.ok()) {
    if (deleted.status().kind() == ErrorKind::kNotFound) return DeletedSecretNotFound(name);
    return deleted.status();
  }
  // As the service does: a deleted secret whose latest version is disabled does not show.
  if (!deleted->latest.enabled) return SecretDisabled();
  return DeletedSecretBundle{BundleOf(vault, deleted->latest), DeletionOf(*deleted)};
}

Result<Page<DeletedSecretItem>> SecretService::ListDeletedSecrets(const store::VaultRecord& vault,
                                                                  const PageRequest& page) {
  auto records = store_.ListDeletedSecrets(vault.name, page.cursor, page.max_results);
  if (!records.ok()) return ListingError(records.status());
  Page<DeletedSecretItem> result;
  for (const auto& r : records->items) {
    result.items.push_back({ItemOf(vault, r.latest, false), DeletionOf(r)});
  }
  result.next_cursor = std::move(records->next_cursor);
  return result;
}

Result<SecretBundle> SecretService::RecoverDeletedSecret(const store::VaultRecord& vault,
                                                         std::string_view name) {
  auto recovered = store_.RecoverSecret(vault.name, name);
  if (!recovered.ok()) {
    if (recovered.status().kind() == ErrorKind::kNotFound) return DeletedSecretNotFound(name);
    if (store::HasReason(recovered.status(), store::reason::kManaged)) {
      return ManagedByKeyVault("recover");
    }
    return recovered.status();
  }
  return BundleOf(vault, *recovered);
}

Status SecretService::PurgeDeletedSecret(const store::VaultRecord& vault, std::string_view name) {
  if (vault.purge_protection) {
    return Status::BadParameter("Operation \"purge\" is not enabled for this vault.",
                                "NotSupported");
  }
  Status purged = store_.PurgeSecret(vault.name, name);
  if (purged.kind() == ErrorKind::kNotFound) return DeletedSecretNotFound(name);
  if (store::HasReason(purged, store::reason::kManaged)) return ManagedByKeyVault("purge");
  return purged;
}

Result<int> SecretService::PurgeExpiredSecrets() {
  return store_.PurgeExpiredSecrets(clock_.NowSeconds());
}

// ---- backup and restore
//
// A backup blob is kBackupMagic, a format version byte, then AES-256-GCM under a key derived
// from the master key for secret backups (associated data: magic + version) over a BinaryWriter
// encoding of the secret's versions with their values. Keys' backups use another magic and
// another derived key, so neither restores as the other.

namespace {

constexpr std::string_view kBackupMagic = "CFSB";
constexpr uint8_t kBackupFormatVersion = 1;
constexpr std::string_view kBackupPurpose = "coffre/secret-backup/v1";
// Far above what one secret can have; bounds what a forged count can make us allocate.
constexpr uint32_t kMaxBackupVersions = 100000;

Status InvalidBackup() {
  return Status::BadParameter("The backup blob is not valid or was not made by this server.");
}

Status RestoreConflict() {
  return Status::Conflict(
      "There was a conflict restoring the secret. This can happen if either: a second secret "
      "with the same name was created after the first secret was deleted; thus trying to "
      "restore a secret whose name is already in use. To fix this, rename the second secret to "
      "something else so that the restore works. The second probable cause of this exception is "
      "when multiple operations are performed in parallel against the secret. To avoid this "
      "error, perform operations against a secret in a sequential manner.");
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

void PutOptionalString(BinaryWriter& w, const std::optional<std::string>& s) {
  w.PutU8(s ? 1 : 0);
  if (s) w.PutString(*s);
}

bool ReadOptionalString(BinaryReader& r, std::optional<std::string>& s) {
  auto present = r.U8();
  if (!present || *present > 1) return false;
  if (*present == 0) return true;
  auto v = r.String();
  if (!v) return false;
  s = std::move(*v);
  return true;
}

}  // namespace

Result<Bytes> SecretService::BackupSecret(const store::VaultRecord& vault, std::string_view name) {
  std::vector<store::SecretVersionRecord> versions;
  std::string cursor;
  do {
    auto page = store_.ListSecretVersions(vault.name, name, cursor, 100);
    if (!page.ok()) {
      if (page.status().kind() == ErrorKind::kNotFound) return SecretNotFound(name);
      return page.status();
    }
    for (auto& v : page->items) versions.push_back(std::move(v));
    cursor = page->next_cursor;
  } while (!cursor.empty());
  if (versions.empty()) return SecretNotFound(name);

  BinaryWriter w;
  w.PutString(versions.front().name);
  w.PutU32(static_cast<uint32_t>(versions.size()));
  for (const auto& v : versions) {
    auto value =
        material_.Open(SealBinding::SecretVersion(v.vault, v.name, v.version), v.sealed_value);
    if (!value.ok()) return Status::Internal("A stored secret could not be read.");
    w.PutString(v.version);
    PutOptionalString(w, v.content_type);
    w.PutU8(v.enabled ? 1 : 0);
    PutOptionalTime(w, v.not_before);
    PutOptionalTime(w, v.expires);
    w.PutI64(v.created);
    w.PutI64(v.updated);
    w.PutU32(static_cast<uint32_t>(v.tags.size()));
    for (const auto& [tag, tag_value] : v.tags) {
      w.PutString(tag);
      w.PutString(tag_value);
    }
    w.PutU8(v.managed ? 1 : 0);
    PutOptionalString(w, v.key_id);
    w.PutBytes(*value);
  }
  COFFRE_ASSIGN_OR_RETURN(Bytes sealed,
                          material_.SealBackup(kBackupPurpose, w.bytes(), AsBytes(BackupAad())));
  Bytes blob(kBackupMagic.begin(), kBackupMagic.end());
  blob.push_back(kBackupFormatVersion);
  blob.insert(blob.end(), sealed.begin(), sealed.end());
  return blob;
}

Result<SecretBundle> SecretService::RestoreSecret(const store::VaultRecord& vault,
                                                  ByteSpan backup) {
  if (backup.size() <= kBackupMagic.size() + 1 ||
      AsChars(backup.subspan(0, kBackupMagic.size())) != kBackupMagic ||
      backup[kBackupMagic.size()] != kBackupFormatVersion) {
    return InvalidBackup();
  }
  auto payload = material_.OpenBackup(kBackupPurpose, backup.subspan(kBackupMagic.size() + 1),
                                      AsBytes(BackupAad()));
  if (!payload.ok()) return InvalidBackup();

  BinaryReader r(*payload);
  auto name = r.String();
  auto count = r.U32();
  if (!name || !IsValidObjectName(*name) || !count || *count == 0 || *count > kMaxBackupVersions) {
    return InvalidBackup();
  }
  std::vector<store::SecretVersionRecord> versions;
  for (uint32_t i = 0; i < *count; ++i) {
    store::SecretVersionRecord v;
    v.vault = vault.name;
    v.name = *name;
    auto version = r.String();
    if (!version || !IsValidVersion(*version) || !ReadOptionalString(r, v.content_type)) {
      return InvalidBackup();
    }
    v.version = *version;
    auto enabled = r.U8();
    if (!enabled || *enabled > 1 || !ReadOptionalTime(r, v.not_before) ||
        !ReadOptionalTime(r, v.expires)) {
      return InvalidBackup();
    }
    v.enabled = *enabled == 1;
    auto created = r.I64();
    auto updated = r.I64();
    auto tag_count = r.U32();
    if (!created || !updated || !tag_count || *tag_count > kMaxTags) return InvalidBackup();
    v.created = *created;
    v.updated = *updated;
    for (uint32_t t = 0; t < *tag_count; ++t) {
      auto tag = r.String();
      auto tag_value = r.String();
      if (!tag || !tag_value) return InvalidBackup();
      v.tags.emplace_back(std::move(*tag), std::move(*tag_value));
    }
    auto managed = r.U8();
    if (!managed || *managed > 1 || !ReadOptionalString(r, v.key_id)) return InvalidBackup();
    v.managed = *managed == 1;
    auto value = r.Bytes();
    if (!value || value->size() > kMaxSecretValueBytes) return InvalidBackup();
    COFFRE_ASSIGN_OR_RETURN(
        v.sealed_value,
        material_.Seal(SealBinding::SecretVersion(v.vault, v.name, v.version), *value));
    versions.push_back(std::move(v));
  }
  if (!r.AtEnd()) return InvalidBackup();

  Status restored = store_.RestoreSecret(versions);
  if (restored.kind() == ErrorKind::kConflict) return RestoreConflict();
  if (restored.kind() == ErrorKind::kBadRequest) return InvalidBackup();
  if (restored.kind() == ErrorKind::kNotFound) return VaultGone(vault);
  COFFRE_RETURN_IF_ERROR(restored);
  return BundleOf(vault, versions.back());
}

}  // namespace coffre::service
