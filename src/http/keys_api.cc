#include "http/keys_api.h"

#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <limits>

#include "common/base64url.h"
#include "common/strings.h"
#include "http/key_json.h"
#include "http/router.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

using Op = KeysOperation;
constexpr int kMaxPageSize = 25;

// Where an operation runs: a WorkKind, or decided by the key type a create asks for.
enum class Placement { kCompute, kBlocking, kSlow, kByKeyType };
using P = Placement;

struct OperationInfo {
  Op op;
  std::string_view name;
  std::string_view permission;
  std::string_view data_action;
  Placement placement;
};

// One row per operation: its audit name, access-policy permission, RBAC data action and where it
// runs. Reads and cryptography with cached key material are compute; anything that writes may
// block on a commit; key generation is slow (rotation too: the request does not say the type).
constexpr std::array kOperations = {
    OperationInfo{Op::kListKeys, "GetKeys", "list", "Microsoft.KeyVault/vaults/keys/read",
                  P::kCompute},
    OperationInfo{Op::kListKeyVersions, "GetKeyVersions", "list",
                  "Microsoft.KeyVault/vaults/keys/read", P::kCompute},
    OperationInfo{Op::kGetKey, "GetKey", "get", "Microsoft.KeyVault/vaults/keys/read", P::kCompute},
    OperationInfo{Op::kCreateKey, "CreateKey", "create",
                  "Microsoft.KeyVault/vaults/keys/create/action", P::kByKeyType},
    OperationInfo{Op::kImportKey, "ImportKey", "import",
                  "Microsoft.KeyVault/vaults/keys/import/action", P::kBlocking},
    OperationInfo{Op::kUpdateKey, "UpdateKey", "update",
                  "Microsoft.KeyVault/vaults/keys/update/action", P::kBlocking},
    OperationInfo{Op::kDeleteKey, "DeleteKey", "delete", "Microsoft.KeyVault/vaults/keys/delete",
                  P::kBlocking},
    OperationInfo{Op::kBackupKey, "BackupKey", "backup",
                  "Microsoft.KeyVault/vaults/keys/backup/action", P::kBlocking},
    OperationInfo{Op::kRestoreKey, "RestoreKey", "restore",
                  "Microsoft.KeyVault/vaults/keys/restore/action", P::kBlocking},
    OperationInfo{Op::kRotateKey, "RotateKey", "rotate",
                  "Microsoft.KeyVault/vaults/keys/rotate/action", P::kSlow},
    OperationInfo{Op::kGetRotationPolicy, "GetKeyRotationPolicy", "getrotationpolicy",
                  "Microsoft.KeyVault/vaults/keyrotationpolicies/read", P::kCompute},
    OperationInfo{Op::kUpdateRotationPolicy, "UpdateKeyRotationPolicy", "setrotationpolicy",
                  "Microsoft.KeyVault/vaults/keyrotationpolicies/write", P::kBlocking},
    OperationInfo{Op::kEncrypt, "Encrypt", "encrypt",
                  "Microsoft.KeyVault/vaults/keys/encrypt/action", P::kCompute},
    OperationInfo{Op::kDecrypt, "Decrypt", "decrypt",
                  "Microsoft.KeyVault/vaults/keys/decrypt/action", P::kCompute},
    OperationInfo{Op::kWrapKey, "WrapKey", "wrapKey", "Microsoft.KeyVault/vaults/keys/wrap/action",
                  P::kCompute},
    OperationInfo{Op::kUnwrapKey, "UnwrapKey", "unwrapKey",
                  "Microsoft.KeyVault/vaults/keys/unwrap/action", P::kCompute},
    OperationInfo{Op::kSign, "Sign", "sign", "Microsoft.KeyVault/vaults/keys/sign/action",
                  P::kCompute},
    OperationInfo{Op::kVerify, "Verify", "verify", "Microsoft.KeyVault/vaults/keys/verify/action",
                  P::kCompute},
    OperationInfo{Op::kRelease, "Release", "release",
                  "Microsoft.KeyVault/vaults/keys/release/action", P::kBlocking},
    OperationInfo{Op::kGetKeyAttestation, "GetKeyAttestation", "get",
                  "Microsoft.KeyVault/vaults/keys/read", P::kCompute},
    OperationInfo{Op::kListDeletedKeys, "GetDeletedKeys", "list",
                  "Microsoft.KeyVault/vaults/keys/read", P::kCompute},
    OperationInfo{Op::kGetDeletedKey, "GetDeletedKey", "get", "Microsoft.KeyVault/vaults/keys/read",
                  P::kCompute},
    OperationInfo{Op::kPurgeDeletedKey, "PurgeDeletedKey", "purge",
                  "Microsoft.KeyVault/vaults/keys/purge/action", P::kBlocking},
    OperationInfo{Op::kRecoverDeletedKey, "RecoverDeletedKey", "recover",
                  "Microsoft.KeyVault/vaults/keys/recover/action", P::kBlocking},
    // Not a key operation in Key Vault; as Managed HSM names it (rng/action), granted by the
    // Crypto Officer and Crypto User roles. Access-policy vaults have no such permission: the
    // caller needs the keys "encrypt" permission, what a crypto user is granted.
    OperationInfo{Op::kGetRandomBytes, "GetRandomBytes", "encrypt",
                  "Microsoft.KeyVault/vaults/rng/action", P::kCompute},
};

