#include "http/admin_api.h"

#include <boost/json.hpp>
#include <charconv>

#include "auth/access_control.h"
#include "auth/identity_endpoints.h"
#include "common/strings.h"
#include "http/admin_audit.h"
#include "http/key_json.h"
#include "http/router.h"
#include "http/test_harness.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

ApiResponse Json(int status, const json::value& body) {
  return JsonResponse(status, json::serialize(body));
}

ApiResponse Error(ErrorKind kind, std::string code, std::string message) {
  return ErrorResponse(Status(kind, std::move(code), std::move(message)));
}

ApiResponse NotFound(std::string message) {
  return Error(ErrorKind::kNotFound, "NotFound", std::move(message));
}

ApiResponse NoContentOr(const Status& status) {
  if (!status.ok()) return ErrorResponse(status);
  ApiResponse response;
  response.status = 204;
  return response;
}

ApiResponse MethodNotAllowed() {
  return Error(ErrorKind::kMethodNotAllowed, "MethodNotAllowed",
               "The HTTP method is not supported for this admin resource.");
}

std::string BearerToken(const ApiRequest& request) {
  const std::string* header = request.Header("authorization");
  if (header == nullptr || header->size() < 8 || AsciiLower(header->substr(0, 7)) != "bearer ") {
    return {};
  }
  return header->substr(7);
}

// https://NAME.localhost:PORT when the admin API was reached as localhost:PORT.
std::string VaultUri(std::string_view vault, std::string_view host) {
  std::string h = AsciiLower(host);
  size_t colon = h.rfind(':');
  std::string port = colon != std::string::npos && h.find(']') == std::string::npos
                         ? h.substr(colon)
                         : std::string();
  return "https://" + std::string(vault) + ".localhost" + port;
}

json::object VaultJson(const service::Vault& v, std::string_view host) {
  return json::object{{"name", v.name},
                      {"uri", VaultUri(v.name, host)},
                      {"retentionDays", v.retention_days},
                      {"enablePurgeProtection", v.purge_protection},
                      {"enableRbacAuthorization", v.rbac_authorization},
                      {"created", v.created}};
}

json::array Strings(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

json::object PolicyJson(const service::AccessPolicy& p) {
  json::object o{{"objectId", p.object_id},
                 {"permissions", json::object{{"keys", Strings(p.keys)},
                                              {"secrets", Strings(p.secrets)},
                                              {"certificates", Strings(p.certificates)}}}};
  if (!p.application_id.empty()) o["applicationId"] = p.application_id;
  return o;
}

json::object AssignmentJson(const service::RoleAssignment& a) {
  const auth::BuiltInRole* role = auth::FindBuiltInRole(a.role);
  return json::object{{"id", a.id},
                      {"roleName", a.role},
                      {"roleDefinitionId", role ? std::string(role->id) : std::string()},
                      {"principalId", a.principal_id},
                      {"scope", a.scope},
                      {"created", a.created}};
}

Result<json::object> Body(const ApiRequest& request) {
  if (request.body.empty()) return json::object{};
  return ParseJsonObject(request.body);
}

Result<std::optional<int64_t>> OptionalInteger(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>{};
  if (!it->value().is_int64()) {
    return Status::BadParameter("\"" + std::string(name) + "\" must be an integer.");
  }
  return std::optional<int64_t>{it->value().get_int64()};
}

Result<std::optional<bool>> OptionalBool(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>{};
  if (!it->value().is_bool()) {
    return Status::BadParameter("\"" + std::string(name) + "\" must be true or false.");
  }
  return std::optional<bool>{it->value().get_bool()};
}

Result<std::string> RequiredString(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string() || it->value().get_string().empty()) {
    return Status::BadParameter("\"" + std::string(name) + "\" is required.");
  }
  return std::string(it->value().get_string());
}

// The vault settings of a create or update body.
Result<service::VaultSettings> Settings(const json::object& body) {
  service::VaultSettings settings;
  COFFRE_ASSIGN_OR_RETURN(settings.retention_days, OptionalInteger(body, "retentionDays"));
  COFFRE_ASSIGN_OR_RETURN(settings.purge_protection, OptionalBool(body, "enablePurgeProtection"));
  COFFRE_ASSIGN_OR_RETURN(settings.rbac_authorization,
                          OptionalBool(body, "enableRbacAuthorization"));
  return settings;
}

