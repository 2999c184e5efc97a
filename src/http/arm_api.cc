#include "http/arm_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <utility>
#include <variant>

#include "auth/access_control.h"
#include "common/strings.h"
#include "common/utc_time.h"
#include "crypto/random.h"
#include "http/key_json.h"
#include "http/router.h"
#include "service/vault_directory.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

constexpr std::string_view kVaultType = "Microsoft.KeyVault/vaults";
constexpr std::string_view kOldestApiVersion = "2019-09-01";
constexpr std::string_view kNewestApiVersion = "2023-07-01";
constexpr size_t kMaxArmBody = 256 * 1024;
constexpr size_t kMaxTags = 50;
constexpr size_t kMaxTagName = 512;
constexpr size_t kMaxTagValue = 256;
constexpr size_t kMaxAccessPolicies = 1024;
// The roles that manage vaults through Resource Manager.
constexpr std::string_view kManagementRoles[] = {"owner", "contributor", "key vault contributor"};

bool IsServedApiVersion(std::string_view version, std::string_view oldest);

// ---- answers

ApiResponse Json(int status, const json::value& body) {
  return JsonResponse(status, json::serialize(body));
}

ApiResponse ArmError(ErrorKind kind, std::string code, std::string message) {
  return ErrorResponse(Status(kind, std::move(code), std::move(message)));
}

// A service error as ARM words it: the service's codes where they are ARM's, BadRequest for the
// generic bad parameter.
ApiResponse FromStatus(const Status& status) {
  if (status.kind() == ErrorKind::kBadRequest && status.code() == "BadParameter") {
    return ArmError(ErrorKind::kBadRequest, "BadRequest", status.message());
  }
  if (status.kind() == ErrorKind::kConflict && status.code() == "Conflict") {
    return ArmError(ErrorKind::kConflict, "Conflict", status.message());
  }
  return ErrorResponse(status);
}

ApiResponse Empty(int status) {
  ApiResponse response;
  response.status = status;
  return response;
}

ApiResponse MethodNotAllowed(std::string_view method) {
  return ArmError(ErrorKind::kMethodNotAllowed, "MethodNotAllowed",
                  "The requested method '" + std::string(method.substr(0, 16)) +
                      "' is not allowed for this resource.");
}

ApiResponse NoSuchResourceType() {
  return ArmError(ErrorKind::kNotFound, "InvalidResourceType",
                  "The resource type could not be found in the namespace for the api version.");
}

std::string QueryValue(const RequestTarget& target, std::string_view name) {
  auto it = target.query.find(name);
  return it == target.query.end() ? std::string() : it->second;
}

bool IsGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// https://NAME.localhost:PORT/ when Resource Manager was reached as localhost:PORT: the URL the
// data plane serves the vault at (the cloud's keyvault DNS suffix is .localhost:PORT).
std::string VaultUri(std::string_view vault, std::string_view host) {
  std::string h = AsciiLower(host);
  size_t colon = h.rfind(':');
  std::string port = colon != std::string::npos && h.find(']') == std::string::npos
                         ? h.substr(colon)
                         : std::string();
  return "https://" + std::string(vault) + ".localhost" + port + "/";
}

json::object TagsJson(const store::Tags& tags) {
  json::object out;
  for (const auto& [name, value] : tags) out[name] = value;
  return out;
}

Result<std::optional<store::Tags>> ParseTags(const json::object& body) {
  auto it = body.find("tags");
  if (it == body.end() || it->value().is_null()) return std::optional<store::Tags>{};
  if (!it->value().is_object()) {
    return Status(ErrorKind::kBadRequest, "InvalidRequestContent", "The tags must be an object.");
  }
  const json::object& tags = it->value().get_object();
  if (tags.size() > kMaxTags) {
    return Status(ErrorKind::kBadRequest, "InvalidTagNameCharacters",
                  "A resource holds at most 50 tags.");
  }
  store::Tags out;
  for (const auto& kv : tags) {
    if (!kv.value().is_string() || kv.key().empty() || kv.key().size() > kMaxTagName ||
        kv.value().get_string().size() > kMaxTagValue) {
      return Status(ErrorKind::kBadRequest, "InvalidTagNameCharacters",
                    "Tag names are 1-512 characters and tag values strings of at most 256.");
    }
    out.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
  }
  std::sort(out.begin(), out.end());
  return std::optional<store::Tags>{std::move(out)};
}

// ---- who is calling

struct Caller {
  bool admin = false;
  std::string object_id;
  std::string app_id;
};

std::string BearerToken(const ApiRequest& request) {
  const std::string* header = request.Header("authorization");
  if (header == nullptr || header->size() < 8 || AsciiLower(header->substr(0, 7)) != "bearer ") {
    return {};
  }
  std::string_view value = std::string_view(*header).substr(7);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return std::string(value);
}

ApiResponse Unauthenticated(const ApiRequest& request, std::string code, std::string message) {
  ApiResponse response = ArmError(ErrorKind::kUnauthorized, std::move(code), std::move(message));
  response.headers.emplace_back(
      "WWW-Authenticate", "Bearer authorization_uri=\"https://" + AsciiLower(request.host) +
                              "/adfs\", error=\"invalid_token\", error_description=\"The "
                              "authentication failed because of missing 'Authorization' header.\"");
  return response;
}

