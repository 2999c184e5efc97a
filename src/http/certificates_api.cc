#include "http/certificates_api.h"

#include <array>
#include <boost/json.hpp>

#include "common/base64url.h"
#include "common/strings.h"
#include "http/certificate_json.h"
#include "http/key_json.h"
#include "http/router.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

using Op = CertificatesOperation;

struct OperationInfo {
  Op op;
  std::string_view name;
  std::string_view permission;
  std::string_view data_action;
  WorkKind placement;
};

constexpr std::string_view kRead = "Microsoft.KeyVault/vaults/certificates/read";
constexpr std::string_view kUpdate = "Microsoft.KeyVault/vaults/certificates/update/action";
constexpr std::string_view kCreate = "Microsoft.KeyVault/vaults/certificates/create/action";
constexpr std::string_view kDelete = "Microsoft.KeyVault/vaults/certificates/delete";
constexpr std::string_view kIssuersRead = "Microsoft.KeyVault/vaults/certificatecas/read";
constexpr std::string_view kIssuersWrite = "Microsoft.KeyVault/vaults/certificatecas/write";
constexpr std::string_view kContactsRead = "Microsoft.KeyVault/vaults/certificatecontacts/read";
constexpr std::string_view kContactsWrite = "Microsoft.KeyVault/vaults/certificatecontacts/write";

// One row per operation: its audit name, access-policy permission, RBAC data action and where it
// runs. Reads never wait for a commit (compute); every write may (the blocking pool), and key
// generation and PFX work run there too.
constexpr std::array kOperations = {
    OperationInfo{Op::kCreateCertificate, "CreateCertificate", "create", kCreate,
                  WorkKind::kBlocking},
    OperationInfo{Op::kImportCertificate, "ImportCertificate", "import",
                  "Microsoft.KeyVault/vaults/certificates/import/action", WorkKind::kBlocking},
    OperationInfo{Op::kGetCertificate, "GetCertificate", "get", kRead, WorkKind::kCompute},
    OperationInfo{Op::kUpdateCertificate, "UpdateCertificate", "update", kUpdate,
                  WorkKind::kBlocking},
    OperationInfo{Op::kListCertificates, "GetCertificates", "list", kRead, WorkKind::kCompute},
    OperationInfo{Op::kListCertificateVersions, "GetCertificateVersions", "list", kRead,
                  WorkKind::kCompute},
    OperationInfo{Op::kGetCertificatePolicy, "GetCertificatePolicy", "get", kRead,
                  WorkKind::kCompute},
    OperationInfo{Op::kUpdateCertificatePolicy, "UpdateCertificatePolicy", "update", kUpdate,
                  WorkKind::kBlocking},
    OperationInfo{Op::kGetCertificateOperation, "GetCertificateOperation", "get", kRead,
                  WorkKind::kCompute},
    OperationInfo{Op::kUpdateCertificateOperation, "UpdateCertificateOperation", "update", kUpdate,
                  WorkKind::kBlocking},
    OperationInfo{Op::kDeleteCertificateOperation, "DeleteCertificateOperation", "delete", kDelete,
                  WorkKind::kBlocking},
    OperationInfo{Op::kMergeCertificate, "MergeCertificate", "create", kCreate,
                  WorkKind::kBlocking},
    OperationInfo{Op::kDeleteCertificate, "DeleteCertificate", "delete", kDelete,
                  WorkKind::kBlocking},
    OperationInfo{Op::kGetDeletedCertificate, "GetDeletedCertificate", "get", kRead,
                  WorkKind::kCompute},
    OperationInfo{Op::kListDeletedCertificates, "GetDeletedCertificates", "list", kRead,
                  WorkKind::kCompute},
    OperationInfo{Op::kRecoverDeletedCertificate, "RecoverDeletedCertificate", "recover",
                  "Microsoft.KeyVault/vaults/certificates/recover/action", WorkKind::kBlocking},
    OperationInfo{Op::kPurgeDeletedCertificate, "PurgeDeletedCertificate", "purge",
                  "Microsoft.KeyVault/vaults/certificates/purge/action", WorkKind::kBlocking},
    OperationInfo{Op::kBackupCertificate, "BackupCertificate", "backup",
                  "Microsoft.KeyVault/vaults/certificates/backup/action", WorkKind::kBlocking},
    OperationInfo{Op::kRestoreCertificate, "RestoreCertificate", "restore",
                  "Microsoft.KeyVault/vaults/certificates/restore/action", WorkKind::kBlocking},
    OperationInfo{Op::kSetIssuer, "SetCertificateIssuer", "setissuers", kIssuersWrite,
                  WorkKind::kBlocking},
    OperationInfo{Op::kUpdateIssuer, "UpdateCertificateIssuer", "setissuers", kIssuersWrite,
                  WorkKind::kBlocking},
    // Reading a "Coffre" issuer makes its private CA on first use.
    OperationInfo{Op::kGetIssuer, "GetCertificateIssuer", "getissuers", kIssuersRead,
                  WorkKind::kBlocking},
    OperationInfo{Op::kListIssuers, "GetCertificateIssuers", "listissuers", kIssuersRead,
                  WorkKind::kCompute},
    OperationInfo{Op::kDeleteIssuer, "DeleteCertificateIssuer", "deleteissuers",
                  "Microsoft.KeyVault/vaults/certificatecas/delete", WorkKind::kBlocking},
    OperationInfo{Op::kSetContacts, "SetCertificateContacts", "managecontacts", kContactsWrite,
                  WorkKind::kBlocking},
    OperationInfo{Op::kGetContacts, "GetCertificateContacts", "managecontacts", kContactsRead,
                  WorkKind::kCompute},
    OperationInfo{Op::kDeleteContacts, "DeleteCertificateContacts", "managecontacts",
                  kContactsWrite, WorkKind::kBlocking},
};

