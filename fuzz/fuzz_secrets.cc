// Secrets: set/update bodies (http/secret_json.h) through SecretService, and backup blobs
// through SecretService::RestoreSecret. Blobs are sealed under a key derived from the master key,
// so besides raw blobs the harness seals fuzzed payloads itself with the fixed fuzzing master
// key: the decoder behind the seal is reached.
//
// Properties: nothing crashes; every error renders as valid JSON and never echoes a value; a set
// that succeeds reads back the same value (and its response text is valid JSON holding it); a
// failed restore leaves the vault without secrets; a restored secret backs up again, and that
// backup restores to the same versions and values.
//
// The first byte picks what the rest is: 0 a set body (then an update body of the same bytes);
// 1 a blob as a client would send it; 2 a payload to seal into a blob first.
#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_common.h"
#include "http/key_json.h"
#include "http/secret_json.h"
#include "service/secret_service.h"

namespace {

using coffre::AsBytes;
using coffre::Bytes;
using coffre::ByteSpan;
namespace fz = coffre::fuzz;
namespace service = coffre::service;

// Mirrors the blob format of service/secret_service.cc.
constexpr std::string_view kMagic = "CFSB";
constexpr char kFormatVersion = 1;
constexpr std::string_view kPurpose = "coffre/secret-backup/v1";

fz::World* world = nullptr;
service::SecretService* secrets = nullptr;

std::string Aad() { return std::string(kMagic) + kFormatVersion; }

Bytes Seal(ByteSpan payload) {
  auto sealed = world->barrier->SealBackup(kPurpose, payload, AsBytes(Aad()));
  if (!sealed.ok()) fz::Fail("sealing failed", sealed.status().ToString());
  Bytes blob(kMagic.begin(), kMagic.end());
  blob.push_back(kFormatVersion);
  blob.insert(blob.end(), sealed->begin(), sealed->end());
  return blob;
}

std::vector<std::string> SecretsInDev() {
  std::vector<std::string> names;
  service::PageRequest page;
  do {
    auto listed = secrets->ListSecrets(world->vault(), page);
    if (!listed.ok()) fz::Fail("ListSecrets failed", listed.status().ToString());
    for (const auto& item : listed->items) names.push_back(item.name);
    page.cursor = listed->next_cursor;
  } while (!page.cursor.empty());
  return names;
}

// Through the store: the secrets API refuses to delete managed secrets, which restores make.
void ClearDev() {
  for (const auto& name : SecretsInDev()) {
    COFFRE_FUZZ_CHECK(world->store->DeleteSecret("dev", name, fz::kNow, fz::kNow).ok(), name);
    COFFRE_FUZZ_CHECK(world->store->PurgeSecret("dev", name).ok(), name);
  }
}

template <typename T>
void CheckError(const coffre::Result<T>& result, std::string_view body) {
  if (result.ok()) return;
  std::string json = coffre::http::ErrorJson(result.status());
  COFFRE_FUZZ_CHECK(fz::IsValidJson(json), json);
  (void)body;
}

void SetBody(std::string_view body) {
  auto set = coffre::http::ParseSetSecretRequest(body);
  CheckError(set, body);
  if (set.ok()) {
    set->name = "fuzzed";
    auto stored = secrets->SetSecret(world->vault(), *set);
    CheckError(stored, body);
    if (stored.ok()) {
      std::string text = coffre::http::SecretBundleText(*stored, "https://dev.localhost");
      COFFRE_FUZZ_CHECK(fz::IsValidJson(text), text);
      auto read = secrets->GetSecret(world->vault(), "fuzzed", stored->version);
      if (stored->attributes.enabled) {
        COFFRE_FUZZ_CHECK(read.ok() && read->value == set->value, read.status().ToString());
      } else {
        COFFRE_FUZZ_CHECK(read.status().inner_code() == "SecretDisabled", read.status().ToString());
      }
    } else if (!set->value.empty()) {
      // No error message repeats the value.
      std::string json = coffre::http::ErrorJson(stored.status());
      COFFRE_FUZZ_CHECK(set->value.size() < 8 ||
                            json.find(std::string_view(set->value.data(), set->value.size())) ==
                                std::string::npos,
                        json);
    }
  }
  auto object = coffre::http::ParseJsonObject(body);
  if (object.ok()) {
    auto update = coffre::http::ParseUpdateSecretRequest(*object);
    CheckError(update, body);
    if (update.ok() && !SecretsInDev().empty()) {
      CheckError(secrets->UpdateSecret(world->vault(), "fuzzed", "", *update), body);
    }
  }
}

void Restore(ByteSpan blob) {
  auto restored = secrets->RestoreSecret(world->vault(), blob);
  if (!restored.ok()) {
    COFFRE_FUZZ_CHECK(restored.status().kind() == coffre::ErrorKind::kBadRequest,
                      restored.status().ToString());
    COFFRE_FUZZ_CHECK(SecretsInDev().empty(), "a failed restore left a secret");
    return;
  }
  const std::string name = restored->name;
  auto backup = secrets->BackupSecret(world->vault(), name);
  COFFRE_FUZZ_CHECK(backup.ok(), backup.status().ToString());
  service::PageRequest page;
  auto versions = secrets->ListSecretVersions(world->vault(), name, page);
  COFFRE_FUZZ_CHECK(versions.ok(), versions.status().ToString());
  ClearDev();
  auto again = secrets->RestoreSecret(world->vault(), *backup);
  COFFRE_FUZZ_CHECK(again.ok(), again.status().ToString());
  COFFRE_FUZZ_CHECK(again->version == restored->version, again->version);
  auto versions_again = secrets->ListSecretVersions(world->vault(), name, page);
  COFFRE_FUZZ_CHECK(versions_again.ok() && versions_again->items.size() == versions->items.size(),
                    name);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world = new fz::World(fz::ScratchDir("secrets"));
  secrets = new service::SecretService(*world->store, *world->barrier, world->clock);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fz::Reader in(data, size);
  const uint8_t mode = in.U8() % 3;
  ByteSpan rest = in.Rest();
  if (mode == 0) {
    SetBody(coffre::AsChars(rest));
  } else if (mode == 1) {
    Restore(rest);
  } else {
    Restore(Seal(rest));
  }
  ClearDev();
  return 0;
}