std::variant<Caller, ApiResponse> Authenticate(const ArmContext& c, const ApiRequest& request) {
  if (!request.secure) {
    return ArmError(ErrorKind::kForbidden, "HttpsRequired",
                    "Resource Manager is served over HTTPS only.");
  }
  std::string token = BearerToken(request);
  if (token.empty()) {
    return Unauthenticated(request, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is missing.");
  }
  if (c.admin_token != nullptr && c.admin_token->Verify(token)) {
    return Caller{true, "admin", ""};
  }
  auto claims = c.tokens.Verify(token, auth::AudiencesForHost(request.host));
  if (!claims.ok()) {
    return Unauthenticated(request, "InvalidAuthenticationToken",
                           "The access token is invalid: " + claims.status().message());
  }
  return Caller{false, AsciiLower(claims->object_id), claims->app_id};
}

// ---- the request

class ArmHandler {
 public:
  ArmHandler(const ArmContext& context, const ApiRequest& request, const RequestTarget& target,
             Caller caller)
      : c_(context),
        request_(request),
        target_(target),
        seg_(target.segments),
        caller_(std::move(caller)) {
    for (const auto& s : seg_) lower_.push_back(AsciiLower(s));
  }

  ApiResponse Handle() {
    if (!IsGuid(seg_[1]) || AsciiLower(seg_[1]) != AsciiLower(c_.tokens.tenant_id())) {
      return ArmError(ErrorKind::kNotFound, "SubscriptionNotFound",
                      "The subscription '" + seg_[1].substr(0, 64) + "' could not be found.");
    }
    if (Status version = CheckApiVersion(); !version.ok()) return ErrorResponse(version);
    if (request_.body.size() > kMaxArmBody) {
      return ArmError(ErrorKind::kTooLarge, "RequestEntityTooLarge",
                      "The request content is too large.");
    }
    const size_t n = seg_.size();
    if (n == 2) return Method("GET") ? Subscription() : MethodNotAllowed(request_.method);
    const std::string& kind = lower_[2];
    if (kind == "resourcegroups") return ResourceGroupPath();
    if (kind == "providers" && n >= 4) {
      if (lower_[3] == "microsoft.keyvault") return KeyVaultProviderPath();
      if (lower_[3] == "microsoft.authorization") return Authorization("/", 4);
      if (lower_[3] == "microsoft.resources" && n == 6 && lower_[4] == "operationstatuses") {
        return OperationStatus(seg_[5], /*async_status=*/true);
      }
    }
    if (kind == "resources" && n == 3) {
      return Method("GET") ? Resources(std::nullopt) : MethodNotAllowed(request_.method);
    }
    if (kind == "operationresults" && n == 4) return OperationStatus(seg_[3], false);
    return NoSuchResourceType();
  }

 private:
  bool Method(std::string_view m) const { return request_.method == m; }
  const std::string& subscription() const { return c_.tokens.tenant_id(); }
  std::string SubscriptionId() const { return "/subscriptions/" + subscription(); }

  // Microsoft.Resources' own routes (groups, the resources query, operation results): az's
  // generic resource client still sends api-versions from 2015 for some of them.
  bool IsResourcesProviderRoute() const {
    const size_t n = seg_.size();
    if (n <= 2) return true;
    const std::string& kind = lower_[2];
    return kind == "resources" || kind == "operationresults" ||
           (kind == "resourcegroups" && (n <= 4 || (n == 5 && lower_[4] == "resources"))) ||
           (kind == "providers" && n >= 4 && lower_[3] == "microsoft.resources");
  }

  Status CheckApiVersion() const {
    auto it = target_.query.find("api-version");
    if (it == target_.query.end() || it->second.empty()) {
      return Status(ErrorKind::kBadRequest, "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all "
                    "requests.");
    }
    if (!IsSupportedArmApiVersion(it->second) &&
        !(IsResourcesProviderRoute() && IsServedApiVersion(it->second, "2015-01-01"))) {
      return Status(ErrorKind::kBadRequest, "NoRegisteredProviderFound",
                    "No registered resource provider found for API version '" +
                        it->second.substr(0, 32) + "'. The supported api-versions are '" +
                        std::string(kOldestApiVersion) + "' through '" +
                        std::string(kNewestApiVersion) + "'.");
    }
    return Status::Ok();
  }

  // ---- authorization: a management role at the server, the group or the vault

  bool Allowed(std::string_view group, std::string_view vault) const {
    if (caller_.admin) return true;
    auto assignments = c_.vaults.ListRoleAssignments(std::nullopt);
    if (!assignments.ok()) return false;
    const std::string group_scope = "/resourcegroups/" + AsciiLower(group);
    const std::string vault_scope = "/vaults/" + AsciiLower(vault);
    for (const auto& a : *assignments) {
      if (AsciiLower(a.principal_id) != caller_.object_id) continue;
      const std::string role = AsciiLower(a.role);
      if (std::find(std::begin(kManagementRoles), std::end(kManagementRoles), role) ==
          std::end(kManagementRoles)) {
        continue;
      }
      if (a.scope == "/" || (!group.empty() && a.scope == group_scope) ||
          (!vault.empty() && a.scope == vault_scope)) {
        return true;
      }
    }
    return false;
  }

  ApiResponse Forbidden(std::string_view action, std::string_view scope) const {
    return ArmError(ErrorKind::kForbidden, "AuthorizationFailed",
                    "The client '" + caller_.object_id + "' with object id '" + caller_.object_id +
                        "' does not have authorization to perform action '" + std::string(action) +
                        "' over scope '" + std::string(scope) +
                        "' or the scope is invalid. If access was recently granted, please "
                        "refresh your credentials.");
  }

  // ---- subscription

  ApiResponse Subscription() {
    json::object body;
    body["id"] = SubscriptionId();
    body["authorizationSource"] = "RoleBased";
    body["managedByTenants"] = json::array();
    body["subscriptionId"] = subscription();
    body["tenantId"] = subscription();
    body["displayName"] = "Coffre";
    body["state"] = "Enabled";
    body["subscriptionPolicies"] = json::object{{"locationPlacementId", "Public_2014-09-01"},
                                                {"quotaId", "Coffre"},
                                                {"spendingLimit", "Off"}};
    return Json(200, body);
  }

  // ---- resource groups

  std::string GroupId(std::string_view name) const {
    return SubscriptionId() + "/resourceGroups/" + std::string(name);
  }

  json::object GroupJson(const service::ResourceGroup& g) const {
    return json::object{{"id", GroupId(g.name)},
                        {"name", g.name},
                        {"type", "Microsoft.Resources/resourceGroups"},
                        {"location", g.location},
                        {"tags", TagsJson(g.tags)},
                        {"properties", json::object{{"provisioningState", "Succeeded"}}}};
  }

  ApiResponse ResourceGroupPath() {
    const size_t n = seg_.size();
    if (n == 3) {
      if (!Method("GET")) return MethodNotAllowed(request_.method);
      auto groups = c_.groups.List();
      if (!groups.ok()) return FromStatus(groups.status());
      json::array value;
      for (const auto& g : *groups) {
        if (Allowed(g.name, {})) value.push_back(GroupJson(g));
      }
      return Json(200, json::object{{"value", std::move(value)}});
    }
    const std::string& group = seg_[3];
    if (n == 4) return ResourceGroup(group);
    if (n == 5 && lower_[4] == "resources") {
      return Method("GET") ? Resources(group) : MethodNotAllowed(request_.method);
    }
    if (n >= 6 && lower_[4] == "providers" && lower_[5] == "microsoft.authorization") {
      return Authorization("/resourcegroups/" + AsciiLower(group), 6);
    }
    if (n == 7 && lower_[4] == "providers" && lower_[5] == "microsoft.keyvault" &&
        lower_[6] == "managedhsms") {
      if (!Method("GET")) return MethodNotAllowed(request_.method);
      if (auto g = c_.groups.Get(group); !g.ok()) return FromStatus(g.status());
      return Json(200, json::object{{"value", json::array()}});
    }
    if (n >= 7 && lower_[4] == "providers" && lower_[5] == "microsoft.keyvault" &&
        lower_[6] == "vaults") {
      if (n == 7) return VaultsInGroup(group);
      const std::string& vault = seg_[7];
      if (n == 8) return Vault(group, vault);
      if (n == 10 && lower_[8] == "accesspolicies") {
        return AccessPolicies(group, vault, lower_[9]);
      }
      if (n >= 10 && lower_[8] == "providers" && lower_[9] == "microsoft.authorization") {
        return VaultAuthorization(group, vault);
      }
    }
    return NoSuchResourceType();
  }

  ApiResponse ResourceGroup(const std::string& name) {
    const std::string scope = GroupId(name);
    if (Method("GET") || Method("HEAD")) {
      if (!Allowed(name, {}))
        return Forbidden("Microsoft.Resources/subscriptions/resourcegroups/read", scope);
      auto group = c_.groups.Get(name);
      if (Method("HEAD")) return Empty(group.ok() ? 204 : 404);
      if (!group.ok()) return FromStatus(group.status());
      return Json(200, GroupJson(*group));
    }
    if (Method("PUT") || Method("PATCH")) {
      if (!Allowed(name, {}))
        return Forbidden("Microsoft.Resources/subscriptions/resourcegroups/write", scope);
      auto body = ParseJsonObject(request_.body);
      if (!body.ok())
        return ArmError(ErrorKind::kBadRequest, "InvalidRequestContent", body.status().message());
      auto tags = ParseTags(*body);
      if (!tags.ok()) return FromStatus(tags.status());
      std::string location;
      if (auto it = body->find("location"); it != body->end() && it->value().is_string()) {
        location = std::string(it->value().get_string());
      }
      if (Method("PATCH")) {
        auto existing = c_.groups.Get(name);
        if (!existing.ok()) return FromStatus(existing.status());
        if (location.empty()) location = existing->location;
        if (!*tags) tags = std::optional<store::Tags>(existing->tags);
      }
      auto put = c_.groups.Put(name, location, tags->value_or(store::Tags{}));
      if (!put.ok()) return FromStatus(put.status());
      return Json(put->created ? 201 : 200, GroupJson(put->group));
    }
    if (Method("DELETE")) {
      if (!Allowed(name, {}))
        return Forbidden("Microsoft.Resources/subscriptions/resourcegroups/delete", scope);
      if (auto group = c_.groups.Get(name); !group.ok()) {
        if (group.status().kind() == ErrorKind::kNotFound) return Empty(204);
        return FromStatus(group.status());
      }
      // Done before answering; the answer still has ARM's long-running shape, and polling it
      // reports the outcome.
      Status deleted = c_.groups.Delete(name);
      if (!deleted.ok() && deleted.kind() != ErrorKind::kConflict) return FromStatus(deleted);
      const std::string id = c_.operations.Record(deleted);
      const std::string base = "https://" + AsciiLower(request_.host) + SubscriptionId();
      const std::string version = "?api-version=" + QueryValue(target_, "api-version");
      ApiResponse response = Empty(202);
      response.headers.emplace_back("Location", base + "/operationresults/" + id + version);
      response.headers.emplace_back(
          "Azure-AsyncOperation",
          base + "/providers/Microsoft.Resources/operationStatuses/" + id + version);
      response.headers.emplace_back("Retry-After", "0");
      return response;
    }
    return MethodNotAllowed(request_.method);
  }

  ApiResponse OperationStatus(const std::string& id, bool async_status) {
    if (!Method("GET")) return MethodNotAllowed(request_.method);
    std::optional<Status> outcome = c_.operations.Find(id);
    if (!outcome) {
      return ArmError(ErrorKind::kNotFound, "OperationNotFound",
                      "The operation '" + id.substr(0, 64) + "' could not be found.");
    }
    if (!async_status) {
      if (outcome->ok()) return Empty(200);
      return FromStatus(*outcome);
    }
    json::object body{{"id", id}, {"status", outcome->ok() ? "Succeeded" : "Failed"}};
    if (!outcome->ok()) {
      body["error"] = json::object{{"code", outcome->code()}, {"message", outcome->message()}};
    }
    return Json(200, body);
  }

  // ---- vaults

  std::string VaultId(std::string_view group, std::string_view name) const {
    return GroupId(group) + "/providers/Microsoft.KeyVault/vaults/" + std::string(name);
  }

  json::object PolicyJson(const service::AccessPolicy& p) const {
    json::object o{{"tenantId", subscription()},
                   {"objectId", p.object_id},
                   {"permissions", json::object{{"keys", Strings(p.keys)},
                                                {"secrets", Strings(p.secrets)},
                                                {"certificates", Strings(p.certificates)},
                                                {"storage", json::array()}}}};
    if (!p.application_id.empty()) o["applicationId"] = p.application_id;
    return o;
  }

  static json::array Strings(const std::vector<std::string>& values) {
    json::array out;
    for (const auto& v : values) out.emplace_back(AsciiLower(v));
    return out;
  }

  Result<json::object> VaultJson(const service::Vault& v) const {
    json::array policies;
    if (!v.deleted_date) {
      COFFRE_ASSIGN_OR_RETURN(auto stored, c_.vaults.ListAccessPolicies(v.name));
      for (const auto& p : stored) policies.push_back(PolicyJson(p));
    }
    json::object properties;
    properties["sku"] = json::object{{"family", "A"}, {"name", v.sku}};
    properties["tenantId"] = subscription();
    properties["accessPolicies"] = std::move(policies);
    properties["enabledForDeployment"] = false;
    properties["enabledForDiskEncryption"] = false;
    properties["enabledForTemplateDeployment"] = false;
    properties["enableSoftDelete"] = true;
    properties["softDeleteRetentionInDays"] = v.retention_days;
    properties["enableRbacAuthorization"] = v.rbac_authorization;
    if (v.purge_protection) properties["enablePurgeProtection"] = true;
    properties["vaultUri"] = VaultUri(v.name, request_.host);
    properties["provisioningState"] = "Succeeded";
    properties["publicNetworkAccess"] = "Enabled";
    return json::object{{"id", VaultId(v.resource_group, v.name)},
                        {"name", v.name},
                        {"type", kVaultType},
                        {"location", v.location},
                        {"tags", TagsJson(v.tags)},
                        {"properties", std::move(properties)}};
  }

  ApiResponse VaultResponse(int status, const service::Vault& v) const {
    auto body = VaultJson(v);
    if (!body.ok()) return FromStatus(body.status());
    return Json(status, *body);
  }

  ApiResponse VaultsInGroup(const std::string& group) {
    if (!Method("GET")) return MethodNotAllowed(request_.method);
    if (!Allowed(group, {})) {
      return Forbidden("Microsoft.KeyVault/vaults/read", GroupId(group));
    }
    auto vaults = c_.groups.VaultsIn(group);
    if (!vaults.ok()) return FromStatus(vaults.status());
    json::array value;
    for (const auto& v : *vaults) {
      auto j = VaultJson(v);
      if (!j.ok()) return FromStatus(j.status());
      value.push_back(std::move(*j));
    }
    return Json(200, json::object{{"value", std::move(value)}});
  }

  ApiResponse VaultNotFound(std::string_view group, std::string_view name) const {
    return ArmError(ErrorKind::kNotFound, "ResourceNotFound",
                    "The Resource 'Microsoft.KeyVault/vaults/" + std::string(name.substr(0, 64)) +
                        "' under resource group '" + std::string(group.substr(0, 90)) +
                        "' was not found.");
  }

  // The vault `name` in `group`: the group must exist (ResourceGroupNotFound), the vault must be
  // filed in it (ResourceNotFound).
  Result<service::Vault> VaultInGroup(std::string_view group, std::string_view name) const {
    COFFRE_RETURN_IF_ERROR(c_.groups.Get(group).status());
    auto vault = c_.vaults.GetVault(name);
    if ((!vault.ok() && vault.status().kind() == ErrorKind::kNotFound) ||
        (vault.ok() && AsciiLower(vault->resource_group) != AsciiLower(group))) {
      return Status(ErrorKind::kNotFound, "ResourceNotFound",
                    "The Resource 'Microsoft.KeyVault/vaults/" + std::string(name.substr(0, 64)) +
                        "' under resource group '" + std::string(group.substr(0, 90)) +
                        "' was not found.");
    }
    return vault;
  }

  ApiResponse Vault(const std::string& group, const std::string& name) {
    const std::string scope = VaultId(group, name);
    if (Method("GET")) {
      if (!Allowed(group, name)) return Forbidden("Microsoft.KeyVault/vaults/read", scope);
      auto vault = VaultInGroup(group, name);
      if (!vault.ok()) return FromStatus(vault.status());
      return VaultResponse(200, *vault);
    }
    if (Method("PUT")) {
      if (!Allowed(group, {})) return Forbidden("Microsoft.KeyVault/vaults/write", scope);
      return PutVault(group, name);
    }
    if (Method("PATCH")) {
      if (!Allowed(group, name)) return Forbidden("Microsoft.KeyVault/vaults/write", scope);
      return PatchVault(group, name);
    }
    if (Method("DELETE")) {
      if (!Allowed(group, name)) return Forbidden("Microsoft.KeyVault/vaults/delete", scope);
      auto vault = VaultInGroup(group, name);
      if (!vault.ok()) {
        // Deleting what is not there succeeds with 204, as on ARM (the group must exist).
        if (vault.status().code() == "ResourceNotFound") return Empty(204);
        return FromStatus(vault.status());
      }
      auto deleted = c_.vaults.SoftDeleteVault(name);
      if (!deleted.ok()) {
        if (deleted.status().kind() == ErrorKind::kNotFound) return Empty(204);
        return FromStatus(deleted.status());
      }
      return Empty(200);
    }
    return MethodNotAllowed(request_.method);
  }

  // The settings and access policies of a vault body. `for_create`: what a create requires.
  struct VaultBody {
    service::VaultSettings settings;
    std::optional<std::vector<service::AccessPolicyChange>> policies;
  };

  Result<VaultBody> ParseVaultBody(const std::string& name, bool for_create) const {
    auto body = ParseJsonObject(request_.body);
    if (!body.ok()) {
      return Status(ErrorKind::kBadRequest, "InvalidRequestContent", body.status().message());
    }
    VaultBody out;
    COFFRE_ASSIGN_OR_RETURN(out.settings.tags, ParseTags(*body));
    if (auto it = body->find("location"); it != body->end() && !it->value().is_null()) {
      if (!it->value().is_string() || it->value().get_string().empty() ||
          it->value().get_string().size() > 64) {
        return Status(ErrorKind::kBadRequest, "LocationRequired",
                      "The location property must be a location name.");
      }
      out.settings.location = AsciiLower(std::string(it->value().get_string()));
    } else if (for_create) {
      return Status(ErrorKind::kBadRequest, "LocationRequired",
                    "The location property is required for this definition.");
    }
    const json::object empty;
    const json::object* properties = &empty;
    if (auto it = body->find("properties"); it != body->end() && it->value().is_object()) {
      properties = &it->value().get_object();
    } else if (for_create) {
      return Status(ErrorKind::kBadRequest, "BadRequest",
                    "The properties of vault '" + name + "' are required.");
    }
    const json::object& p = *properties;
    if (auto it = p.find("tenantId"); it != p.end() && !it->value().is_null()) {
      if (!it->value().is_string() || !IsGuid(it->value().get_string()) ||
          AsciiLower(std::string(it->value().get_string())) != AsciiLower(subscription())) {
        return Status(ErrorKind::kBadRequest, "BadRequest",
                      "The tenantId must be this server's tenant, " + subscription() + ".");
      }
    } else if (for_create) {
      return Status(ErrorKind::kBadRequest, "BadRequest", "The property tenantId is required.");
    }
    if (auto it = p.find("sku"); it != p.end() && !it->value().is_null()) {
      const json::value* sku_name =
          it->value().is_object() ? it->value().get_object().if_contains("name") : nullptr;
      if (sku_name == nullptr || !sku_name->is_string()) {
        return Status(ErrorKind::kBadRequest, "BadRequest",
                      "The sku must name standard or premium.");
      }
      out.settings.sku = AsciiLower(std::string(sku_name->get_string()));
    } else if (for_create) {
      return Status(ErrorKind::kBadRequest, "BadRequest", "The property sku is required.");
    }
    auto boolean = [&](std::string_view key) -> Result<std::optional<bool>> {
      auto it = p.find(key);
      if (it == p.end() || it->value().is_null()) return std::optional<bool>{};
      if (!it->value().is_bool()) {
        return Status(ErrorKind::kBadRequest, "BadRequest",
                      "The property " + std::string(key) + " must be true or false.");
      }
      return std::optional<bool>{it->value().get_bool()};
    };
    COFFRE_ASSIGN_OR_RETURN(out.settings.rbac_authorization, boolean("enableRbacAuthorization"));
    COFFRE_ASSIGN_OR_RETURN(out.settings.purge_protection, boolean("enablePurgeProtection"));
    COFFRE_ASSIGN_OR_RETURN(auto soft_delete, boolean("enableSoftDelete"));
    if (soft_delete && !*soft_delete) {
      return Status(
          ErrorKind::kBadRequest, "BadRequest",
          "Soft delete is always on for Coffre vaults; enableSoftDelete cannot be false.");
    }
    if (auto it = p.find("softDeleteRetentionInDays"); it != p.end() && !it->value().is_null()) {
      if (!it->value().is_int64()) {
        return Status(ErrorKind::kBadRequest, "BadRequest",
                      "softDeleteRetentionInDays must be an integer from 7 to 90.");
      }
      out.settings.retention_days = it->value().get_int64();
    }
    if (auto it = p.find("accessPolicies"); it != p.end() && !it->value().is_null()) {
      COFFRE_ASSIGN_OR_RETURN(out.policies, ParsePolicies(it->value(), name));
    }
    return out;
  }

  // A list of ARM access-policy entries.
  Result<std::vector<service::AccessPolicyChange>> ParsePolicies(const json::value& value,
                                                                 const std::string& vault) const {
    if (!value.is_array() || value.get_array().size() > kMaxAccessPolicies) {
      return Status(ErrorKind::kBadRequest, "BadRequest",
                    "accessPolicies must be a list of at most 1024 entries.");
    }
    std::vector<service::AccessPolicyChange> out;
    for (const json::value& entry : value.get_array()) {
      const json::object* e = entry.if_object();
      const json::value* object_id = e ? e->if_contains("objectId") : nullptr;
      if (object_id == nullptr || !object_id->is_string() || !IsGuid(object_id->get_string())) {
        return Status(ErrorKind::kBadRequest, "BadRequest",
                      "Every access policy needs an objectId (a GUID).");
      }
      service::AccessPolicyChange change;
      change.vault = vault;
      change.object_id = AsciiLower(std::string(object_id->get_string()));
      if (const json::value* app = e->if_contains("applicationId"); app && !app->is_null()) {
        if (!app->is_string() || !IsGuid(app->get_string())) {
          return Status(ErrorKind::kBadRequest, "BadRequest",
                        "An access policy's applicationId must be a GUID.");
        }
        change.application_id = AsciiLower(std::string(app->get_string()));
      }
      const json::value* permissions = e->if_contains("permissions");
      if (permissions == nullptr || !permissions->is_object()) {
        return Status(ErrorKind::kBadRequest, "BadRequest",
                      "Every access policy needs its permissions.");
      }
      const json::object& perms = permissions->get_object();
      COFFRE_ASSIGN_OR_RETURN(change.keys,
                              PermissionList(perms, "keys", auth::PermissionKind::kKeys));
      COFFRE_ASSIGN_OR_RETURN(change.secrets,
                              PermissionList(perms, "secrets", auth::PermissionKind::kSecrets));
      COFFRE_ASSIGN_OR_RETURN(
          change.certificates,
          PermissionList(perms, "certificates", auth::PermissionKind::kCertificates));
      out.push_back(std::move(change));
    }
    return out;
  }

  static Result<std::optional<std::vector<std::string>>> PermissionList(
      const json::object& permissions, std::string_view kind_name, auth::PermissionKind kind) {
    auto it = permissions.find(kind_name);
    if (it == permissions.end() || it->value().is_null()) {
      return std::optional<std::vector<std::string>>{std::vector<std::string>{}};
    }
    if (!it->value().is_array()) {
      return Status(ErrorKind::kBadRequest, "BadRequest",
                    "permissions." + std::string(kind_name) + " must be a list.");
    }
    std::vector<std::string> out;
    for (const auto& v : it->value().get_array()) {
      if (!v.is_string()) {
        return Status(ErrorKind::kBadRequest, "BadRequest", "Permission names are strings.");
      }
      std::string name(v.get_string());
      if (AsciiLower(name) == "all") {
        out = auth::AllPermissions(kind);
        break;
      }
      auto canonical = auth::CanonicalPermission(kind, name);
      if (!canonical) {
        return Status(
            ErrorKind::kBadRequest, "BadRequest",
            "Invalid " + std::string(kind_name) + " permission: '" + name.substr(0, 64) + "'.");
      }
      if (std::find(out.begin(), out.end(), *canonical) == out.end()) out.push_back(*canonical);
    }
    return std::optional<std::vector<std::string>>{std::move(out)};
  }

  // Makes the vault's access policies exactly `policies`.
  Status ReplacePolicies(const std::string& vault,
                         const std::vector<service::AccessPolicyChange>& policies) {
    COFFRE_ASSIGN_OR_RETURN(auto stored, c_.vaults.ListAccessPolicies(vault));
    for (const auto& p : stored) {
      const bool kept = std::any_of(policies.begin(), policies.end(), [&](const auto& c) {
        return c.object_id == p.object_id && c.application_id == p.application_id;
      });
      if (!kept) {
        Status deleted = c_.vaults.DeleteAccessPolicy(vault, p.object_id, p.application_id);
        if (!deleted.ok() && deleted.kind() != ErrorKind::kNotFound) return deleted;
      }
    }
    for (const auto& change : policies) {
      COFFRE_RETURN_IF_ERROR(c_.vaults.SetAccessPolicy(change).status());
    }
    return Status::Ok();
  }

  ApiResponse PutVault(const std::string& group, const std::string& name) {
    if (!service::IsValidVaultName(AsciiLower(name))) {
      return ArmError(ErrorKind::kBadRequest, "VaultNameNotValid",
                      "The vault name '" + name.substr(0, 64) +
                          "' is invalid. A vault's name must be between 3-24 alphanumeric "
                          "characters. The name must begin with a letter, end with a letter or "
                          "digit, and not contain consecutive hyphens.");
    }
    if (auto g = c_.groups.Get(group); !g.ok()) return FromStatus(g.status());
    auto body = ParseVaultBody(name, /*for_create=*/true);
    if (!body.ok()) return FromStatus(body.status());
    body->settings.resource_group = c_.groups.Get(group)->name;

    auto existing = c_.vaults.GetVault(name);
    if (existing.ok()) {
      if (AsciiLower(existing->resource_group) != AsciiLower(group)) return NameTaken(name);
      auto updated = c_.vaults.UpdateVault(name, body->settings);
      if (!updated.ok()) return FromStatus(updated.status());
      if (body->policies) {
        if (Status replaced = ReplacePolicies(updated->name, *body->policies); !replaced.ok()) {
          return FromStatus(replaced);
        }
      }
      return VaultResponse(200, *updated);
    }
    if (existing.status().kind() != ErrorKind::kNotFound) return FromStatus(existing.status());
    if (c_.vaults.GetDeletedVault(name).ok()) {
      return ArmError(ErrorKind::kConflict, "ConflictError",
                      "A vault with the same name already exists in deleted state. You need to "
                      "either recover or purge existing key vault.");
    }
    auto created = c_.vaults.CreateVault(name, body->settings);
    if (!created.ok()) {
      if (created.status().kind() == ErrorKind::kConflict) return NameTaken(name);
      return FromStatus(created.status());
    }
    if (body->policies) {
      for (const auto& change : *body->policies) {
        if (Status set = c_.vaults.SetAccessPolicy(change).status(); !set.ok()) {
          return FromStatus(set);
        }
      }
    }
    return VaultResponse(201, *created);
  }

  ApiResponse NameTaken(const std::string& name) const {
    return ArmError(ErrorKind::kConflict, "VaultAlreadyExists",
                    "The vault name '" + AsciiLower(name) +
                        "' is already in use. Vault names are globally unique so it is possible "
                        "that the name is already taken.");
  }

  ApiResponse PatchVault(const std::string& group, const std::string& name) {
    auto vault = VaultInGroup(group, name);
    if (!vault.ok()) return FromStatus(vault.status());
    auto body = ParseVaultBody(name, /*for_create=*/false);
    if (!body.ok()) return FromStatus(body.status());
    auto updated = c_.vaults.UpdateVault(name, body->settings);
    if (!updated.ok()) return FromStatus(updated.status());
    if (body->policies) {
      if (Status replaced = ReplacePolicies(updated->name, *body->policies); !replaced.ok()) {
        return FromStatus(replaced);
      }
    }
    return VaultResponse(200, *updated);
  }

  // PUT .../accessPolicies/{add|replace|remove} {"properties":{"accessPolicies":[...]}}
  ApiResponse AccessPolicies(const std::string& group, const std::string& name,
                             const std::string& kind) {
    const std::string scope = VaultId(group, name) + "/accessPolicies/" + kind;
    if (kind != "add" && kind != "replace" && kind != "remove") {
      return ArmError(ErrorKind::kBadRequest, "BadRequest",
                      "The access policy operation must be add, replace or remove.");
    }
    if (!Method("PUT")) return MethodNotAllowed(request_.method);
    if (!Allowed(group, name))
      return Forbidden("Microsoft.KeyVault/vaults/accessPolicies/write", scope);
    auto vault = VaultInGroup(group, name);
    if (!vault.ok()) return FromStatus(vault.status());
    auto body = ParseJsonObject(request_.body);
    if (!body.ok()) {
      return ArmError(ErrorKind::kBadRequest, "InvalidRequestContent", body.status().message());
    }
    const json::value* properties = body->if_contains("properties");
    const json::value* list = properties && properties->is_object()
                                  ? properties->get_object().if_contains("accessPolicies")
                                  : nullptr;
    if (list == nullptr) {
      return ArmError(ErrorKind::kBadRequest, "BadRequest",
                      "properties.accessPolicies is required.");
    }
    auto changes = ParsePolicies(*list, vault->name);
    if (!changes.ok()) return FromStatus(changes.status());
    auto stored = c_.vaults.ListAccessPolicies(vault->name);
    if (!stored.ok()) return FromStatus(stored.status());
    for (auto& change : *changes) {
      const service::AccessPolicy* current = nullptr;
      for (const auto& p : *stored) {
        if (p.object_id == change.object_id && p.application_id == change.application_id) {
          current = &p;
        }
      }
      if (kind != "replace" && current != nullptr) {
        auto merge = [&](std::optional<std::vector<std::string>>& given,
                         const std::vector<std::string>& had) {
          std::vector<std::string> result;
          if (kind == "add") {
            result = had;
            for (const auto& x : *given) {
              if (std::find(result.begin(), result.end(), x) == result.end()) result.push_back(x);
            }
          } else {
            for (const auto& x : had) {
              if (std::find(given->begin(), given->end(), x) == given->end()) result.push_back(x);
            }
          }
          given = std::move(result);
        };
        merge(change.keys, current->keys);
        merge(change.secrets, current->secrets);
        merge(change.certificates, current->certificates);
      }
      if (kind == "remove") {
        if (current == nullptr) continue;
        if (change.keys->empty() && change.secrets->empty() && change.certificates->empty()) {
          Status deleted =
              c_.vaults.DeleteAccessPolicy(vault->name, change.object_id, change.application_id);
          if (!deleted.ok() && deleted.kind() != ErrorKind::kNotFound) return FromStatus(deleted);
          continue;
        }
      }
      if (Status set = c_.vaults.SetAccessPolicy(change).status(); !set.ok()) {
        return FromStatus(set);
      }
    }
    json::object out{{"id", scope},
                     {"name", kind},
                     {"type", "Microsoft.KeyVault/vaults/accessPolicies"},
                     {"properties", json::object{{"accessPolicies", *list}}}};
    return Json(200, out);
  }

  // ---- Microsoft.KeyVault at the subscription

  std::string DeletedVaultId(const service::Vault& v) const {
    return SubscriptionId() + "/providers/Microsoft.KeyVault/locations/" + v.location +
           "/deletedVaults/" + v.name;
  }

  json::object DeletedVaultJson(const service::Vault& v) const {
    json::object properties{{"vaultId", VaultId(v.resource_group, v.name)},
                            {"location", v.location},
                            {"deletionDate", FormatUtcTime(v.deleted_date.value_or(0))},
                            {"scheduledPurgeDate", FormatUtcTime(v.scheduled_purge_date.value_or(0))},
                            {"tags", TagsJson(v.tags)},
                            {"purgeProtectionEnabled", v.purge_protection}};
    return json::object{{"id", DeletedVaultId(v)},
                        {"name", v.name},
                        {"type", "Microsoft.KeyVault/deletedVaults"},
                        {"properties", std::move(properties)}};
  }

  ApiResponse KeyVaultProviderPath() {
    const size_t n = seg_.size();
    // Managed HSMs are not served: their lists (which az keyvault list and list-deleted read
    // beside the vaults') are empty.
    if (n == 5 && (lower_[4] == "managedhsms" || lower_[4] == "deletedmanagedhsms")) {
      if (!Method("GET")) return MethodNotAllowed(request_.method);
      return Json(200, json::object{{"value", json::array()}});
    }
    if (n == 5 && lower_[4] == "vaults") {
      if (!Method("GET")) return MethodNotAllowed(request_.method);
      auto vaults = c_.vaults.ListVaults();
      if (!vaults.ok()) return FromStatus(vaults.status());
      json::array value;
      for (const auto& v : *vaults) {
        if (v.resource_group.empty() || !Allowed(v.resource_group, v.name)) continue;
        auto j = VaultJson(v);
        if (!j.ok()) return FromStatus(j.status());
        value.push_back(std::move(*j));
      }
      return Json(200, json::object{{"value", std::move(value)}});
    }
    if (n == 5 && lower_[4] == "checknameavailability") {
      if (!Method("POST")) return MethodNotAllowed(request_.method);
      return CheckNameAvailability();
    }
    if (n == 5 && lower_[4] == "deletedvaults") {
      if (!Method("GET")) return MethodNotAllowed(request_.method);
      if (!Allowed({}, {})) {
        return Forbidden("Microsoft.KeyVault/deletedVaults/read", SubscriptionId());
      }
      auto vaults = c_.vaults.ListDeletedVaults();
      if (!vaults.ok()) return FromStatus(vaults.status());
      json::array value;
      for (const auto& v : *vaults) value.push_back(DeletedVaultJson(v));
      return Json(200, json::object{{"value", std::move(value)}});
    }
    if ((n == 8 || n == 9) && lower_[4] == "locations" && lower_[6] == "deletedvaults") {
      const std::string& name = seg_[7];
      if (!Allowed({}, {})) {
        return Forbidden("Microsoft.KeyVault/locations/deletedVaults/read", SubscriptionId());
      }
      auto vault = c_.vaults.GetDeletedVault(name);
      if (!vault.ok() || AsciiLower(vault->location) != lower_[5]) {
        if (!vault.ok() && vault.status().kind() != ErrorKind::kNotFound) {
          return FromStatus(vault.status());
        }
        return ArmError(ErrorKind::kNotFound, "ResourceNotFound",
                        "The deleted vault '" + name.substr(0, 64) + "' in location '" +
                            seg_[5].substr(0, 64) + "' was not found.");
      }
      if (n == 8) {
        if (!Method("GET")) return MethodNotAllowed(request_.method);
        return Json(200, DeletedVaultJson(*vault));
      }
      if (lower_[8] != "purge") return NoSuchResourceType();
      if (!Method("POST")) return MethodNotAllowed(request_.method);
      Status purged = c_.vaults.PurgeDeletedVault(vault->name);
      if (!purged.ok()) return FromStatus(purged);
      return Empty(200);
    }
    return NoSuchResourceType();
  }

  ApiResponse CheckNameAvailability() {
    auto body = ParseJsonObject(request_.body);
    if (!body.ok()) {
      return ArmError(ErrorKind::kBadRequest, "InvalidRequestContent", body.status().message());
    }
    const json::value* name = body->if_contains("name");
    const json::value* type = body->if_contains("type");
    if (name == nullptr || !name->is_string() || type == nullptr || !type->is_string()) {
      return ArmError(ErrorKind::kBadRequest, "BadRequest", "The name and type are required.");
    }
    if (AsciiLower(std::string(type->get_string())) != AsciiLower(kVaultType)) {
      return ArmError(ErrorKind::kBadRequest, "BadRequest",
                      "The type must be Microsoft.KeyVault/vaults.");
    }
    const std::string wanted(name->get_string());
    if (!service::IsValidVaultName(AsciiLower(wanted))) {
      return Json(200, json::object{{"nameAvailable", false},
                                    {"reason", "AccountNameInvalid"},
                                    {"message", "The vault name '" + wanted.substr(0, 64) +
                                                    "' is invalid. Vault names are 3-24 "
                                                    "letters, digits and hyphens."}});
    }
    const bool taken = c_.vaults.GetVault(wanted).ok() || c_.vaults.GetDeletedVault(wanted).ok();
    if (taken) {
      return Json(200, json::object{{"nameAvailable", false},
                                    {"reason", "AlreadyExists"},
                                    {"message", "The vault name '" + AsciiLower(wanted) +
                                                    "' is already in use."}});
    }
    return Json(200, json::object{{"nameAvailable", true}});
  }

  // GET /subscriptions/{s}[/resourceGroups/{g}]/resources[?$filter=resourceType eq '...']
  ApiResponse Resources(const std::optional<std::string>& group) {
    const std::string filter = QueryValue(target_, "$filter");
    if (!filter.empty()) {
      // The one filter az sends to find a vault by name: resourceType eq
      // 'Microsoft.KeyVault/vaults'.
      std::string f = AsciiLower(filter);
      const std::string expected = "resourcetype eq '" + AsciiLower(kVaultType) + "'";
      if (f != expected) {
        return ArmError(ErrorKind::kBadRequest, "InvalidFilterInQueryString",
                        "Only $filter=resourceType eq 'Microsoft.KeyVault/vaults' is supported.");
      }
    }
    if (group) {
      if (auto g = c_.groups.Get(*group); !g.ok()) return FromStatus(g.status());
    }
    auto vaults = c_.vaults.ListVaults();
    if (!vaults.ok()) return FromStatus(vaults.status());
    json::array value;
    for (const auto& v : *vaults) {
      if (v.resource_group.empty() || !Allowed(v.resource_group, v.name)) continue;
      if (group && AsciiLower(v.resource_group) != AsciiLower(*group)) continue;
      value.push_back(json::object{{"id", VaultId(v.resource_group, v.name)},
                                   {"name", v.name},
                                   {"type", kVaultType},
                                   {"location", v.location},
                                   {"tags", TagsJson(v.tags)}});
    }
    return Json(200, json::object{{"value", std::move(value)}});
  }

  // ---- Microsoft.Authorization (az role assignment create/list/delete, at a scope)

  ApiResponse VaultAuthorization(const std::string& group, const std::string& vault) {
    auto found = VaultInGroup(group, vault);
    if (!found.ok()) return FromStatus(found.status());
    return Authorization("/vaults/" + found->name, 10);
  }

  std::string ArmScope(std::string_view scope) const {
    if (scope == "/") return SubscriptionId();
    constexpr std::string_view kGroups = "/resourcegroups/";
    if (scope.starts_with(kGroups)) {
      auto g = c_.groups.Get(scope.substr(kGroups.size()));
      return GroupId(g.ok() ? g->name : std::string(scope.substr(kGroups.size())));
    }
    constexpr std::string_view kVaults = "/vaults/";
    if (scope.starts_with(kVaults)) {
      std::string_view rest = scope.substr(kVaults.size());
      std::string_view name = rest.substr(0, rest.find('/'));
      auto v = c_.vaults.GetVault(name);
      std::string id =
          v.ok() && !v->resource_group.empty()
              ? VaultId(v->resource_group, v->name)
              : SubscriptionId() + "/providers/Microsoft.KeyVault/vaults/" + std::string(name);
      return id + std::string(rest.substr(name.size()));
    }
    return SubscriptionId() + std::string(scope);
  }

  std::string RoleDefinitionId(const auth::BuiltInRole& role) const {
    return SubscriptionId() + "/providers/Microsoft.Authorization/roleDefinitions/" +
           std::string(role.id);
  }

  json::object RoleDefinitionJson(const auth::BuiltInRole& role) const {
    json::array data_actions;
    for (auto a : role.data_actions) data_actions.emplace_back(a);
    json::array actions;
    if (role.data_actions.empty()) actions.emplace_back("Microsoft.KeyVault/*");
    return json::object{
        {"id", RoleDefinitionId(role)},
        {"name", role.id},
        {"type", "Microsoft.Authorization/roleDefinitions"},
        {"properties", json::object{{"roleName", role.name},
                                    {"type", "BuiltInRole"},
                                    {"description", role.name},
                                    {"assignableScopes", json::array{"/"}},
                                    {"permissions", json::array{json::object{
                                                        {"actions", actions},
                                                        {"notActions", json::array()},
                                                        {"dataActions", data_actions},
                                                        {"notDataActions", json::array()}}}}}}};
  }

  json::object AssignmentJson(const service::RoleAssignment& a) const {
    const auth::BuiltInRole* role = auth::FindBuiltInRole(a.role);
    const std::string scope = ArmScope(a.scope);
    return json::object{
        {"id", scope + "/providers/Microsoft.Authorization/roleAssignments/" + a.id},
        {"name", a.id},
        {"type", "Microsoft.Authorization/roleAssignments"},
        {"properties",
         json::object{{"roleDefinitionId", role ? RoleDefinitionId(*role) : std::string()},
                      {"principalId", a.principal_id},
                      {"principalType", PrincipalType(a.principal_id)},
                      {"scope", scope},
                      {"createdOn", FormatUtcTime(a.created)}}}};
  }

  std::string PrincipalType(std::string_view object_id) const {
    return c_.vaults.FindUser(object_id).ok() ? "User" : "ServicePrincipal";
  }

  // {scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}] and roleAssignments[/{id}];
  // `at`: the index of the segment after "Microsoft.Authorization".
  ApiResponse Authorization(const std::string& scope, size_t at) {
    const size_t n = seg_.size();
    if (n <= at || n > at + 2) return NoSuchResourceType();
    // The scope's group or vault, for the caller's rights.
    std::string group;
    std::string vault;
    if (scope.starts_with("/resourcegroups/")) group = scope.substr(16);
    if (scope.starts_with("/vaults/")) {
      vault = scope.substr(8);
      auto v = c_.vaults.GetVault(vault);
      if (v.ok()) group = v->resource_group;
    }
    if (lower_[at] == "roledefinitions") {
      if (!Method("GET")) return MethodNotAllowed(request_.method);
      if (n == at + 2) {
        const auth::BuiltInRole* role = auth::FindBuiltInRole(seg_[at + 1]);
        if (role == nullptr) {
          return ArmError(ErrorKind::kNotFound, "RoleDefinitionDoesNotExist",
                          "The specified role definition with ID '" + seg_[at + 1].substr(0, 64) +
                              "' does not exist.");
        }
        return Json(200, RoleDefinitionJson(*role));
      }
      // $filter=roleName eq 'NAME' (what az sends for --role NAME); otherwise all.
      std::string filter = QueryValue(target_, "$filter");
      std::optional<std::string> wanted;
      if (!filter.empty()) {
        constexpr std::string_view kPrefix = "rolename eq '";
        std::string lower = AsciiLower(filter);
        if (!lower.starts_with(kPrefix) || lower.back() != '\'') {
          return ArmError(ErrorKind::kBadRequest, "InvalidFilterInQueryString",
                          "Only $filter=roleName eq 'NAME' is supported.");
        }
        wanted = lower.substr(kPrefix.size(), lower.size() - kPrefix.size() - 1);
      }
      json::array value;
      for (const auto& role : auth::BuiltInRoles()) {
        if (wanted && AsciiLower(std::string(role.name)) != *wanted) continue;
        value.push_back(RoleDefinitionJson(role));
      }
      return Json(200, json::object{{"value", std::move(value)}});
    }
    if (lower_[at] != "roleassignments") return NoSuchResourceType();
    if (n == at + 1) {
      if (!Method("GET")) return MethodNotAllowed(request_.method);
      auto all = c_.vaults.ListRoleAssignments(std::nullopt);
      if (!all.ok()) return FromStatus(all.status());
      // At the scope and above it (what az role assignment list --scope shows); a principal
      // filter if given.
      std::string principal;
      std::string filter = AsciiLower(QueryValue(target_, "$filter"));
      constexpr std::string_view kPrincipal = "principalid eq '";
      if (filter.starts_with(kPrincipal) && filter.back() == '\'') {
        principal = filter.substr(kPrincipal.size(), filter.size() - kPrincipal.size() - 1);
      }
      json::array value;
      for (const auto& a : *all) {
        const bool covers = a.scope == "/" || a.scope == scope ||
                            (!group.empty() && a.scope == "/resourcegroups/" + AsciiLower(group)) ||
                            a.scope.starts_with(scope + "/");
        if (!covers) continue;
        if (!principal.empty() && a.principal_id != principal) continue;
        if (!caller_.admin && !Allowed(group, vault) && a.principal_id != caller_.object_id) {
          continue;
        }
        value.push_back(AssignmentJson(a));
      }
      return Json(200, json::object{{"value", std::move(value)}});
    }
    const std::string& id = seg_[at + 1];
    // Only Owners (and the admin token) grant roles, as on Azure.
    auto may_assign = [&] {
      if (caller_.admin) return true;
      auto all = c_.vaults.ListRoleAssignments(std::nullopt);
      if (!all.ok()) return false;
      return std::any_of(all->begin(), all->end(), [&](const service::RoleAssignment& a) {
        return a.principal_id == caller_.object_id && AsciiLower(a.role) == "owner" &&
               (a.scope == "/" ||
                (!group.empty() && a.scope == "/resourcegroups/" + AsciiLower(group)) ||
                (!vault.empty() && a.scope == "/vaults/" + AsciiLower(vault)));
      });
    };
    if (Method("PUT")) {
      if (!may_assign()) {
        return Forbidden("Microsoft.Authorization/roleAssignments/write", ArmScope(scope));
      }
      if (!IsGuid(id)) {
        return ArmError(ErrorKind::kBadRequest, "InvalidRoleAssignmentId",
                        "The role assignment ID '" + id.substr(0, 64) + "' is not valid.");
      }
      auto body = ParseJsonObject(request_.body);
      if (!body.ok()) {
        return ArmError(ErrorKind::kBadRequest, "InvalidRequestContent", body.status().message());
      }
      const json::value* properties = body->if_contains("properties");
      const json::object* p = properties ? properties->if_object() : nullptr;
      const json::value* definition = p ? p->if_contains("roleDefinitionId") : nullptr;
      const json::value* principal = p ? p->if_contains("principalId") : nullptr;
      if (definition == nullptr || !definition->is_string() || principal == nullptr ||
          !principal->is_string() || !IsGuid(principal->get_string())) {
        return ArmError(ErrorKind::kBadRequest, "InvalidRoleAssignmentRequest",
                        "properties.roleDefinitionId and properties.principalId (a GUID) are "
                        "required.");
      }
      std::string_view definition_id = definition->get_string();
      definition_id = definition_id.substr(definition_id.rfind('/') + 1);
      const auth::BuiltInRole* role = auth::FindBuiltInRole(definition_id);
      if (role == nullptr) {
        return ArmError(ErrorKind::kBadRequest, "RoleDefinitionDoesNotExist",
                        "The specified role definition with ID '" +
                            std::string(definition_id.substr(0, 64)) + "' does not exist.");
      }
      const std::string principal_id = AsciiLower(std::string(principal->get_string()));
      auto existing = c_.vaults.ListRoleAssignments(scope);
      if (existing.ok()) {
        for (const auto& a : *existing) {
          if (a.principal_id == principal_id && AsciiLower(a.role) == AsciiLower(role->name)) {
            return ArmError(ErrorKind::kConflict, "RoleAssignmentExists",
                            "The role assignment already exists.");
          }
        }
      }
      auto added = c_.vaults.AddRoleAssignment(role->name, principal_id, scope);
      if (!added.ok()) return FromStatus(added.status());
      return Json(201, AssignmentJson(*added));
    }
    if (Method("GET") || Method("DELETE")) {
      auto all = c_.vaults.ListRoleAssignments(std::nullopt);
      if (!all.ok()) return FromStatus(all.status());
      auto it = std::find_if(all->begin(), all->end(), [&](const service::RoleAssignment& a) {
        return a.id == AsciiLower(id);
      });
      if (it == all->end()) {
        if (Method("DELETE")) return Empty(204);
        return ArmError(ErrorKind::kNotFound, "RoleAssignmentNotFound",
                        "The role assignment '" + id.substr(0, 64) + "' is not found.");
      }
      if (Method("GET")) return Json(200, AssignmentJson(*it));
      if (!may_assign()) {
        return Forbidden("Microsoft.Authorization/roleAssignments/delete", ArmScope(scope));
      }
      json::object gone = AssignmentJson(*it);
      Status deleted = c_.vaults.DeleteRoleAssignment(it->id);
      if (!deleted.ok()) return FromStatus(deleted);
      return Json(200, gone);
    }
    return MethodNotAllowed(request_.method);
  }

  const ArmContext& c_;
  const ApiRequest& request_;
  const RequestTarget& target_;
  const std::vector<std::string>& seg_;
  std::vector<std::string> lower_;
  Caller caller_;
};

// ---- Graph

ApiResponse GraphError(ErrorKind kind, std::string code, std::string message) {
  return ErrorResponse(Status(kind, std::move(code), std::move(message)));
}

json::object UserJson(const service::User& u) {
  return json::object{{"@odata.type", "#microsoft.graph.user"},
                      {"id", u.object_id},
                      {"userPrincipalName", u.upn},
                      {"displayName", u.display_name},
                      {"mail", u.upn},
                      {"businessPhones", json::array()}};
}

json::object ServicePrincipalJson(const service::Principal& p) {
  return json::object{{"@odata.type", "#microsoft.graph.servicePrincipal"},
                      {"id", p.object_id},
                      {"appId", p.client_id},
                      {"displayName", p.name},
                      {"servicePrincipalType", "Application"},
                      {"servicePrincipalNames", json::array{p.client_id}}};
}

// The quoted value of "PREFIX'VALUE'SUFFIX" (case-insensitive prefix/suffix); nullopt otherwise.
std::optional<std::string> FilterValue(std::string_view filter, std::string_view prefix,
                                       std::string_view suffix) {
  std::string lower = AsciiLower(filter);
  if (!lower.starts_with(prefix) || !lower.ends_with(suffix)) return std::nullopt;
  std::string_view value =
      filter.substr(prefix.size(), filter.size() - prefix.size() - suffix.size());
  if (value.size() < 2 || value.front() != '\'' || value.back() != '\'') return std::nullopt;
  value = value.substr(1, value.size() - 2);
  if (value.find('\'') != std::string_view::npos) return std::nullopt;
  return std::string(value);
}

}  // namespace

