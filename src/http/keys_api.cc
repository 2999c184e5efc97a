#include "http/keys_api.h"
#include "common/strings.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <limits>

#include "common/base64url.h"
#include "http/key_json.h"
#include "http/router.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

constexpr int kMaxPageSize = 25;


ApiResponse Ok(const json::object& body) { return JsonResponse(200, json::serialize(body)); }

template <typename T>
ApiResponse OkOr(const Result<T>& result, json::object (*render)(const T&, std::string_view),
                 std::string_view base_url) {
  if (!result.ok()) return ErrorResponse(result.status());
  return Ok(render(*result, base_url));
}

ApiResponse MethodNotAllowed(std::string_view method) {
  return ErrorResponse(Status(ErrorKind::kMethodNotAllowed, "MethodNotAllowed",
                              "The HTTP method '" + std::string(method.substr(0, 16)) +
                                  "' is not supported for this resource."));
}

ApiResponse NotImplemented(std::string_view what) {
  return ErrorResponse(Status(ErrorKind::kNotImplemented, "NotImplemented",
                              "The operation '" + std::string(what) +
                                  "' is not supported by this server yet."));
}

ApiResponse InvalidName(std::string_view name) {
  return ErrorResponse(Status::BadParameter("The request URI contains an invalid name: " +
                                            std::string(name.substr(0, 256))));
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

// {"value":[...],"nextLink":url|null}, the next link carrying the cursor as $skiptoken.
template <typename T, typename Render>
ApiResponse ListResponse(const VaultRequest& request, std::string_view path,
                         const service::PageRequest& page, const service::Page<T>& result,
                         Render render) {
  json::array value;
  for (const auto& item : result.items) value.emplace_back(render(item, request.base_url));
  json::object body;
  body["value"] = std::move(value);
  if (result.next_cursor.empty()) {
    body["nextLink"] = nullptr;
  } else {
    body["nextLink"] = request.base_url + std::string(path) +
                       "?api-version=" + request.api_version +
                       "&$skiptoken=" + Base64UrlEncode(AsBytes(result.next_cursor)) +
                       "&maxresults=" + std::to_string(page.max_results);
  }
  return Ok(body);
}

bool IsCryptoOperation(std::string_view op) {
  return op == "encrypt" || op == "decrypt" || op == "sign" || op == "verify" ||
         op == "wrapkey" || op == "unwrapkey" || op == "release";
}

ApiResponse CreateKey(service::KeyService& keys, const VaultRequest& request,
                      const std::string& name) {
  auto body = ParseJsonObject(request.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  auto create = ParseCreateKeyRequest(*body);
  if (!create.ok()) return ErrorResponse(create.status());
  create->name = name;
  return OkOr(keys.CreateKey(request.vault, *create), KeyBundleJson, request.base_url);
}

ApiResponse UpdateKey(service::KeyService& keys, const VaultRequest& request,
                      const std::string& name, const std::string& version) {
  auto body = ParseJsonObject(request.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  auto update = ParseUpdateKeyRequest(*body);
  if (!update.ok()) return ErrorResponse(update.status());
  return OkOr(keys.UpdateKey(request.vault, name, version, *update), KeyBundleJson,
              request.base_url);
}

// GET or PATCH of one version ("" = latest).
ApiResponse KeyVersion(service::KeyService& keys, const VaultRequest& request,
                       const std::string& name, const std::string& version) {
  const std::string& method = request.http.method;
  if (method == "GET") {
    return OkOr(keys.GetKey(request.vault, name, version), KeyBundleJson, request.base_url);
  }
  if (method == "PATCH") return UpdateKey(keys, request, name, version);
  return MethodNotAllowed(method);
}

std::optional<service::KeyOperation> OperationFromPath(std::string_view segment) {
  if (segment == "encrypt") return service::KeyOperation::kEncrypt;
  if (segment == "decrypt") return service::KeyOperation::kDecrypt;
  if (segment == "wrapkey") return service::KeyOperation::kWrapKey;
  if (segment == "unwrapkey") return service::KeyOperation::kUnwrapKey;
  if (segment == "sign") return service::KeyOperation::kSign;
  if (segment == "verify") return service::KeyOperation::kVerify;
  return std::nullopt;
}

// POST /keys/{name}[/{version}]/{operation}; operation is lower case.
ApiResponse KeyOperation(const KeysApi& api, const VaultRequest& request, const std::string& name,
                         const std::string& version, const std::string& operation) {
  if (request.http.method != "POST") return MethodNotAllowed(request.http.method);
  if (operation == "release") {
    return ErrorResponse(Status::BadParameter(
        "Secure key release is not supported by this server: keys cannot be exported.",
        "NotSupported"));
  }
  auto op = OperationFromPath(operation);
  if (!op) return ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found."));
  auto body = ParseJsonObject(request.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (*op == service::KeyOperation::kVerify) {
    auto verify = ParseVerifyRequest(*body);
    if (!verify.ok()) return ErrorResponse(verify.status());
    auto valid = api.crypto.Verify(request.vault, name, version, *verify);
    if (!valid.ok()) return ErrorResponse(valid.status());
    return Ok(json::object{{"value", *valid}});
  }
  auto parameters = ParseKeyOperationRequest(*body);
  if (!parameters.ok()) return ErrorResponse(parameters.status());
  auto result = api.crypto.Perform(request.vault, name, version, *op, *parameters);
  if (!result.ok()) return ErrorResponse(result.status());
  ApiResponse response = Ok(KeyOperationResultJson(*result, request.base_url));
  response.sensitive = *op == service::KeyOperation::kDecrypt ||
                       *op == service::KeyOperation::kUnwrapKey;
  return response;
}

ApiResponse ImportKey(service::KeyService& keys, const VaultRequest& request,
                      const std::string& name) {
  auto body = ParseJsonObject(request.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  auto import = ParseImportKeyRequest(*body);
  if (!import.ok()) return ErrorResponse(import.status());
  import->name = name;
  return OkOr(keys.ImportKey(request.vault, *import), KeyBundleJson, request.base_url);
}

ApiResponse RestoreKey(service::KeyService& keys, const VaultRequest& request) {
  auto body = ParseJsonObject(request.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  auto blob = RequiredBase64Url(*body, "value");
  if (!blob.ok()) return ErrorResponse(blob.status());
  return OkOr(keys.RestoreKey(request.vault, *blob), KeyBundleJson, request.base_url);
}

ApiResponse RotationPolicy(service::KeyService& keys, const VaultRequest& request,
                           const std::string& name) {
  const std::string& method = request.http.method;
  Result<service::RotationPolicy> policy = Status::Internal("unset");
  if (method == "GET") {
    policy = keys.GetRotationPolicy(request.vault, name);
  } else if (method == "PUT") {
    auto body = ParseJsonObject(request.http.body);
    if (!body.ok()) return ErrorResponse(body.status());
    auto parsed = ParseRotationPolicy(*body);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    policy = keys.UpdateRotationPolicy(request.vault, name, std::move(*parsed));
  } else {
    return MethodNotAllowed(method);
  }
  if (!policy.ok()) return ErrorResponse(policy.status());
  return Ok(RotationPolicyJson(*policy, request.base_url, name));
}

ApiResponse RandomBytes(const VaultRequest& request) {
  if (request.http.method != "POST") return MethodNotAllowed(request.http.method);
  auto body = ParseJsonObject(request.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  auto count = RequiredInt(*body, "count", std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max());
  if (!count.ok()) return ErrorResponse(count.status());
  auto bytes = service::CryptoService::RandomBytes(*count);
  if (!bytes.ok()) return ErrorResponse(bytes.status());
  return Ok(json::object{{"value", Base64UrlEncode(*bytes)}});
}

ApiResponse Keys(const KeysApi& api, const VaultRequest& request) {
  service::KeyService& keys = api.keys;
  const auto& seg = request.segments;
  const std::string& method = request.http.method;
  size_t n = seg.size();
  if (n == 1 || (n == 2 && seg[1].empty())) {
    if (method != "GET") return MethodNotAllowed(method);
    auto page = ParsePageRequest(request);
    if (!page.ok()) return ErrorResponse(page.status());
    auto result = keys.ListKeys(request.vault, *page);
    if (!result.ok()) return ErrorResponse(result.status());
    return ListResponse(request, "/keys", *page, *result, KeyItemJson);
  }
  const std::string& name = seg[1];
  if (n == 2 && AsciiLower(name) == "restore" && method == "POST") return RestoreKey(keys, request);
  if (!service::IsValidObjectName(name)) return InvalidName(name);
  if (n == 2) {
    if (method == "DELETE") {
      return OkOr(keys.DeleteKey(request.vault, name), DeletedKeyBundleJson, request.base_url);
    }
    if (method == "PUT") return ImportKey(keys, request, name);
    return KeyVersion(keys, request, name, "");
  }
  std::string third = AsciiLower(seg[2]);
  if (n == 3) {
    if (third == "create") {
      if (method != "POST") return MethodNotAllowed(method);
      return CreateKey(keys, request, name);
    }
    if (third == "versions") {
      if (method != "GET") return MethodNotAllowed(method);
      auto page = ParsePageRequest(request);
      if (!page.ok()) return ErrorResponse(page.status());
      auto result = keys.ListKeyVersions(request.vault, name, *page);
      if (!result.ok()) return ErrorResponse(result.status());
      return ListResponse(request, "/keys/" + name + "/versions", *page, *result, KeyItemJson);
    }
    if (third == "rotate" || third == "backup") {
      if (method != "POST") return MethodNotAllowed(method);
      if (third == "rotate") {
        return OkOr(keys.RotateKey(request.vault, name), KeyBundleJson, request.base_url);
      }
      auto blob = keys.BackupKey(request.vault, name);
      if (!blob.ok()) return ErrorResponse(blob.status());
      return Ok(json::object{{"value", Base64UrlEncode(*blob)}});
    }
    if (third == "rotationpolicy") return RotationPolicy(keys, request, name);
    // .NET sends version-less operations as /keys/{name}/{operation}.
    if (IsCryptoOperation(third)) return KeyOperation(api, request, name, "", third);
    // Anything else in third place is a version: only GET and PATCH address one.
    if (method == "GET" || method == "PATCH") return KeyVersion(keys, request, name, seg[2]);
  }
  if (n == 4) {
    std::string op = AsciiLower(seg[3]);
    // Python and Go send version-less operations as /keys/{name}//{operation}.
    if (IsCryptoOperation(op)) return KeyOperation(api, request, name, seg[2], op);
    if (op == "attestation") return NotImplemented(op);
  }
  return ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found."));
}

ApiResponse DeletedKeys(service::KeyService& keys, const VaultRequest& request) {
  const auto& seg = request.segments;
  const std::string& method = request.http.method;
  size_t n = seg.size();
  if (n == 1 || (n == 2 && seg[1].empty())) {
    if (method != "GET") return MethodNotAllowed(method);
    auto page = ParsePageRequest(request);
    if (!page.ok()) return ErrorResponse(page.status());
    auto result = keys.ListDeletedKeys(request.vault, *page);
    if (!result.ok()) return ErrorResponse(result.status());
    return ListResponse(request, "/deletedkeys", *page, *result, DeletedKeyItemJson);
  }
  const std::string& name = seg[1];
  if (!service::IsValidObjectName(name)) return InvalidName(name);
  if (n == 2) {
    if (method == "GET") {
      return OkOr(keys.GetDeletedKey(request.vault, name), DeletedKeyBundleJson,
                  request.base_url);
    }
    if (method == "DELETE") {
      Status purged = keys.PurgeDeletedKey(request.vault, name);
      if (!purged.ok()) return ErrorResponse(purged);
      ApiResponse response;
      response.status = 204;
      return response;
    }
    return MethodNotAllowed(method);
  }
  if (n == 3 && AsciiLower(seg[2]) == "recover") {
    if (method != "POST") return MethodNotAllowed(method);
    return OkOr(keys.RecoverDeletedKey(request.vault, name), KeyBundleJson, request.base_url);
  }
  return ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found."));
}

}  // namespace

std::optional<ApiResponse> HandleKeysRequest(const KeysApi& api, const VaultRequest& request) {
  if (request.segments.empty()) return std::nullopt;
  std::string collection = AsciiLower(request.segments[0]);
  if (collection == "keys") return Keys(api, request);
  if (collection == "deletedkeys") return DeletedKeys(api.keys, request);
  if (collection == "rng" && request.segments.size() == 1) return RandomBytes(request);
  return std::nullopt;
}

}  // namespace coffre::http