// Permission lists of a set-policy body, canonicalised; kinds absent from the body are nullopt.
Result<std::optional<std::vector<std::string>>> Permissions(const json::object& permissions,
                                                            std::string_view kind_name,
                                                            auth::PermissionKind kind) {
  auto it = permissions.find(kind_name);
  if (it == permissions.end() || it->value().is_null()) {
    return std::optional<std::vector<std::string>>{};
  }
  if (!it->value().is_array()) {
    return Status::BadParameter("\"permissions." + std::string(kind_name) + "\" must be a list.");
  }
  std::vector<std::string> out;
  for (const auto& v : it->value().get_array()) {
    if (!v.is_string()) return Status::BadParameter("Permission names are strings.");
    std::string name(v.get_string());
    if (AsciiLower(name) == "all") {
      out = auth::AllPermissions(kind);
      break;
    }
    auto canonical = auth::CanonicalPermission(kind, name);
    if (!canonical) {
      return Status::BadParameter("Unknown " + std::string(kind_name) +
                                  " permission: " + name.substr(0, 64));
    }
    if (std::find(out.begin(), out.end(), *canonical) == out.end()) out.push_back(*canonical);
  }
  return std::optional<std::vector<std::string>>{std::move(out)};
}

// Parses an admin request, calls VaultAdmin, and writes the answer. Holds no rules of its own.
class AdminHandler {
 public:
  AdminHandler(const AdminContext& context, const ApiRequest& request, const RequestTarget& target)
      : c_(context), request_(request), target_(target), seg_(target.segments) {}

  ApiResponse Handle() {
    // /coffre-admin/v1/<collection>/...
    if (seg_.size() < 3 || seg_[1] != "v1") return NotFound("Unknown admin resource.");
    const std::string& collection = seg_[2];
    if (collection == "vaults") return Vaults();
    if (collection == "principals") return Principals();
    if (collection == "roleAssignments") return RoleAssignments();
    if (collection == "audit") return HandleAuditRead(c_.audit, c_.clock, request_, target_);
    if (collection == "dev") return HandleHarnessRequest(c_.harness, request_, seg_);
    return NotFound("Unknown admin resource.");
  }

 private:
  const std::string& method() const { return request_.method; }
  service::VaultAdmin& admin() const { return c_.admin; }

  ApiResponse Vaults() {
    if (seg_.size() == 3) {
      if (method() == "GET") {
        auto vaults = admin().ListVaults();
        if (!vaults.ok()) return ErrorResponse(vaults.status());
        json::array value;
        for (const auto& v : *vaults) value.push_back(VaultJson(v, request_.host));
        return Json(200, json::object{{"value", std::move(value)}});
      }
      if (method() == "POST") return CreateVault();
      return MethodNotAllowed();
    }
    const std::string& name = seg_[3];
    if (seg_.size() == 4) {
      if (method() == "GET") {
        auto vault = admin().GetVault(name);
        if (!vault.ok()) return ErrorResponse(vault.status());
        return Json(200, VaultJson(*vault, request_.host));
      }
      if (method() == "PATCH") return UpdateVault(name);
      if (method() == "DELETE") return NoContentOr(admin().DeleteVault(name));
      return MethodNotAllowed();
    }
    if (seg_[4] == "accessPolicies") return AccessPolicies(name);
    return NotFound("Unknown admin resource.");
  }

  ApiResponse CreateVault() {
    auto body = Body(request_);
    if (!body.ok()) return ErrorResponse(body.status());
    auto name = RequiredString(*body, "name");
    if (!name.ok()) return ErrorResponse(name.status());
    auto settings = Settings(*body);
    if (!settings.ok()) return ErrorResponse(settings.status());
    auto vault = admin().CreateVault(*name, *settings);
    if (!vault.ok()) return ErrorResponse(vault.status());
    return Json(201, VaultJson(*vault, request_.host));
  }

  ApiResponse UpdateVault(const std::string& name) {
    // An unknown vault is a 404 whatever the body holds.
    if (auto vault = admin().GetVault(name); !vault.ok()) return ErrorResponse(vault.status());
    auto body = Body(request_);
    if (!body.ok()) return ErrorResponse(body.status());
    auto settings = Settings(*body);
    if (!settings.ok()) return ErrorResponse(settings.status());
    auto updated = admin().UpdateVault(name, *settings);
    if (!updated.ok()) return ErrorResponse(updated.status());
    return Json(200, VaultJson(*updated, request_.host));
  }

