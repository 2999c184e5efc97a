#include "http/secrets_api.h"

#include <array>
#include <boost/json.hpp>

#include "common/base64url.h"
#include "common/strings.h"
#include "http/key_json.h"
#include "http/router.h"
#include "http/secret_json.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

using Op = SecretsOperation;

struct OperationInfo {
  Op op;
  std::string_view name;
  std::string_view permission;
  std::string_view data_action;
  WorkKind placement;
};

constexpr std::string_view kGetSecretAction = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
// Listing and reading properties (never the value), deleted secrets included.
constexpr std::string_view kReadMetadataAction =
    "Microsoft.KeyVault/vaults/secrets/readMetadata/action";

// One row per operation: its audit name, access-policy permission, RBAC data action and where it
// runs. Reads never wait for a commit (compute); every write may (the blocking pool).
constexpr std::array kOperations = {
    OperationInfo{Op::kSetSecret, "SetSecret", "set",
                  "Microsoft.KeyVault/vaults/secrets/setSecret/action", WorkKind::kBlocking},
    OperationInfo{Op::kGetSecret, "GetSecret", "get", kGetSecretAction, WorkKind::kCompute},
    // Access policies grant updates with "set"; RBAC has its own action.
    OperationInfo{Op::kUpdateSecret, "UpdateSecret", "set",
                  "Microsoft.KeyVault/vaults/secrets/update/action", WorkKind::kBlocking},
    OperationInfo{Op::kListSecrets, "GetSecrets", "list", kReadMetadataAction, WorkKind::kCompute},
    OperationInfo{Op::kListSecretVersions, "GetSecretVersions", "list", kReadMetadataAction,
                  WorkKind::kCompute},
    OperationInfo{Op::kDeleteSecret, "DeleteSecret", "delete",
                  "Microsoft.KeyVault/vaults/secrets/delete", WorkKind::kBlocking},
    OperationInfo{Op::kGetDeletedSecret, "GetDeletedSecret", "get", kReadMetadataAction,
                  WorkKind::kCompute},
    OperationInfo{Op::kListDeletedSecrets, "GetDeletedSecrets", "list", kReadMetadataAction,
                  WorkKind::kCompute},
    OperationInfo{Op::kRecoverDeletedSecret, "RecoverDeletedSecret", "recover",
                  "Microsoft.KeyVault/vaults/secrets/recover/action", WorkKind::kBlocking},
    OperationInfo{Op::kPurgeDeletedSecret, "PurgeDeletedSecret", "purge",
                  "Microsoft.KeyVault/vaults/secrets/purge/action", WorkKind::kBlocking},
    // A backup reads every version and unseals each value: off the I/O threads.
    OperationInfo{Op::kBackupSecret, "BackupSecret", "backup",
                  "Microsoft.KeyVault/vaults/secrets/backup/action", WorkKind::kBlocking},
    OperationInfo{Op::kRestoreSecret, "RestoreSecret", "restore",
                  "Microsoft.KeyVault/vaults/secrets/restore/action", WorkKind::kBlocking},
};

const OperationInfo& Info(Op op) {
  for (const auto& info : kOperations) {
    if (info.op == op) return info;
  }
  return kOperations.front();
}

ApiResponse Ok(const json::object& body) { return JsonResponse(200, json::serialize(body)); }

// A bundle's response; with the value in it, the body is wiped once sent.
ApiResponse BundleResponse(const Result<service::SecretBundle>& bundle, std::string_view base_url) {
  if (!bundle.ok()) return ErrorResponse(bundle.status());
  ApiResponse response = JsonResponse(200, SecretBundleText(*bundle, base_url));
  response.sensitive = bundle->has_value;
  return response;
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

std::variant<SecretsRoute, ApiResponse> ByMethod(
    std::string_view method, std::initializer_list<std::pair<std::string_view, Op>> choices,
    std::string name = {}, std::string version = {}) {
  for (const auto& [m, op] : choices) {
    if (m == method) return SecretsRoute{op, std::move(name), std::move(version)};
  }
  return MethodNotAllowed(method);
}

std::variant<SecretsRoute, ApiResponse> ClassifySecrets(std::string_view method,
                                                        const std::vector<std::string>& seg) {
  const size_t n = seg.size();
  if (n == 1 || (n == 2 && seg[1].empty())) return ByMethod(method, {{"GET", Op::kListSecrets}});
  const std::string& name = seg[1];
  if (n == 2 && AsciiLower(name) == "restore" && method == "POST") {
    return SecretsRoute{Op::kRestoreSecret, {}, {}};
  }
  if (!service::IsValidObjectName(name)) return InvalidName(name);
  if (n == 2) {
    return ByMethod(method,
                    {{"GET", Op::kGetSecret},
                     {"PUT", Op::kSetSecret},
                     {"PATCH", Op::kUpdateSecret},
                     {"DELETE", Op::kDeleteSecret}},
                    name);
  }
  if (n == 3) {
    const std::string third = AsciiLower(seg[2]);
    if (third == "versions") return ByMethod(method, {{"GET", Op::kListSecretVersions}}, name);
    if (third == "backup") return ByMethod(method, {{"POST", Op::kBackupSecret}}, name);
    // Anything else is a version ("" = latest): only GET and PATCH address one.
    return ByMethod(method, {{"GET", Op::kGetSecret}, {"PATCH", Op::kUpdateSecret}}, name, seg[2]);
  }
  return NotFoundRoute();
}

std::variant<SecretsRoute, ApiResponse> ClassifyDeletedSecrets(
    std::string_view method, const std::vector<std::string>& seg) {
  const size_t n = seg.size();
  if (n == 1 || (n == 2 && seg[1].empty())) {
    return ByMethod(method, {{"GET", Op::kListDeletedSecrets}});
  }
  const std::string& name = seg[1];
  if (!service::IsValidObjectName(name)) return InvalidName(name);
  if (n == 2) {
    return ByMethod(method, {{"GET", Op::kGetDeletedSecret}, {"DELETE", Op::kPurgeDeletedSecret}},
                    name);
  }
  if (n == 3 && AsciiLower(seg[2]) == "recover") {
    return ByMethod(method, {{"POST", Op::kRecoverDeletedSecret}}, name);
  }
  return NotFoundRoute();
}

// {"value":[...],"nextLink":url|null}; lists never carry a secret's value.
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

}  // namespace