const OperationInfo& Info(Op op) {
  for (const auto& info : kOperations) {
    if (info.op == op) return info;
  }
  return kOperations.back();
}

ApiResponse Ok(const json::object& body) { return JsonResponse(200, json::serialize(body)); }

template <typename T>
ApiResponse OkOr(const Result<T>& result, json::object (*render)(const T&, std::string_view),
                 std::string_view base_url) {
  if (!result.ok()) return ErrorResponse(result.status());
  return Ok(render(*result, base_url));
}

// A key bundle for a request that may have sent "tags":{}: Azure echoes the empty object,
// where a key without tags otherwise has no "tags" property.
ApiResponse KeyBundleOr(const Result<service::KeyBundle>& result, std::string_view base_url,
                        const std::optional<service::Tags>& sent_tags) {
  if (!result.ok()) return ErrorResponse(result.status());
  json::object bundle = KeyBundleJson(*result, base_url);
  if (sent_tags && sent_tags->empty() && !bundle.contains("tags")) bundle["tags"] = json::object();
  return Ok(std::move(bundle));
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

std::optional<Op> CryptoOperation(std::string_view lower) {
  if (lower == "encrypt") return Op::kEncrypt;
  if (lower == "decrypt") return Op::kDecrypt;
  if (lower == "wrapkey") return Op::kWrapKey;
  if (lower == "unwrapkey") return Op::kUnwrapKey;
  if (lower == "sign") return Op::kSign;
  if (lower == "verify") return Op::kVerify;
  if (lower == "release") return Op::kRelease;
  return std::nullopt;
}

// Picks the operation for `method` among (method, operation) pairs, or answers 405.
std::variant<KeysRoute, ApiResponse> ByMethod(
    std::string_view method, std::initializer_list<std::pair<std::string_view, Op>> choices,
    std::string name = {}, std::string version = {}) {
  for (const auto& [m, op] : choices) {
    if (m == method) return KeysRoute{op, std::move(name), std::move(version)};
  }
  return MethodNotAllowed(method);
}

std::variant<KeysRoute, ApiResponse> ClassifyKeys(std::string_view method,
                                                  const std::vector<std::string>& seg) {
  size_t n = seg.size();
  if (n == 1 || (n == 2 && seg[1].empty())) return ByMethod(method, {{"GET", Op::kListKeys}});
  const std::string& name = seg[1];
  if (n == 2 && AsciiLower(name) == "restore" && method == "POST") {
    return KeysRoute{Op::kRestoreKey, {}, {}};
  }
  if (!service::IsValidObjectName(name)) return InvalidName(name);
  if (n == 2) {
    return ByMethod(method,
                    {{"GET", Op::kGetKey},
                     {"PATCH", Op::kUpdateKey},
                     {"DELETE", Op::kDeleteKey},
                     {"PUT", Op::kImportKey}},
                    name);
  }
  std::string third = AsciiLower(seg[2]);
  if (n == 3) {
    if (third == "create") return ByMethod(method, {{"POST", Op::kCreateKey}}, name);
    if (third == "versions") return ByMethod(method, {{"GET", Op::kListKeyVersions}}, name);
    if (third == "rotate") return ByMethod(method, {{"POST", Op::kRotateKey}}, name);
    if (third == "backup") return ByMethod(method, {{"POST", Op::kBackupKey}}, name);
    if (third == "rotationpolicy") {
      return ByMethod(method, {{"GET", Op::kGetRotationPolicy}, {"PUT", Op::kUpdateRotationPolicy}},
                      name);
    }
    // .NET sends version-less operations as /keys/{name}/{operation}.
    if (auto op = CryptoOperation(third)) return ByMethod(method, {{"POST", *op}}, name);
    // Anything else in third place is a version ("" = latest): only GET and PATCH address one.
    if (method == "GET" || method == "PATCH") {
      return ByMethod(method, {{"GET", Op::kGetKey}, {"PATCH", Op::kUpdateKey}}, name, seg[2]);
    }
    return NotFoundRoute();
  }
  if (n == 4) {
    std::string fourth = AsciiLower(seg[3]);
    // Python and Go send version-less operations as /keys/{name}//{operation}.
    if (auto op = CryptoOperation(fourth)) return ByMethod(method, {{"POST", *op}}, name, seg[2]);
    if (fourth == "attestation") {
      return ByMethod(method, {{"GET", Op::kGetKeyAttestation}}, name, seg[2]);
    }
  }
  return NotFoundRoute();
}

std::variant<KeysRoute, ApiResponse> ClassifyDeletedKeys(std::string_view method,
                                                         const std::vector<std::string>& seg) {
  size_t n = seg.size();
  if (n == 1 || (n == 2 && seg[1].empty())) {
    return ByMethod(method, {{"GET", Op::kListDeletedKeys}});
  }
  const std::string& name = seg[1];
  if (!service::IsValidObjectName(name)) return InvalidName(name);
  if (n == 2) {
    return ByMethod(method, {{"GET", Op::kGetDeletedKey}, {"DELETE", Op::kPurgeDeletedKey}}, name);
  }
  if (n == 3 && AsciiLower(seg[2]) == "recover") {
    return ByMethod(method, {{"POST", Op::kRecoverDeletedKey}}, name);
  }
  return NotFoundRoute();
}

// {"value":[...],"nextLink":url|null}; the next link carries the cursor as $skiptoken.
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

// Parses the JSON body, then the operation's request from it.
template <typename Parse>
auto ParseBody(const VaultRequest& request, Parse parse)
    -> decltype(parse(std::declval<const json::object&>())) {
  auto body = ParseJsonObject(request.http.body);
  if (!body.ok()) return body.status();
  return parse(*body);
}

service::KeyOperation ServiceOperation(Op op) {
  switch (op) {
    case Op::kEncrypt:
      return service::KeyOperation::kEncrypt;
    case Op::kDecrypt:
      return service::KeyOperation::kDecrypt;
    case Op::kWrapKey:
      return service::KeyOperation::kWrapKey;
    case Op::kUnwrapKey:
      return service::KeyOperation::kUnwrapKey;
    case Op::kVerify:
      return service::KeyOperation::kVerify;
    default:
      return service::KeyOperation::kSign;
  }
}

ApiResponse CryptoOperationResponse(const KeysApi& api, const VaultRequest& request,
                                    const KeysRoute& route) {
  if (route.operation == Op::kVerify) {
    auto verify = ParseBody(request, ParseVerifyRequest);
    if (!verify.ok()) return ErrorResponse(verify.status());
    auto valid = api.crypto.Verify(request.vault, route.name, route.version, *verify);
    if (!valid.ok()) return ErrorResponse(valid.status());
    return Ok(json::object{{"value", *valid}});
  }
  auto parameters = ParseBody(request, ParseKeyOperationRequest);
  if (!parameters.ok()) return ErrorResponse(parameters.status());
  auto result = api.crypto.Perform(request.vault, route.name, route.version,
                                   ServiceOperation(route.operation), *parameters);
  if (!result.ok()) return ErrorResponse(result.status());
  ApiResponse response = Ok(KeyOperationResultJson(*result, request.base_url));
  // Decrypt and unwrap answer with plaintext: wiped from memory once sent.
  response.sensitive = route.operation == Op::kDecrypt || route.operation == Op::kUnwrapKey;
  return response;
}

ApiResponse RotationPolicyResponse(const Result<service::RotationPolicy>& policy,
                                   const VaultRequest& request, const std::string& name) {
  if (!policy.ok()) return ErrorResponse(policy.status());
  return Ok(RotationPolicyJson(*policy, request.base_url, name));
}

// Whether a create request asks for an RSA key (tens of milliseconds of key generation). A body
// that does not parse counts as RSA: it is answered quickly either way, and misplacing a real
// RSA create would hold up the store writers behind it.
bool CreatesRsaKey(std::string_view body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) return true;
  const json::value* kty = value.get_object().if_contains("kty");
  if (kty == nullptr || !kty->is_string()) return true;
  std::string_view type = kty->get_string();
  return type != "EC" && type != "EC-HSM" && type != "oct" && type != "oct-HSM";
}

}  // namespace