  ApiResponse AccessPolicies(const std::string& vault_name) {
    // An unknown vault is a 404 whatever the method or body.
    if (auto vault = admin().GetVault(vault_name); !vault.ok()) {
      return ErrorResponse(vault.status());
    }
    if (seg_.size() == 5) {
      if (method() != "GET") return MethodNotAllowed();
      auto policies = admin().ListAccessPolicies(vault_name);
      if (!policies.ok()) return ErrorResponse(policies.status());
      json::array value;
      for (const auto& p : *policies) value.push_back(PolicyJson(p));
      return Json(200, json::object{{"value", std::move(value)}});
    }
    if (seg_.size() != 6) return NotFound("Unknown admin resource.");
    service::AccessPolicyChange change;
    change.vault = vault_name;
    change.object_id = seg_[5];
    if (auto it = target_.query.find("applicationId"); it != target_.query.end()) {
      change.application_id = it->second;
    }
    if (method() == "DELETE") {
      return NoContentOr(
          admin().DeleteAccessPolicy(change.vault, change.object_id, change.application_id));
    }
    if (method() != "PUT") return MethodNotAllowed();
    auto body = Body(request_);
    if (!body.ok()) return ErrorResponse(body.status());
    if (auto it = body->find("applicationId"); it != body->end() && it->value().is_string()) {
      change.application_id = std::string(it->value().get_string());
    }
    const json::object empty;
    const json::object* permissions = &empty;
    if (auto it = body->find("permissions"); it != body->end() && it->value().is_object()) {
      permissions = &it->value().get_object();
    }
    auto keys = Permissions(*permissions, "keys", auth::PermissionKind::kKeys);
    auto secrets = Permissions(*permissions, "secrets", auth::PermissionKind::kSecrets);
    auto certificates =
        Permissions(*permissions, "certificates", auth::PermissionKind::kCertificates);
    for (const Status* s : {&keys.status(), &secrets.status(), &certificates.status()}) {
      if (!s->ok()) return ErrorResponse(*s);
    }
    change.keys = std::move(*keys);
    change.secrets = std::move(*secrets);
    change.certificates = std::move(*certificates);
    auto policy = admin().SetAccessPolicy(std::move(change));
    if (!policy.ok()) return ErrorResponse(policy.status());
    return Json(200, PolicyJson(*policy));
  }

  ApiResponse RoleAssignments() {
    if (seg_.size() == 3) {
      if (method() == "GET") {
        std::optional<std::string> scope;
        if (auto it = target_.query.find("scope"); it != target_.query.end()) {
          scope = auth::NormalizeScope(it->second);
          if (!scope) return ErrorResponse(Status::BadParameter("Invalid scope."));
        }
        auto assignments = admin().ListRoleAssignments(scope);
        if (!assignments.ok()) return ErrorResponse(assignments.status());
        json::array value;
        for (const auto& a : *assignments) value.push_back(AssignmentJson(a));
        return Json(200, json::object{{"value", std::move(value)}});
      }
      if (method() != "POST") return MethodNotAllowed();
      auto body = Body(request_);
      if (!body.ok()) return ErrorResponse(body.status());
      auto role_name = RequiredString(*body, "roleName");
      auto principal = RequiredString(*body, "principalId");
      auto scope_text = RequiredString(*body, "scope");
      for (const Status* s : {&role_name.status(), &principal.status(), &scope_text.status()}) {
        if (!s->ok()) return ErrorResponse(*s);
      }
      const auth::BuiltInRole* role = auth::FindBuiltInRole(*role_name);
      if (role == nullptr) {
        return ErrorResponse(Status::BadParameter("Unknown role: " + role_name->substr(0, 64)));
      }
      auto scope = auth::NormalizeScope(*scope_text);
      if (!scope) {
        return ErrorResponse(
            Status::BadParameter("A scope is /, /vaults/NAME or /vaults/NAME/keys/KEY."));
      }
      auto added = admin().AddRoleAssignment(role->name, *principal, *scope);
      if (!added.ok()) return ErrorResponse(added.status());
      return Json(201, AssignmentJson(*added));
    }
    if (seg_.size() == 4 && method() == "DELETE") {
      return NoContentOr(admin().DeleteRoleAssignment(seg_[3]));
    }
    return MethodNotAllowed();
  }

