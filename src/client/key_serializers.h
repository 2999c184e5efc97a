// Key Vault keys wire format <-> models (the JSON shapes of the keys REST API).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/keys/key_client_models.h"

namespace coffre::keys::_detail {

// A key identifier https://host[:port]/keys/{name}[/{version}] split up. Also accepts
// /deletedkeys/{name}.
struct KeyIdParts {
  std::string vault_url;  // scheme://host[:port]
  std::string name;
  std::string version;
};
std::optional<KeyIdParts> ParseKeyId(std::string_view key_id);

// Response bodies. Throw std::invalid_argument when the body is not the expected JSON object.
KeyVaultKey ParseKeyBundle(std::string_view body);
DeletedKey ParseDeletedKeyBundle(std::string_view body);

struct KeyPropertiesPage {
  std::vector<KeyProperties> items;
  std::optional<std::string> next_link;
};
KeyPropertiesPage ParseKeyListResult(std::string_view body);

struct DeletedKeysPage {
  std::vector<DeletedKey> items;
  std::optional<std::string> next_link;
};
DeletedKeysPage ParseDeletedKeyListResult(std::string_view body);

KeyRotationPolicy ParseRotationPolicy(std::string_view body);
// {"value": base64url} bodies (backup, random bytes).
std::vector<uint8_t> ParseBytesValue(std::string_view body);
// {"value": string} (release).
std::string ParseStringValue(std::string_view body);

// Request bodies.
// key_size / public_exponent / curve are those of the Create{Rsa,Ec,Oct}KeyOptions (or unset).
std::string SerializeCreateKey(const KeyVaultKeyType& key_type, const CreateKeyOptions& options,
                               const Nullable<int64_t>& key_size,
                               const Nullable<int64_t>& public_exponent,
                               const Nullable<KeyCurveName>& curve);
std::string SerializeImportKey(const ImportKeyOptions& options);
std::string SerializeUpdateKey(const KeyProperties& properties,
                               const Nullable<std::vector<KeyOperation>>& key_operations);
std::string SerializeRotationPolicy(const KeyRotationPolicy& policy);
std::string SerializeRestore(const std::vector<uint8_t>& backup);
std::string SerializeRandomBytes(int32_t count);
std::string SerializeRelease(const KeyReleaseOptions& options);

}  // namespace coffre::keys::_detail
