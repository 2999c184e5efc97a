#include "service/material_barrier.h"

#include <utility>

#include "common/strings.h"
#include "crypto/aead.h"

namespace coffre::service {
namespace {

// Key material bound to one key version; bump the label if the layout of the context changes.
constexpr std::string_view kKeyVersionPurpose = "coffre/key-material/v1";
// A secret's value bound to one secret version.
constexpr std::string_view kSecretVersionPurpose = "coffre/secret-value/v1";

// "vault\nname\n": the cache id prefix every version of one key shares.
std::string KeyPrefix(std::string_view vault, std::string_view name) {
  return AsciiLower(vault) + "\n" + AsciiLower(name) + "\n";
}

}  // namespace

SealBinding SealBinding::KeyVersion(std::string_view vault, std::string_view name,
                                    std::string_view version) {
  return {kKeyVersionPurpose, vault, name, version};
}

SealBinding SealBinding::SecretVersion(std::string_view vault, std::string_view name,
                                       std::string_view version) {
  return {kSecretVersionPurpose, vault, name, version};
}

std::string SealBinding::Context() const {
  // Names compare case-insensitively, so the context must not depend on the spelling a request
  // used.
  std::string context(purpose);
  for (std::string_view part : {vault, name, version}) {
    context += '\n';
    context += AsciiLower(part);
  }
  return context;
}

Result<Bytes> MaterialBarrier::Seal(const SealBinding& binding, ByteSpan plaintext) const {
  return barrier_.Seal(plaintext, binding.Context());
}

Result<SecureBytes> MaterialBarrier::Open(const SealBinding& binding, ByteSpan sealed) const {
  return barrier_.Open(sealed, binding.Context());
}

Result<Bytes> MaterialBarrier::SealKeyVersion(const store::KeyVersionRecord& record,
                                              ByteSpan private_material) const {
  return Seal(SealBinding::KeyVersion(record.vault, record.name, record.version), private_material);
}

Result<SecureBytes> MaterialBarrier::OpenKeyVersion(const store::KeyVersionRecord& record) const {
  return Open(SealBinding::KeyVersion(record.vault, record.name, record.version),
              record.sealed_private_key);
}

Result<std::shared_ptr<const KeyMaterial>> MaterialBarrier::KeyMaterialOf(
    const store::KeyVersionRecord& record) {
  std::string id = KeyPrefix(record.vault, record.name) + AsciiLower(record.version);
  if (auto cached = key_cache_.Get(id)) return *std::move(cached);
  if (!KeyTypeFromName(record.key_type)) {
    return Status::Internal("A stored key has an unknown type.");
  }
  auto opened = OpenKeyVersion(record);
  if (!opened.ok()) return Status::Internal("A stored key could not be unsealed.");
  // Two threads racing on a miss both unseal, which is harmless.
  COFFRE_ASSIGN_OR_RETURN(auto material, ParseKeyMaterial(record.key_type, std::move(*opened)));
  key_cache_.Put(std::move(id), material);
  return material;
}

void MaterialBarrier::ForgetKey(std::string_view vault, std::string_view name) {
  std::string prefix = KeyPrefix(vault, name);
  key_cache_.EraseIf([&prefix](std::string_view id) { return id.starts_with(prefix); });
}

Result<Bytes> MaterialBarrier::SealBackup(std::string_view purpose, ByteSpan payload,
                                          ByteSpan aad) const {
  SecureBytes key = barrier_.DeriveKey(purpose);
  return crypto::SealAes256Gcm(key, payload, aad);
}

Result<SecureBytes> MaterialBarrier::OpenBackup(std::string_view purpose, ByteSpan sealed,
                                                ByteSpan aad) const {
  SecureBytes key = barrier_.DeriveKey(purpose);
  return crypto::OpenAes256Gcm(key, sealed, aad);
}

}  // namespace coffre::service
