// The Key Vault keys API: /keys, /keys/{name}[/{version}][/{operation}], /deletedkeys, /rng.
//
// Routing is split in two so the router can act between them: ClassifyKeysRoute names the
// operation a request asks for (what access checks and the audit log need), and
// HandleKeysOperation performs it.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/api_request.h"
#include "service/crypto_service.h"
#include "service/key_service.h"

namespace coffre::http {

// clang-format off
enum class KeysOperation {
  kListKeys, kListKeyVersions, kGetKey, kCreateKey, kImportKey, kUpdateKey, kDeleteKey,
  kBackupKey, kRestoreKey, kRotateKey, kGetRotationPolicy, kUpdateRotationPolicy,
  kEncrypt, kDecrypt, kWrapKey, kUnwrapKey, kSign, kVerify, kRelease, kGetKeyAttestation,
  kListDeletedKeys, kGetDeletedKey, kPurgeDeletedKey, kRecoverDeletedKey, kGetRandomBytes,
};
// clang-format on

struct KeysRoute {
  KeysOperation operation;
  std::string name;     // empty for collection-level operations
  std::string version;  // empty: latest
};

// What one row of an operations table requires of a caller.
struct OperationAccess {
  std::string_view name;         // audit name
  std::string_view permission;   // access-policy permission
  std::string_view data_action;  // RBAC data action
};
// Every row of the keys operations table (for the default-deny test, through
// DataPlaneOperations in router.h).
std::vector<OperationAccess> KeysOperationAccess();

// "CreateKey", "Decrypt", ... (audit log).
std::string_view OperationName(KeysOperation op);
// The access-policy key permission the operation needs ("get", "unwrapKey", ...).
std::string_view AccessPolicyPermission(KeysOperation op);
// The RBAC data action ("Microsoft.KeyVault/vaults/keys/read", ...).
std::string_view RbacDataAction(KeysOperation op);
// Where the operation runs. A create's place depends on the key type its body asks for: RSA key
// generation is slow, EC and oct creates are plain store writes.
WorkKind WorkKindOf(KeysOperation op, std::string_view body);

// The route a method and decoded path ask for, or the error to answer: 404 for an unknown
// path, 405 for a known path with the wrong method, 400 for an invalid key name.
std::variant<KeysRoute, ApiResponse> ClassifyKeysRoute(std::string_view method,
                                                       const std::vector<std::string>& segments);

// What the router has already worked out about an authenticated data-plane request.
struct VaultRequest {
  const ApiRequest& http;
  const store::VaultRecord& vault;
  std::string base_url;  // "https://host[:port]" as the client addressed us
  std::string api_version;
  std::string skip_token;   // $skiptoken, if any
  std::string max_results;  // maxresults, if any (unparsed)
};

// Shared by the object APIs (keys, secrets): the page a request asks for (maxresults 1..25,
// $skiptoken), or Key Vault's 400; and the nextLink that continues a listing after `cursor`.
Result<service::PageRequest> ParsePageRequest(const VaultRequest& request);
std::string NextLink(const VaultRequest& request, std::string_view path, std::string_view cursor,
                     int max_results);

struct KeysApi {
  service::KeyService& keys;
  service::CryptoService& crypto;
};

ApiResponse HandleKeysOperation(const KeysApi& api, const VaultRequest& request,
                                const KeysRoute& route);

}  // namespace coffre::http