std::string ArmOperations::Record(Status outcome) {
  std::string id = crypto::RandomUuid();
  std::lock_guard lock(mutex_);
  done_.emplace_back(id, std::move(outcome));
  while (done_.size() > kMaxKept) done_.pop_front();
  return id;
}

std::optional<Status> ArmOperations::Find(std::string_view id) const {
  std::lock_guard lock(mutex_);
  for (const auto& [key, outcome] : done_) {
    if (key == id) return outcome;
  }
  return std::nullopt;
}

bool IsArmPath(const std::vector<std::string>& segments) {
  return segments.size() >= 2 && AsciiLower(segments[0]) == "subscriptions";
}

bool IsGraphPath(const std::vector<std::string>& segments) {
  return !segments.empty() && segments[0] == "v1.0";
}

namespace {

// IsSupportedArmApiVersion with the floor `oldest` (empty: kOldestApiVersion).
bool IsServedApiVersion(std::string_view version, std::string_view oldest) {
  if (size_t dash = version.find("-preview"); dash != std::string_view::npos) {
    if (dash + 8 != version.size()) return false;
    version = version.substr(0, dash);
  }
  if (version.size() != 10 || version[4] != '-' || version[7] != '-') return false;
  for (size_t i = 0; i < version.size(); ++i) {
    if (i != 4 && i != 7 && !std::isdigit(static_cast<unsigned char>(version[i]))) return false;
  }
  return version >= (oldest.empty() ? kOldestApiVersion : oldest) && version <= kNewestApiVersion;
}

}  // namespace