const OperationInfo& Info(Op op) {
  for (const auto& info : kOperations) {
    if (info.op == op) return info;
  }
  return kOperations.front();
}

ApiResponse Ok(const json::object& body, int status = 200) {
  return JsonResponse(status, json::serialize(body));
}

ApiResponse MethodNotAllowed(std::string_view method) {
  return ErrorResponse(Status(ErrorKind::kMethodNotAllowed, "MethodNotAllowed",
                              "The HTTP method '" + std::string(method.substr(0, 16)) +
                                  "' is not supported for this resource."));
}

ApiResponse NotFoundRoute() {
  return ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found."));
}

ApiResponse InvalidName(std::string_view name) {
  return ErrorResponse(Status::BadParameter("The request URI contains an invalid name: " +
                                            std::string(name.substr(0, 256))));
}

using Classified = std::variant<CertificatesRoute, ApiResponse>;

Classified ByMethod(std::string_view method,
                    std::initializer_list<std::pair<std::string_view, Op>> choices,
                    std::string name = {}, std::string version = {}) {
  for (const auto& [m, op] : choices) {
    if (m == method) return CertificatesRoute{op, std::move(name), std::move(version)};
  }
  return MethodNotAllowed(method);
}

Classified ClassifyCertificates(std::string_view method, const std::vector<std::string>& seg) {
  const size_t n = seg.size();
  if (n == 1 || (n == 2 && seg[1].empty())) {
    return ByMethod(method, {{"GET", Op::kListCertificates}});
  }
  const std::string second = AsciiLower(seg[1]);
  // Collection-level names come first, as Key Vault routes them.
  if (n == 2 && second == "contacts") {
    return ByMethod(
        method,
        {{"PUT", Op::kSetContacts}, {"GET", Op::kGetContacts}, {"DELETE", Op::kDeleteContacts}});
  }
  if (second == "issuers") {
    if (n == 2 || (n == 3 && seg[2].empty())) return ByMethod(method, {{"GET", Op::kListIssuers}});
    if (n == 3) {
      if (!service::IsValidObjectName(seg[2])) return InvalidName(seg[2]);
      return ByMethod(method,
                      {{"PUT", Op::kSetIssuer},
                       {"PATCH", Op::kUpdateIssuer},
                       {"GET", Op::kGetIssuer},
                       {"DELETE", Op::kDeleteIssuer}},
                      seg[2]);
    }
    return NotFoundRoute();
  }
  if (n == 2 && second == "restore" && method == "POST") {
    return CertificatesRoute{Op::kRestoreCertificate, {}, {}};
  }
  const std::string& name = seg[1];
  if (!service::IsValidObjectName(name)) return InvalidName(name);
  if (n == 2) {
    return ByMethod(method, {{"GET", Op::kGetCertificate}, {"DELETE", Op::kDeleteCertificate}},
                    name);
  }
  const std::string third = AsciiLower(seg[2]);
  if (n == 3) {
    if (third == "create") return ByMethod(method, {{"POST", Op::kCreateCertificate}}, name);
    if (third == "import") return ByMethod(method, {{"POST", Op::kImportCertificate}}, name);
    if (third == "versions") return ByMethod(method, {{"GET", Op::kListCertificateVersions}}, name);
    if (third == "backup") return ByMethod(method, {{"POST", Op::kBackupCertificate}}, name);
    if (third == "policy") {
      return ByMethod(method,
                      {{"GET", Op::kGetCertificatePolicy}, {"PATCH", Op::kUpdateCertificatePolicy}},
                      name);
    }
    if (third == "pending") {
      return ByMethod(method,
                      {{"GET", Op::kGetCertificateOperation},
                       {"PATCH", Op::kUpdateCertificateOperation},
                       {"DELETE", Op::kDeleteCertificateOperation}},
                      name);
    }
    // Anything else is a version ("" = latest): only GET and PATCH address one.
    return ByMethod(method, {{"GET", Op::kGetCertificate}, {"PATCH", Op::kUpdateCertificate}}, name,
                    seg[2]);
  }
  if (n == 4 && third == "pending" && AsciiLower(seg[3]) == "merge") {
    return ByMethod(method, {{"POST", Op::kMergeCertificate}}, name);
  }
  return NotFoundRoute();
}

