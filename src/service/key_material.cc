#include "service/key_material.h"

#include <utility>

namespace coffre::service {

Result<std::shared_ptr<const KeyMaterial>> ParseKeyMaterial(std::string_view key_type,
                                                            SecureBytes opened) {
  auto kty = KeyTypeFromName(key_type);
  if (!kty) return Status::Internal("A stored key has an unknown type.");
  auto material = std::make_shared<KeyMaterial>();
  material->kty = *kty;
  if (IsRsa(*kty) || IsEc(*kty)) {
    auto key = crypto::AsymmetricKey::FromPrivateDer(opened);
    if (!key.ok()) return Status::Internal("A stored key could not be read.");
    material->material = std::move(*key);
  } else {
    material->material = std::move(opened);
  }
  return std::shared_ptr<const KeyMaterial>(std::move(material));
}

}  // namespace coffre::service