std::string_view OperationName(SecretsOperation op) { return Info(op).name; }
std::string_view AccessPolicyPermission(SecretsOperation op) { return Info(op).permission; }
std::string_view RbacDataAction(SecretsOperation op) { return Info(op).data_action; }
std::vector<OperationAccess> SecretsOperationAccess() {
  std::vector<OperationAccess> rows;
  for (const auto& info : kOperations) {
    rows.push_back({info.name, info.permission, info.data_action});
  }
  return rows;
}

WorkKind WorkKindOf(SecretsOperation op) { return Info(op).placement; }

bool IsSecretsPath(const std::vector<std::string>& segments) {
  if (segments.empty()) return false;
  const std::string collection = AsciiLower(segments[0]);
  return collection == "secrets" || collection == "deletedsecrets";
}

std::variant<SecretsRoute, ApiResponse> ClassifySecretsRoute(
    std::string_view method, const std::vector<std::string>& segments) {
  if (segments.empty()) return NotFoundRoute();
  const std::string collection = AsciiLower(segments[0]);
  if (collection == "secrets") return ClassifySecrets(method, segments);
  if (collection == "deletedsecrets") return ClassifyDeletedSecrets(method, segments);
  return NotFoundRoute();
}

ApiResponse HandleSecretsOperation(const SecretsApi& api, const VaultRequest& request,
                                   const SecretsRoute& route) {
  service::SecretService& secrets = api.secrets;
  const store::VaultRecord& vault = request.vault;
  const std::string& name = route.name;
  const std::string& base = request.base_url;
  switch (route.operation) {
    case Op::kSetSecret: {
      auto set = ParseSetSecretRequest(request.http.body);
      if (!set.ok()) return ErrorResponse(set.status());
      set->name = name;
      return BundleResponse(secrets.SetSecret(vault, *set), base);
    }
    case Op::kGetSecret:
      return BundleResponse(secrets.GetSecret(vault, name, route.version), base);
    case Op::kUpdateSecret: {
      auto body = ParseJsonObject(request.http.body);
      if (!body.ok()) return ErrorResponse(body.status());
      auto update = ParseUpdateSecretRequest(*body);
      if (!update.ok()) return ErrorResponse(update.status());
      return BundleResponse(secrets.UpdateSecret(vault, name, route.version, *update), base);
    }
    case Op::kListSecrets:
      return ListPage<service::SecretItem>(
          request, "/secrets", [&](const auto& page) { return secrets.ListSecrets(vault, page); },
          SecretItemJson);
    case Op::kListSecretVersions:
      return ListPage<service::SecretItem>(
          request, "/secrets/" + name + "/versions",
          [&](const auto& page) { return secrets.ListSecretVersions(vault, name, page); },
          SecretItemJson);
    case Op::kListDeletedSecrets:
      return ListPage<service::DeletedSecretItem>(
          request, "/deletedsecrets",
          [&](const auto& page) { return secrets.ListDeletedSecrets(vault, page); },
          DeletedSecretItemJson);
    case Op::kDeleteSecret: {
      auto deleted = secrets.DeleteSecret(vault, name);
      if (!deleted.ok()) return ErrorResponse(deleted.status());
      return Ok(DeletedSecretBundleJson(*deleted, base));
    }
    case Op::kGetDeletedSecret: {
      auto deleted = secrets.GetDeletedSecret(vault, name);
      if (!deleted.ok()) return ErrorResponse(deleted.status());
      return Ok(DeletedSecretBundleJson(*deleted, base));
    }
    case Op::kRecoverDeletedSecret:
      return BundleResponse(secrets.RecoverDeletedSecret(vault, name), base);
    case Op::kPurgeDeletedSecret: {
      Status purged = secrets.PurgeDeletedSecret(vault, name);
      if (!purged.ok()) return ErrorResponse(purged);
      ApiResponse response;
      response.status = 204;
      return response;
    }
    case Op::kBackupSecret: {
      auto blob = secrets.BackupSecret(vault, name);
      if (!blob.ok()) return ErrorResponse(blob.status());
      return Ok(json::object{{"value", Base64UrlEncode(*blob)}});
    }
    case Op::kRestoreSecret: {
      auto body = ParseJsonObject(request.http.body);
      if (!body.ok()) return ErrorResponse(body.status());
      auto blob = RequiredBase64Url(*body, "value");
      if (!blob.ok()) return ErrorResponse(blob.status());
      return BundleResponse(secrets.RestoreSecret(vault, *blob), base);
    }
  }
  return NotFoundRoute();
}

}  // namespace coffre::http