Classified ClassifyDeletedCertificates(std::string_view method,
                                       const std::vector<std::string>& seg) {
  const size_t n = seg.size();
  if (n == 1 || (n == 2 && seg[1].empty())) {
    return ByMethod(method, {{"GET", Op::kListDeletedCertificates}});
  }
  const std::string& name = seg[1];
  if (!service::IsValidObjectName(name)) return InvalidName(name);
  if (n == 2) {
    return ByMethod(method,
                    {{"GET", Op::kGetDeletedCertificate}, {"DELETE", Op::kPurgeDeletedCertificate}},
                    name);
  }
  if (n == 3 && AsciiLower(seg[2]) == "recover") {
    return ByMethod(method, {{"POST", Op::kRecoverDeletedCertificate}}, name);
  }
  return NotFoundRoute();
}

// {"value":[...],"nextLink":url|null}.
template <typename T, typename List, typename Render>
ApiResponse ListPage(const VaultRequest& request, std::string_view path, List list, Render render) {
  auto page = ParsePageRequest(request);
  if (!page.ok()) return ErrorResponse(page.status());
  Result<service::Page<T>> result = list(*page);
  if (!result.ok()) return ErrorResponse(result.status());
  json::array value;
  for (const auto& item : result->items) value.emplace_back(render(item, request.base_url));
  json::object body;
  body["value"] = std::move(value);
  if (result->next_cursor.empty()) {
    body["nextLink"] = nullptr;
  } else {
    body["nextLink"] = NextLink(request, path, result->next_cursor, page->max_results);
  }
  return Ok(body);
}

template <typename T, typename Renderer>
ApiResponse Render(const Result<T>& result, std::string_view base, Renderer render,
                   int status = 200) {
  if (!result.ok()) return ErrorResponse(result.status());
  return Ok(render(*result, base), status);
}

ApiResponse BundleResponse(const Result<service::CertificateBundle>& bundle, std::string_view base,
                           int status = 200) {
  return Render(bundle, base, CertificateBundleJson, status);
}

ApiResponse OperationResponse(const Result<service::CertificateOperation>& op,
                              std::string_view base, int status = 200) {
  return Render(op, base, CertificateOperationJson, status);
}

}  // namespace

