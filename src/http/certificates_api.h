// The Key Vault certificates API: /certificates[/{name}[/{version}]], create, import, policy,
// pending (and merge), versions, backup, restore, issuers, contacts and
// /deletedcertificates[/{name}[/recover]].
//
// As for keys and secrets, routing is split in two: ClassifyCertificatesRoute names the
// operation (what access checks and the audit log need) and HandleCertificatesOperation
// performs it.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/api_request.h"
#include "http/keys_api.h"
#include "service/certificate_service.h"

namespace coffre::http {

// clang-format off
enum class CertificatesOperation {
  kCreateCertificate, kImportCertificate, kGetCertificate, kUpdateCertificate, kListCertificates,
  kListCertificateVersions, kGetCertificatePolicy, kUpdateCertificatePolicy,
  kGetCertificateOperation, kUpdateCertificateOperation, kDeleteCertificateOperation,
  kMergeCertificate, kDeleteCertificate, kGetDeletedCertificate, kListDeletedCertificates,
  kRecoverDeletedCertificate, kPurgeDeletedCertificate, kBackupCertificate, kRestoreCertificate,
  kSetIssuer, kUpdateIssuer, kGetIssuer, kListIssuers, kDeleteIssuer, kSetContacts, kGetContacts,
  kDeleteContacts,
};
// clang-format on

struct CertificatesRoute {
  CertificatesOperation operation;
  std::string name;     // certificate or issuer name; empty for collection-level operations
  std::string version;  // empty: latest
};

// "CreateCertificate", "GetCertificate", ... (audit log).
std::string_view OperationName(CertificatesOperation op);
// The access-policy certificate permission the operation needs ("get", "managecontacts", ...).
std::string_view AccessPolicyPermission(CertificatesOperation op);
// The RBAC data action ("Microsoft.KeyVault/vaults/certificates/read", ...).
std::string_view RbacDataAction(CertificatesOperation op);
// Where the operation runs: reads are compute, anything that writes may wait for a commit.
WorkKind WorkKindOf(CertificatesOperation op);
// Every row of the certificates operations table (the default-deny test walks them).
std::vector<OperationAccess> CertificatesOperationAccess();

// Whether the first path segment names a certificates collection ("certificates",
// "deletedcertificates").
bool IsCertificatesPath(const std::vector<std::string>& segments);
// The route a method and decoded path ask for, or the error to answer: 404 for an unknown path,
// 405 for a known path with the wrong method, 400 for an invalid name.
std::variant<CertificatesRoute, ApiResponse> ClassifyCertificatesRoute(
    std::string_view method, const std::vector<std::string>& segments);

struct CertificatesApi {
  service::CertificateService& certificates;
};

ApiResponse HandleCertificatesOperation(const CertificatesApi& api, const VaultRequest& request,
                                        const CertificatesRoute& route);

}  // namespace coffre::http
