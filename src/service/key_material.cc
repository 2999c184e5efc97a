#include "service/key_material.h"

#include "common/strings.h"

namespace coffre::service {
namespace {

// "vault\nname\n" prefix: every version of one key shares it (names cannot contain '\n').
std::string KeyPrefix(std::string_view vault, std::string_view name) {
  return AsciiLower(vault) + "\n" + AsciiLower(name) + "\n";
}

}  // namespace

Result<std::shared_ptr<const KeyMaterial>> UnsealKeyMaterial(const store::Barrier& barrier,
                                                             const store::KeyVersionRecord& r) {
  auto kty = KeyTypeFromName(r.key_type);
  if (!kty) return Status::Internal("A stored key has an unknown type.");
  auto opened = barrier.Open(r.sealed_private_key,
                             store::Barrier::KeyMaterialContext(r.vault, r.name, r.version));
  if (!opened.ok()) return Status::Internal("A stored key could not be unsealed.");
  auto material = std::make_shared<KeyMaterial>();
  material->kty = *kty;
  if (IsRsa(*kty) || IsEc(*kty)) {
    auto key = crypto::AsymmetricKey::FromPrivateDer(*opened);
    if (!key.ok()) return Status::Internal("A stored key could not be read.");
    material->material = std::move(*key);
  } else {
    material->material = std::move(*opened);
  }
  return std::shared_ptr<const KeyMaterial>(std::move(material));
}

Result<std::shared_ptr<const KeyMaterial>> KeyMaterialCache::Get(
    const store::KeyVersionRecord& record) {
  std::string id = KeyPrefix(record.vault, record.name) + AsciiLower(record.version);
  if (auto cached = cache_.Get(id)) return *std::move(cached);
  // Two threads racing on a miss both unseal, which is harmless.
  COFFRE_ASSIGN_OR_RETURN(auto material, UnsealKeyMaterial(barrier_, record));
  cache_.Put(std::move(id), material);
  return material;
}

void KeyMaterialCache::Invalidate(std::string_view vault, std::string_view name) {
  std::string prefix = KeyPrefix(vault, name);
  cache_.EraseIf([&prefix](std::string_view id) { return id.starts_with(prefix); });
}

}  // namespace coffre::service
