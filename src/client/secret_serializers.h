// Key Vault secrets wire format <-> models (the JSON shapes of the secrets REST API).
//
// Secret values pass through here, so parsing uses a JSON storage that wipes every buffer it
// frees, and the set-secret body is written into one exactly-sized buffer (no reallocation
// leaves a stray copy behind).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/secrets/secret_client_models.h"

namespace coffre::secrets::_detail {

// Response bodies. Throw std::invalid_argument when the body is not the expected JSON object.
KeyVaultSecret ParseSecretBundle(std::string_view body);
DeletedSecret ParseDeletedSecretBundle(std::string_view body);
// The properties of a SecretBundle (GET, recover): the value is parsed and wiped, not kept.
SecretProperties ParseSecretBundleProperties(std::string_view body);

struct SecretPropertiesPage {
  std::vector<SecretProperties> items;
  std::optional<std::string> next_link;
};
SecretPropertiesPage ParseSecretListResult(std::string_view body);

struct DeletedSecretsPage {
  std::vector<DeletedSecret> items;
  std::optional<std::string> next_link;
};
DeletedSecretsPage ParseDeletedSecretListResult(std::string_view body);

// {"value": base64url} (backup).
std::vector<uint8_t> ParseBackupValue(std::string_view body);

// Request bodies.
// SecretSetParameters: value, contentType, attributes {enabled, nbf, exp}, tags. The caller wipes
// the returned string once sent (VaultClient::Send with BodyKind::Sensitive does).
std::string SerializeSetSecret(std::string_view value, const SecretProperties& properties);
// SecretUpdateParameters: contentType, attributes, tags (never the value).
std::string SerializeUpdateSecret(const SecretProperties& properties);
std::string SerializeRestore(const std::vector<uint8_t>& backup);

// A JSON string literal ("..." with escapes) of `text`, as Boost.JSON would write it.
size_t JsonStringLength(std::string_view text);
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace coffre::secrets::_detail