  ApiResponse Principals() {
    if (seg_.size() == 3) {
      if (method() == "GET") {
        auto principals = admin().ListPrincipals();
        if (!principals.ok()) return ErrorResponse(principals.status());
        json::array value;
        for (const auto& p : *principals) {
          value.push_back(json::object{{"appId", p.client_id},
                                       {"displayName", p.name},
                                       {"objectId", p.object_id},
                                       {"created", p.created}});
        }
        return Json(200, json::object{{"value", std::move(value)}});
      }
      if (method() != "POST") return MethodNotAllowed();
      auto body = Body(request_);
      if (!body.ok()) return ErrorResponse(body.status());
      auto name = RequiredString(*body, "name");
      if (!name.ok()) return ErrorResponse(name.status());
      // auth makes the credentials (secret and its hash); the service keeps the record.
      auto created = auth::NewPrincipal(*name, c_.clock);
      if (!created.ok()) return ErrorResponse(created.status());
      Status added = admin().AddPrincipal(created->record);
      if (!added.ok()) {
        SecureWipe(created->secret.data(), created->secret.size());
        return ErrorResponse(added);
      }
      ApiResponse response = Json(201, json::object{{"appId", created->record.client_id},
                                                    {"displayName", created->record.name},
                                                    {"password", created->secret},
                                                    {"tenant", c_.tokens.tenant_id()},
                                                    {"objectId", created->record.object_id}});
      response.sensitive = true;  // the secret, shown this once
      SecureWipe(created->secret.data(), created->secret.size());
      return response;
    }
    auto principal = admin().FindPrincipal(seg_[3]);
    if (!principal.ok()) return ErrorResponse(principal.status());
    if (seg_.size() == 4 && method() == "DELETE") {
      return NoContentOr(admin().DeletePrincipal(*principal));
    }
    if (seg_.size() == 5 && seg_[4] == "token" && method() == "POST") {
      auto body = Body(request_);
      if (!body.ok()) return ErrorResponse(body.status());
      std::string resource;
      if (auto it = body->find("resource"); it != body->end() && it->value().is_string()) {
        resource = std::string(it->value().get_string());
      }
      if (resource.empty()) resource = "https://" + AsciiLower(request_.host);
      auto token =
          c_.tokens.Issue({principal->object_id, principal->client_id, principal->name}, resource);
      if (!token.ok()) return ErrorResponse(token.status());
      ApiResponse response = Json(200, json::object{{"accessToken", token->access_token},
                                                    {"expiresOn", token->expires_on},
                                                    {"resource", auth::AudienceFromScope(resource)},
                                                    {"tokenType", "Bearer"}});
      response.sensitive = true;
      return response;
    }
    return MethodNotAllowed();
  }

  const AdminContext& c_;
  const ApiRequest& request_;
  const RequestTarget& target_;
  const std::vector<std::string>& seg_;
};

}  // namespace

ApiResponse HandleAdminRequest(const AdminContext& context, const ApiRequest& request,
                               const RequestTarget& target) {
  // The data plane's stages (Router::Handle), with the admin token as the credential: transport,
  // authentication, authorization, the operation. The admin token is the one admin credential
  // and allows every admin operation, so checking it is the authorization too. Every answer,
  // refusals included, carries its audit fields; the server writes the audit line before it
  // sends the answer, as for the data plane.
  AuditInfo audit;
  // e.g. "Admin POST /v1/vaults": what was administered (also for refused calls).
  std::string path;
  for (size_t i = 1; i < target.segments.size(); ++i) path += "/" + target.segments[i];
  audit.operation = ("Admin " + request.method.substr(0, 16) + " " + path).substr(0, 256);
  auto finish = [&audit](ApiResponse response) {
    response.audit = std::move(audit);
    return response;
  };
  if (!request.secure) {
    return finish(ErrorResponse(Status::Forbidden("The admin API is served over HTTPS only.")));
  }
  if (!context.admin_token.Verify(BearerToken(request))) {
    return finish(ErrorResponse(Status::Unauthorized("The admin API requires the admin token.")));
  }
  audit.caller_object_id = "admin";
  return finish(AdminHandler(context, request, target).Handle());
}

}  // namespace coffre::http