bool IsSupportedArmApiVersion(std::string_view version) { return IsServedApiVersion(version, {}); }

ApiResponse HandleArmRequest(const ArmContext& context, const ApiRequest& request,
                             const RequestTarget& target) {
  AuditInfo audit;
  std::string path;
  for (const auto& s : target.segments) path += "/" + s;
  audit.operation = ("Arm " + request.method.substr(0, 16) + " " + path).substr(0, 256);
  auto finish = [&audit](ApiResponse response) {
    response.audit = std::move(audit);
    return response;
  };
  auto caller = Authenticate(context, request);
  if (auto* refused = std::get_if<ApiResponse>(&caller)) return finish(std::move(*refused));
  audit.caller_object_id = std::get<Caller>(caller).object_id;
  audit.caller_app_id = std::get<Caller>(caller).app_id;
  ApiResponse response =
      ArmHandler(context, request, target, std::move(std::get<Caller>(caller))).Handle();
  if (request.method == "HEAD") response.body.clear();
  return finish(std::move(response));
}

ApiResponse HandleGraphRequest(const ArmContext& context, const ApiRequest& request,
                               const RequestTarget& target) {
  AuditInfo audit;
  audit.operation = "Graph " + request.method.substr(0, 16) + " /v1.0/" +
                    (target.segments.size() > 1 ? target.segments[1].substr(0, 64) : "");
  auto finish = [&audit](ApiResponse response) {
    response.audit = std::move(audit);
    return response;
  };
  auto caller = Authenticate(context, request);
  if (auto* refused = std::get_if<ApiResponse>(&caller)) return finish(std::move(*refused));
  const Caller& who = std::get<Caller>(caller);
  audit.caller_object_id = who.object_id;
  audit.caller_app_id = who.app_id;
  const auto& seg = target.segments;
  // POST /v1.0/directoryObjects/getByIds {"ids":[...]}: the users and service principals among
  // the ids (what az role assignment list shows names with).
  if (seg.size() == 3 && seg[1] == "directoryObjects" && seg[2] == "getByIds" &&
      request.method == "POST") {
    auto body = ParseJsonObject(request.body);
    const json::value* ids = body.ok() ? body->if_contains("ids") : nullptr;
    if (ids == nullptr || !ids->is_array() || ids->get_array().size() > 1000) {
      return finish(GraphError(ErrorKind::kBadRequest, "Request_BadRequest",
                               "The body must hold \"ids\", a list of at most 1000 ids."));
    }
    auto principals = context.vaults.ListPrincipals();
    if (!principals.ok()) return finish(ErrorResponse(principals.status()));
    json::array value;
    for (const json::value& id : ids->get_array()) {
      if (!id.is_string()) continue;
      const std::string wanted = AsciiLower(std::string(id.get_string()));
      if (auto user = context.vaults.FindUser(wanted); user.ok()) {
        value.push_back(UserJson(*user));
        continue;
      }
      for (const auto& p : *principals) {
        if (AsciiLower(p.object_id) == wanted) value.push_back(ServicePrincipalJson(p));
      }
    }
    return finish(Json(200, json::object{{"value", std::move(value)}}));
  }
  if (request.method != "GET") {
    return finish(GraphError(ErrorKind::kMethodNotAllowed, "Request_BadRequest",
                             "Only lookups are served here."));
  }
  auto filter_it = target.query.find("$filter");
  const std::string filter = filter_it == target.query.end() ? "" : filter_it->second;
  if (seg.size() == 2 && seg[1] == "me") {
    auto user = context.vaults.FindUser(who.object_id);
    if (!user.ok()) {
      // An application signed in: /me is for users, as on Graph.
      return finish(GraphError(ErrorKind::kBadRequest, "BadRequest",
                               "/me request is only valid with delegated authentication flow."));
    }
    return finish(Json(200, UserJson(*user)));
  }
  if (seg.size() == 3 && seg[1] == "users") {
    auto user = context.vaults.FindUser(seg[2]);
    if (!user.ok()) {
      return finish(GraphError(ErrorKind::kNotFound, "Request_ResourceNotFound",
                               "Resource '" + seg[2].substr(0, 256) +
                                   "' does not exist or one of its queried reference-property "
                                   "objects are not present."));
    }
    return finish(Json(200, UserJson(*user)));
  }
  if (seg.size() == 2 && seg[1] == "users") {
    json::array value;
    if (filter.empty()) {
      auto users = context.vaults.ListUsers();
      if (!users.ok()) return finish(ErrorResponse(users.status()));
      for (const auto& u : *users) value.push_back(UserJson(u));
    } else {
      auto upn = FilterValue(filter, "userprincipalname eq ", "");
      if (!upn) {
        return finish(GraphError(ErrorKind::kBadRequest, "Request_UnsupportedQuery",
                                 "Only $filter=userPrincipalName eq 'UPN' is supported."));
      }
      if (auto user = context.vaults.FindUser(*upn); user.ok()) value.push_back(UserJson(*user));
    }
    return finish(Json(200, json::object{{"value", std::move(value)}}));
  }
  if ((seg.size() == 2 || seg.size() == 3) && seg[1] == "servicePrincipals") {
    auto principals = context.vaults.ListPrincipals();
    if (!principals.ok()) return finish(ErrorResponse(principals.status()));
    if (seg.size() == 3) {
      for (const auto& p : *principals) {
        if (AsciiLower(p.object_id) == AsciiLower(seg[2])) {
          return finish(Json(200, ServicePrincipalJson(p)));
        }
      }
      return finish(GraphError(ErrorKind::kNotFound, "Request_ResourceNotFound",
                               "Resource '" + seg[2].substr(0, 64) + "' does not exist."));
    }
    std::optional<std::string> spn;
    std::optional<std::string> app_id;
    if (!filter.empty()) {
      spn = FilterValue(filter, "serviceprincipalnames/any(c:c eq ", ")");
      if (!spn) app_id = FilterValue(filter, "appid eq ", "");
      if (!spn && !app_id) {
        return finish(
            GraphError(ErrorKind::kBadRequest, "Request_UnsupportedQuery",
                       "Only $filter=servicePrincipalNames/any(c:c eq 'NAME') or appId eq 'ID' is "
                       "supported."));
      }
    }
    json::array value;
    for (const auto& p : *principals) {
      const std::string wanted = AsciiLower(spn ? *spn : app_id ? *app_id : "");
      if ((spn || app_id) && AsciiLower(p.client_id) != wanted) continue;
      value.push_back(ServicePrincipalJson(p));
    }
    return finish(Json(200, json::object{{"value", std::move(value)}}));
  }
  return finish(GraphError(ErrorKind::kNotFound, "Request_ResourceNotFound",
                           "The requested Graph resource is not served here."));
}

}  // namespace coffre::http
