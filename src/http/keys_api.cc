#include "http/keys_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "common/base64url.h"
#include "http/key_json.h"
#include "http/router.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

constexpr int kMaxPageSize = 25;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

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

ApiResponse Keys(service::KeyService& keys, const VaultRequest& request) {
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
  if (n == 2 && Lower(name) == "restore" && method == "POST") return NotImplemented("restore");
  if (!service::IsValidObjectName(name)) return InvalidName(name);
  if (n == 2) {
    if (method == "DELETE") {
      return OkOr(keys.DeleteKey(request.vault, name), DeletedKeyBundleJson, request.base_url);
    }
    if (method == "PUT") return NotImplemented("import");
    return KeyVersion(keys, request, name, "");
  }
  std::string third = Lower(seg[2]);
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
    if (third == "rotate" || third == "backup" || third == "rotationpolicy") {
      return NotImplemented(third);
    }
    if (IsCryptoOperation(third)) return NotImplemented(third);
    // Anything else in third place is a version: only GET and PATCH address one.
    if (method == "GET" || method == "PATCH") return KeyVersion(keys, request, name, seg[2]);
  }
  if (n == 4) {
    std::string op = Lower(seg[3]);
    if (IsCryptoOperation(op) || op == "attestation") return NotImplemented(op);
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
  if (n == 3 && Lower(seg[2]) == "recover") {
    if (method != "POST") return MethodNotAllowed(method);
    return OkOr(keys.RecoverDeletedKey(request.vault, name), KeyBundleJson, request.base_url);
  }
  return ErrorResponse(Status::NotFound("NotFound", "The requested resource was not found."));
}

}  // namespace

std::optional<ApiResponse> HandleKeysRequest(service::KeyService& keys,
                                             const VaultRequest& request) {
  if (request.segments.empty()) return std::nullopt;
  std::string collection = Lower(request.segments[0]);
  if (collection == "keys") return Keys(keys, request);
  if (collection == "deletedkeys") return DeletedKeys(keys, request);
  if (collection == "rng" && request.segments.size() == 1) return NotImplemented("rng");
  return std::nullopt;
}

}  // namespace coffre::http