std::vector<OperationAccess> KeysOperationAccess() {
  std::vector<OperationAccess> rows;
  for (const auto& info : kOperations) {
    rows.push_back({info.name, info.permission, info.data_action});
  }
  return rows;
}

Result<service::PageRequest> ParsePageRequest(const VaultRequest& request) {
  service::PageRequest page;
  page.max_results = kMaxPageSize;
  if (!request.max_results.empty()) {
    const std::string& text = request.max_results;
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1 ||
        value > kMaxPageSize) {
      return Status::BadParameter("Invalid value for maxresults: " + text.substr(0, 32) +
                                  ". It must be an integer from 1 to 25.");
    }
    page.max_results = value;
  }
  if (!request.skip_token.empty()) {
    auto cursor = Base64UrlDecode(request.skip_token);
    if (!cursor || cursor->empty()) return Status::BadParameter("The $skiptoken is not valid.");
    page.cursor.assign(cursor->begin(), cursor->end());
  }
  return page;
}

std::string NextLink(const VaultRequest& request, std::string_view path, std::string_view cursor,
                     int max_results) {
  return request.base_url + std::string(path) + "?api-version=" + request.api_version +
         "&$skiptoken=" + Base64UrlEncode(AsBytes(cursor)) +
         "&maxresults=" + std::to_string(max_results);
}