std::string_view OperationName(CertificatesOperation op) { return Info(op).name; }
std::string_view AccessPolicyPermission(CertificatesOperation op) { return Info(op).permission; }
std::string_view RbacDataAction(CertificatesOperation op) { return Info(op).data_action; }
WorkKind WorkKindOf(CertificatesOperation op) { return Info(op).placement; }
std::vector<OperationAccess> CertificatesOperationAccess() {
  std::vector<OperationAccess> rows;
  for (const auto& info : kOperations) {
    rows.push_back({info.name, info.permission, info.data_action});
  }
  return rows;
}

bool IsCertificatesPath(const std::vector<std::string>& segments) {
  if (segments.empty()) return false;
  const std::string collection = AsciiLower(segments[0]);
  return collection == "certificates" || collection == "deletedcertificates";
}

std::variant<CertificatesRoute, ApiResponse> ClassifyCertificatesRoute(
    std::string_view method, const std::vector<std::string>& segments) {
  if (segments.empty()) return NotFoundRoute();
  const std::string collection = AsciiLower(segments[0]);
  if (collection == "certificates") return ClassifyCertificates(method, segments);
  if (collection == "deletedcertificates") return ClassifyDeletedCertificates(method, segments);
  return NotFoundRoute();
}

ApiResponse HandleCertificatesOperation(const CertificatesApi& api, const VaultRequest& request,
                                        const CertificatesRoute& route) {
  service::CertificateService& certs = api.certificates;
  const store::VaultRecord& vault = request.vault;
  const std::string& name = route.name;
  const std::string& base = request.base_url;
  auto body_object = [&]() { return ParseJsonObject(request.http.body); };
  switch (route.operation) {
    case Op::kCreateCertificate: {
      auto body = body_object();
      if (!body.ok()) return ErrorResponse(body.status());
      auto create = ParseCreateCertificateRequest(*body);
      if (!create.ok()) return ErrorResponse(create.status());
      create->name = name;
      auto op = certs.CreateCertificate(vault, *create);
      // The version exists once this answers, but the create reports the operation as Key Vault
      // does, in progress: the SDKs' pollers (Python's LROPoller) return no certificate for an
      // operation already finished in its first answer. Their first poll of /pending then sees
      // "completed" and fetches the certificate without waiting a polling interval.
      if (op.ok() && op->status == "completed") {
        op->status = "inProgress";
        op->status_details = "Pending certificate created. Certificate request is in progress.";
      }
      return OperationResponse(op, base, 202);
    }
    case Op::kImportCertificate: {
      auto import = ParseImportCertificateRequest(request.http.body);
      if (!import.ok()) return ErrorResponse(import.status());
      import->name = name;
      return BundleResponse(certs.ImportCertificate(vault, *import), base);
    }
    case Op::kGetCertificate:
      return BundleResponse(certs.GetCertificate(vault, name, route.version), base);
    case Op::kUpdateCertificate: {
      auto body = body_object();
      if (!body.ok()) return ErrorResponse(body.status());
      auto attributes = ParseAttributeChanges(*body);
      if (!attributes.ok()) return ErrorResponse(attributes.status());
      auto tags = ParseOptionalTags(*body);
      if (!tags.ok()) return ErrorResponse(tags.status());
      const json::value* policy = body->if_contains("policy");
      if (policy != nullptr && policy->is_null()) policy = nullptr;
      return BundleResponse(
          certs.UpdateCertificate(vault, name, route.version, *attributes, *tags, policy), base);
    }
    case Op::kListCertificates:
      return ListPage<service::CertificateItem>(
          request, "/certificates",
          [&](const auto& page) { return certs.ListCertificates(vault, page); },
          CertificateItemJson);
    case Op::kListCertificateVersions:
      return ListPage<service::CertificateItem>(
          request, "/certificates/" + name + "/versions",
          [&](const auto& page) { return certs.ListCertificateVersions(vault, name, page); },
          CertificateItemJson);
    case Op::kListDeletedCertificates:
      return ListPage<service::DeletedCertificateItem>(
          request, "/deletedcertificates",
          [&](const auto& page) { return certs.ListDeletedCertificates(vault, page); },
          DeletedCertificateItemJson);
    case Op::kGetCertificatePolicy:
    case Op::kUpdateCertificatePolicy: {
      int64_t updated = 0;
      Result<service::CertificatePolicy> policy = Status::Internal("unreachable");
      if (route.operation == Op::kGetCertificatePolicy) {
        policy = certs.GetPolicy(vault, name, &updated);
      } else {
        auto body = body_object();
        if (!body.ok()) return ErrorResponse(body.status());
        policy = certs.UpdatePolicy(vault, name, json::value(*body), &updated);
      }
      if (!policy.ok()) return ErrorResponse(policy.status());
      return Ok(CertificatePolicyBundleJson(name, *policy, updated, base));
    }
    case Op::kGetCertificateOperation:
      return OperationResponse(certs.GetOperation(vault, name), base);
    case Op::kUpdateCertificateOperation: {
      auto body = body_object();
      if (!body.ok()) return ErrorResponse(body.status());
      const json::value* cancel = body->if_contains("cancellation_requested");
      if (cancel == nullptr || !cancel->is_bool()) {
        return ErrorResponse(Status::BadParameter(
            "The property \"cancellation_requested\" is required and must be a boolean."));
      }
      if (!cancel->as_bool()) return OperationResponse(certs.GetOperation(vault, name), base);
      return OperationResponse(certs.CancelOperation(vault, name), base);
    }
    case Op::kDeleteCertificateOperation:
      return OperationResponse(certs.DeleteOperation(vault, name), base);
    case Op::kMergeCertificate: {
      auto body = body_object();
      if (!body.ok()) return ErrorResponse(body.status());
      auto merge = ParseMergeCertificateRequest(*body);
      if (!merge.ok()) return ErrorResponse(merge.status());
      return BundleResponse(
          certs.MergeCertificate(vault, name, merge->x5c, merge->attributes, merge->tags), base,
          201);
    }
    case Op::kDeleteCertificate:
      return Render(certs.DeleteCertificate(vault, name), base, DeletedCertificateBundleJson);
    case Op::kGetDeletedCertificate:
      return Render(certs.GetDeletedCertificate(vault, name), base, DeletedCertificateBundleJson);
    case Op::kRecoverDeletedCertificate:
      return BundleResponse(certs.RecoverDeletedCertificate(vault, name), base);
    case Op::kPurgeDeletedCertificate: {
      Status purged = certs.PurgeDeletedCertificate(vault, name);
      if (!purged.ok()) return ErrorResponse(purged);
      ApiResponse response;
      response.status = 204;
      return response;
    }
    case Op::kBackupCertificate: {
      auto blob = certs.BackupCertificate(vault, name);
      if (!blob.ok()) return ErrorResponse(blob.status());
      return Ok(json::object{{"value", Base64UrlEncode(*blob)}});
    }
    case Op::kRestoreCertificate: {
      auto body = body_object();
      if (!body.ok()) return ErrorResponse(body.status());
      auto blob = RequiredBase64Url(*body, "value");
      if (!blob.ok()) return ErrorResponse(blob.status());
      return BundleResponse(certs.RestoreCertificate(vault, *blob), base);
    }
    case Op::kSetIssuer:
    case Op::kUpdateIssuer: {
      auto body = body_object();
      if (!body.ok()) return ErrorResponse(body.status());
      json::value value(std::move(*body));
      auto issuer = route.operation == Op::kSetIssuer ? certs.SetIssuer(vault, name, value)
                                                      : certs.UpdateIssuer(vault, name, value);
      return Render(issuer, base, IssuerJson);
    }
    case Op::kGetIssuer:
      return Render(certs.GetIssuer(vault, name), base, IssuerJson);
    case Op::kDeleteIssuer:
      return Render(certs.DeleteIssuer(vault, name), base, IssuerJson);
    case Op::kListIssuers:
      return ListPage<service::CertificateIssuer>(
          request, "/certificates/issuers",
          [&](const auto& page) { return certs.ListIssuers(vault, page); }, IssuerItemJson);
    case Op::kSetContacts: {
      auto body = body_object();
      if (!body.ok()) return ErrorResponse(body.status());
      return Render(certs.SetContacts(vault, json::value(std::move(*body))), base, ContactsJson);
    }
    case Op::kGetContacts:
      return Render(certs.GetContacts(vault), base, ContactsJson);
    case Op::kDeleteContacts:
      return Render(certs.DeleteContacts(vault), base, ContactsJson);
  }
  return NotFoundRoute();
}

}  // namespace coffre::http
