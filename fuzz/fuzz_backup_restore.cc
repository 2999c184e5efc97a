// Backup blobs: service::KeyService::RestoreKey with fuzzed blobs. Blobs are sealed (AES-GCM
// under a key derived from the master key), so besides raw blobs the harness seals fuzzed
// payloads itself with the fixed fuzzing master key: the decoder behind the seal is reached.
// The seeds are real BackupKey output (blobs and their opened payloads) for several kinds of
// key, which libFuzzer then mutates.
//
// Properties: a failed restore leaves the vault as it was; a restored key backs up again, and
// that backup restores to the same key.
//
// The first byte picks what the rest is: 0 a blob as a client would send it; 1 a payload to
// seal into a blob first.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_common.h"

namespace {

using coffre::AsBytes;
using coffre::AsChars;
using coffre::Bytes;
using coffre::ByteSpan;
namespace fz = coffre::fuzz;
namespace service = coffre::service;

// Mirrors the blob format of service/key_service.cc (checked at start-up).
constexpr std::string_view kMagic = "CFKB";
constexpr char kFormatVersion = 1;
constexpr std::string_view kBackupKeyPurpose = "coffre/key-backup/v1";

fz::World* world = nullptr;
coffre::store::VaultRecord source;

std::string Aad() { return std::string(kMagic) + kFormatVersion; }

Bytes Seal(ByteSpan payload) {
  auto sealed = world->barrier->SealBackup(kBackupKeyPurpose, payload, AsBytes(Aad()));
  if (!sealed.ok()) fz::Fail("sealing failed", sealed.status().ToString());
  Bytes blob(kMagic.begin(), kMagic.end());
  blob.push_back(kFormatVersion);
  blob.insert(blob.end(), sealed->begin(), sealed->end());
  return blob;
}

std::optional<coffre::SecureBytes> Open(ByteSpan blob) {
  if (blob.size() <= kMagic.size() + 1) return std::nullopt;
  auto opened = world->barrier->OpenBackup(kBackupKeyPurpose, blob.subspan(kMagic.size() + 1),
                                           AsBytes(Aad()));
  if (!opened.ok()) return std::nullopt;
  return std::move(*opened);
}

// Names of every key in vault dev, active or deleted.
std::vector<std::string> KeysInDev() {
  std::vector<std::string> names;
  service::PageRequest page;
  do {
    auto listed = world->keys->ListKeys(world->vault(), page);
    if (!listed.ok()) fz::Fail("ListKeys failed", listed.status().ToString());
    for (const auto& item : listed->items) names.push_back(item.name);
    page.cursor = listed->next_cursor;
  } while (!page.cursor.empty());
  do {
    auto listed = world->keys->ListDeletedKeys(world->vault(), page);
    if (!listed.ok()) fz::Fail("ListDeletedKeys failed", listed.status().ToString());
    for (const auto& item : listed->items) names.push_back(item.item.name);
    page.cursor = listed->next_cursor;
  } while (!page.cursor.empty());
  return names;
}

void ClearDev() {
  for (const auto& name : KeysInDev()) {
    COFFRE_FUZZ_CHECK(fz::RemoveKey(*world, name), name);
  }
}

bool SameBundle(const service::KeyBundle& a, const service::KeyBundle& b) {
  return a.name == b.name && a.version == b.version && a.key.kty == b.key.kty &&
         a.key.key_ops == b.key.key_ops && a.key.params.n == b.key.params.n &&
         a.key.params.e == b.key.params.e && a.key.params.x == b.key.params.x &&
         a.key.params.y == b.key.params.y && a.attributes.enabled == b.attributes.enabled &&
         a.attributes.not_before == b.attributes.not_before &&
         a.attributes.expires == b.attributes.expires &&
         a.attributes.created == b.attributes.created && a.tags == b.tags;
}

void Restore(ByteSpan blob) {
  auto restored = world->keys->RestoreKey(world->vault(), blob);
  if (!restored.ok()) {
    auto left = KeysInDev();
    COFFRE_FUZZ_CHECK(left.empty(), "a failed restore (" + restored.status().ToString() +
                                        ") left key " + left.front() + " behind");
    return;
  }
  const std::string name = restored->name;
  auto got = world->keys->GetKey(world->vault(), name, "");
  COFFRE_FUZZ_CHECK(got.ok(), got.status().ToString());
  (void)world->keys->GetRotationPolicy(world->vault(), name);
  // Use the restored material (it came from the blob).
  service::KeyOperationRequest sign;
  sign.algorithm = service::IsEc(restored->key.kty) ? "ES256" : "PS256";
  sign.value.assign(32, 1);
  (void)world->crypto->Perform(world->vault(), name, "", service::KeyOperation::kSign, sign);

  auto again = world->keys->BackupKey(world->vault(), name);
  COFFRE_FUZZ_CHECK(again.ok(), "a restored key does not back up: " + again.status().ToString());
  COFFRE_FUZZ_CHECK(fz::RemoveKey(*world, name), name);
  auto second = world->keys->RestoreKey(world->vault(), *again);
  COFFRE_FUZZ_CHECK(second.ok(), "its backup does not restore: " + second.status().ToString());
  COFFRE_FUZZ_CHECK(SameBundle(*restored, *second), "backup round trip changed the key");
}

Bytes Backup(std::string_view name) {
  auto blob = world->keys->BackupKey(source, name);
  if (!blob.ok()) fz::Fail("BackupKey failed", blob.status().ToString());
  return *blob;
}

void Create(const std::string& name, std::string_view body_kty, int size = 0) {
  service::CreateKeyRequest request;
  request.name = name;
  request.kty = *service::KeyTypeFromName(body_kty);
  if (size) request.key_size = size;
  request.tags = service::Tags{{"env", "fuzz"}, {"owner", "coffre"}};
  auto created = world->keys->CreateKey(source, request);
  if (!created.ok()) fz::Fail("CreateKey failed", created.status().ToString());
}

// Checks that the harness still knows the blob format, and writes seeds if asked.
void Prepare() {
  source.name = "src";
  source.created = fz::kNow;
  if (auto s = world->vaults->Ensure(source); !s.ok()) fz::Fail("vault src", s.ToString());
  Create("probe", "oct-HSM", 128);
  auto payload = Open(Backup("probe"));
  if (!payload) {
    fz::Fail(
        "fuzz_backup_restore.cc no longer matches the backup blob format of "
        "service/key_service.cc; update kMagic / kFormatVersion / kBackupKeyPurpose");
  }
  std::string dir = fz::SeedOutputDir();
  if (dir.empty()) return;
  auto write = [&](const std::string& name) {
    Bytes blob = Backup(name);
    auto opened = Open(blob);
    fz::WriteFile(dir, "blob-" + name, std::string(1, '\0') + std::string(AsChars(blob)));
    fz::WriteFile(dir, "payload-" + name, std::string(1, '\1') + std::string(AsChars(*opened)));
  };
  write("probe");
  Create("ec", "EC");
  write("ec");
  Create("rsa", "RSA", 2048);
  write("rsa");
  // Several versions, a rotation policy and attributes.
  Create("multi", "EC-HSM");
  Create("multi", "EC-HSM");
  service::RotationPolicy policy;
  policy.actions.push_back(
      {service::LifetimeActionType::kRotate, service::LifetimeTrigger::kTimeAfterCreate, "P90D"});
  policy.actions.push_back(
      {service::LifetimeActionType::kNotify, service::LifetimeTrigger::kTimeBeforeExpiry, "P30D"});
  policy.expiry_time = "P1Y";
  auto updated = world->keys->UpdateRotationPolicy(source, "multi", policy);
  if (!updated.ok()) fz::Fail("UpdateRotationPolicy failed", updated.status().ToString());
  service::UpdateKeyRequest disable;
  disable.attributes.enabled = false;
  disable.attributes.not_before = fz::kNow - 10;
  disable.attributes.expires = fz::kNow + 86400;
  auto patched = world->keys->UpdateKey(source, "multi", "", disable);
  if (!patched.ok()) fz::Fail("UpdateKey failed", patched.status().ToString());
  write("multi");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world = new fz::World(fz::ScratchDir("backup_restore"));
  Prepare();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fz::Reader in(data, size);
  if (in.U8() % 2 == 0) {
    Restore(in.Rest());
  } else {
    Restore(Seal(in.Rest()));
  }
  ClearDev();
  return 0;
}