std::string_view OperationName(KeysOperation op) { return Info(op).name; }
std::string_view AccessPolicyPermission(KeysOperation op) { return Info(op).permission; }
std::string_view RbacDataAction(KeysOperation op) { return Info(op).data_action; }

WorkKind WorkKindOf(KeysOperation op, std::string_view body) {
  switch (Info(op).placement) {
    case Placement::kCompute:
      return WorkKind::kCompute;
    case Placement::kBlocking:
      return WorkKind::kBlocking;
    case Placement::kSlow:
      return WorkKind::kSlow;
    case Placement::kByKeyType:
      return CreatesRsaKey(body) ? WorkKind::kSlow : WorkKind::kBlocking;
  }
  return WorkKind::kBlocking;
}

std::variant<KeysRoute, ApiResponse> ClassifyKeysRoute(std::string_view method,
                                                       const std::vector<std::string>& segments) {
  if (segments.empty()) return NotFoundRoute();
  std::string collection = AsciiLower(segments[0]);
  if (collection == "keys") return ClassifyKeys(method, segments);
  if (collection == "deletedkeys") return ClassifyDeletedKeys(method, segments);
  if (collection == "rng" && segments.size() == 1) {
    return ByMethod(method, {{"POST", Op::kGetRandomBytes}});
  }
  return NotFoundRoute();
}

