// The Key Vault secrets API: /secrets, /secrets/{name}[/{version}], /secrets/{name}/versions,
// /secrets/{name}/backup, /secrets/restore, /deletedsecrets[/{name}[/recover]].
//
// As for keys, routing is split in two: ClassifySecretsRoute names the operation (what access
// checks and the audit log need) and HandleSecretsOperation performs it.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/api_request.h"
#include "http/keys_api.h"
#include "service/secret_service.h"

namespace coffre::http {

// clang-format off
enum class SecretsOperation {
  kSetSecret, kGetSecret, kUpdateSecret, kListSecrets, kListSecretVersions, kDeleteSecret,
  kGetDeletedSecret, kListDeletedSecrets, kRecoverDeletedSecret, kPurgeDeletedSecret,
  kBackupSecret, kRestoreSecret,
};
// clang-format on

struct SecretsRoute {
  SecretsOperation operation;
  std::string name;     // empty for collection-level operations
  std::string version;  // empty: latest
};

// "SetSecret", "GetSecret", ... (audit log).
std::string_view OperationName(SecretsOperation op);
// The access-policy secret permission the operation needs ("get", "set", ...).
std::string_view AccessPolicyPermission(SecretsOperation op);
// The RBAC data action ("Microsoft.KeyVault/vaults/secrets/getSecret/action", ...).
std::string_view RbacDataAction(SecretsOperation op);
// Where the operation runs: reads are compute, anything that writes may wait for a commit.
WorkKind WorkKindOf(SecretsOperation op);
// Every row of the secrets operations table (the default-deny test walks them).
std::vector<OperationAccess> SecretsOperationAccess();

// Whether the first path segment names a secrets collection ("secrets", "deletedsecrets").
bool IsSecretsPath(const std::vector<std::string>& segments);
// The route a method and decoded path under /secrets or /deletedsecrets ask for, or the error
// to answer: 404 for an unknown path, 405 for a known path with the wrong method, 400 for an
// invalid secret name.
std::variant<SecretsRoute, ApiResponse> ClassifySecretsRoute(
    std::string_view method, const std::vector<std::string>& segments);

struct SecretsApi {
  service::SecretService& secrets;
};

ApiResponse HandleSecretsOperation(const SecretsApi& api, const VaultRequest& request,
                                   const SecretsRoute& route);

}  // namespace coffre::http