ApiResponse HandleKeysOperation(const KeysApi& api, const VaultRequest& request,
                                const KeysRoute& route) {
  service::KeyService& keys = api.keys;
  const store::VaultRecord& vault = request.vault;
  const std::string& name = route.name;
  const std::string& base = request.base_url;
  switch (route.operation) {
    case Op::kListKeys:
      return ListPage<service::KeyItem>(
          request, "/keys", [&](const auto& page) { return keys.ListKeys(vault, page); },
          KeyItemJson);
    case Op::kListKeyVersions:
      return ListPage<service::KeyItem>(
          request, "/keys/" + name + "/versions",
          [&](const auto& page) { return keys.ListKeyVersions(vault, name, page); }, KeyItemJson);
    case Op::kListDeletedKeys:
      return ListPage<service::DeletedKeyItem>(
          request, "/deletedkeys",
          [&](const auto& page) { return keys.ListDeletedKeys(vault, page); }, DeletedKeyItemJson);
    case Op::kGetKey:
      return OkOr(keys.GetKey(vault, name, route.version), KeyBundleJson, base);
    case Op::kCreateKey: {
      auto create = ParseBody(request, ParseCreateKeyRequest);
      if (!create.ok()) return ErrorResponse(create.status());
      create->name = name;
      return KeyBundleOr(keys.CreateKey(vault, *create), base, create->tags);
    }
    case Op::kImportKey: {
      auto import = ParseBody(request, ParseImportKeyRequest);
      if (!import.ok()) return ErrorResponse(import.status());
      import->name = name;
      return KeyBundleOr(keys.ImportKey(vault, *import), base, import->tags);
    }
    case Op::kUpdateKey: {
      auto update = ParseBody(request, ParseUpdateKeyRequest);
      if (!update.ok()) return ErrorResponse(update.status());
      return KeyBundleOr(keys.UpdateKey(vault, name, route.version, *update), base, update->tags);
    }
    case Op::kDeleteKey:
      return OkOr(keys.DeleteKey(vault, name), DeletedKeyBundleJson, base);
    case Op::kBackupKey: {
      auto blob = keys.BackupKey(vault, name);
      if (!blob.ok()) return ErrorResponse(blob.status());
      return Ok(json::object{{"value", Base64UrlEncode(*blob)}});
    }
    case Op::kRestoreKey: {
      auto blob = ParseBody(
          request, [](const json::object& body) { return RequiredBase64Url(body, "value"); });
      if (!blob.ok()) return ErrorResponse(blob.status());
      return OkOr(keys.RestoreKey(vault, *blob), KeyBundleJson, base);
    }
    case Op::kRotateKey:
      return OkOr(keys.RotateKey(vault, name), KeyBundleJson, base);
    case Op::kGetRotationPolicy:
      return RotationPolicyResponse(keys.GetRotationPolicy(vault, name), request, name);
    case Op::kUpdateRotationPolicy: {
      auto policy = ParseBody(request, ParseRotationPolicy);
      if (!policy.ok()) return ErrorResponse(policy.status());
      return RotationPolicyResponse(keys.UpdateRotationPolicy(vault, name, std::move(*policy)),
                                    request, name);
    }
    case Op::kEncrypt:
    case Op::kDecrypt:
    case Op::kWrapKey:
    case Op::kUnwrapKey:
    case Op::kSign:
    case Op::kVerify:
      return CryptoOperationResponse(api, request, route);
    case Op::kRelease:
      return ErrorResponse(Status::BadParameter(
          "Secure key release is not supported by this server: keys cannot be exported.",
          "NotSupported"));
    case Op::kGetKeyAttestation:
      return ErrorResponse(Status(ErrorKind::kNotImplemented, "NotImplemented",
                                  "Key attestation is a Managed HSM feature this server does "
                                  "not provide."));
    case Op::kGetDeletedKey:
      return OkOr(keys.GetDeletedKey(vault, name), DeletedKeyBundleJson, base);
    case Op::kPurgeDeletedKey: {
      Status purged = keys.PurgeDeletedKey(vault, name);
      if (!purged.ok()) return ErrorResponse(purged);
      ApiResponse response;
      response.status = 204;
      return response;
    }
    case Op::kRecoverDeletedKey:
      return OkOr(keys.RecoverDeletedKey(vault, name), KeyBundleJson, base);
    case Op::kGetRandomBytes: {
      auto count = ParseBody(request, [](const json::object& body) {
        return RequiredInt(body, "count", std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max());
      });
      if (!count.ok()) return ErrorResponse(count.status());
      auto bytes = service::CryptoService::RandomBytes(*count);
      if (!bytes.ok()) return ErrorResponse(bytes.status());
      return Ok(json::object{{"value", Base64UrlEncode(*bytes)}});
    }
  }
  return NotFoundRoute();
}

}  // namespace coffre::http
