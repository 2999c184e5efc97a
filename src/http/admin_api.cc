#include "http/admin_api.h"

#include <boost/json.hpp>
#include <charconv>

#include "auth/access_control.h"
#include "auth/identity_endpoints.h"
#include "common/strings.h"
#include "crypto/random.h"
#include "http/key_json.h"
#include "http/router.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

constexpr int kMinRetentionDays = 7;
constexpr int kMaxRetentionDays = 90;

ApiResponse Json(int status, const json::value& body) {
  return JsonResponse(status, json::serialize(body));
}

ApiResponse Error(ErrorKind kind, std::string code, std::string message) {
  return ErrorResponse(Status(kind, std::move(code), std::move(message)));
}

ApiResponse NotFound(std::string message) {
  return Error(ErrorKind::kNotFound, "NotFound", std::move(message));
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

json::object VaultJson(const store::VaultRecord& v, std::string_view host) {
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

json::object PolicyJson(const store::AccessPolicyRecord& p) {
  json::object o{{"objectId", p.object_id},
                 {"permissions", json::object{{"keys", Strings(p.keys)},
                                              {"secrets", Strings(p.secrets)},
                                              {"certificates", Strings(p.certificates)}}}};
  if (!p.application_id.empty()) o["applicationId"] = p.application_id;
  return o;
}

json::object AssignmentJson(const store::RoleAssignmentRecord& a) {
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
    return NotFound("Unknown admin resource.");
  }

 private:
  const std::string& method() const { return request_.method; }

  Result<store::VaultRecord> FindVault(const std::string& name) {
    COFFRE_ASSIGN_OR_RETURN(auto vault, c_.vaults.Find(name));
    if (!vault) return Status::NotFound("VaultNotFound", "Vault not found: " + name.substr(0, 64));
    return *vault;
  }

  ApiResponse Vaults() {
    if (seg_.size() == 3) {
      if (method() == "GET") {
        auto vaults = c_.store.ListVaults();
        if (!vaults.ok()) return ErrorResponse(vaults.status());
        json::array value;
        for (const auto& v : *vaults) value.push_back(VaultJson(v, request_.host));
        return Json(200, json::object{{"value", std::move(value)}});
      }
      if (method() == "POST") return CreateVault();
      return MethodNotAllowed();
    }
    std::string name = AsciiLower(seg_[3]);
    if (seg_.size() == 4) {
      if (method() == "GET") {
        auto vault = FindVault(name);
        if (!vault.ok()) return ErrorResponse(vault.status());
        return Json(200, VaultJson(*vault, request_.host));
      }
      if (method() == "PATCH") return UpdateVault(name);
      if (method() == "DELETE") {
        Status deleted = c_.store.DeleteVault(name);
        c_.vaults.Forget(name);
        if (deleted.kind() == ErrorKind::kConflict) {
          return ErrorResponse(
              Status::Conflict("The vault " + name +
                               " still holds keys (active or deleted); delete and purge "
                               "them first."));
        }
        if (!deleted.ok()) return ErrorResponse(deleted);
        ApiResponse response;
        response.status = 204;
        return response;
      }
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
    store::VaultRecord vault;
    vault.name = AsciiLower(*name);
    auto retention = OptionalInteger(*body, "retentionDays");
    auto purge_protection = OptionalBool(*body, "enablePurgeProtection");
    auto rbac = OptionalBool(*body, "enableRbacAuthorization");
    for (const Status* s : {&retention.status(), &purge_protection.status(), &rbac.status()}) {
      if (!s->ok()) return ErrorResponse(*s);
    }
    vault.retention_days = static_cast<int>(retention->value_or(90));
    if (vault.retention_days < kMinRetentionDays || vault.retention_days > kMaxRetentionDays) {
      return ErrorResponse(Status::BadParameter("retentionDays must be from 7 to 90."));
    }
    vault.purge_protection = purge_protection->value_or(false);
    vault.rbac_authorization = rbac->value_or(false);
    vault.created = c_.clock.NowSeconds();
    if (!service::IsValidVaultName(vault.name)) {
      return ErrorResponse(Status::BadParameter(
          "Invalid vault name: " + vault.name.substr(0, 64) +
          ". Vault names are 3-24 letters, digits and hyphens, starting with a letter."));
    }
    auto existing = c_.vaults.Find(vault.name);
    if (!existing.ok()) return ErrorResponse(existing.status());
    if (existing->has_value()) {
      return ErrorResponse(Status::Conflict("A vault named " + vault.name + " already exists."));
    }
    if (Status put = c_.vaults.Ensure(vault); !put.ok()) return ErrorResponse(put);
    if (c_.on_vault_created) {
      if (Status hook = c_.on_vault_created(vault); !hook.ok()) return ErrorResponse(hook);
    }
    return Json(201, VaultJson(vault, request_.host));
  }

  ApiResponse UpdateVault(const std::string& name) {
    auto vault = FindVault(name);
    if (!vault.ok()) return ErrorResponse(vault.status());
    auto body = Body(request_);
    if (!body.ok()) return ErrorResponse(body.status());
    auto retention = OptionalInteger(*body, "retentionDays");
    auto purge_protection = OptionalBool(*body, "enablePurgeProtection");
    auto rbac = OptionalBool(*body, "enableRbacAuthorization");
    for (const Status* s : {&retention.status(), &purge_protection.status(), &rbac.status()}) {
      if (!s->ok()) return ErrorResponse(*s);
    }
    store::VaultRecord updated = *vault;
    if (*retention) {
      // As on Azure, a retention period protects deleted keys: it may grow, never shrink.
      if (**retention < vault->retention_days || **retention > kMaxRetentionDays) {
        return ErrorResponse(Status::BadParameter("retentionDays can only be raised (now " +
                                                  std::to_string(vault->retention_days) +
                                                  ", at most 90)."));
      }
      updated.retention_days = static_cast<int>(**retention);
    }
    if (*purge_protection) {
      if (!**purge_protection && vault->purge_protection) {
        return ErrorResponse(
            Status::BadParameter("Purge protection cannot be turned off once it is on."));
      }
      updated.purge_protection = **purge_protection;
    }
    if (*rbac) updated.rbac_authorization = **rbac;
    if (Status s = c_.store.UpdateVault(updated); !s.ok()) return ErrorResponse(s);
    c_.vaults.Forget(name);
    return Json(200, VaultJson(updated, request_.host));
  }

  ApiResponse AccessPolicies(const std::string& vault_name) {
    auto vault = FindVault(vault_name);
    if (!vault.ok()) return ErrorResponse(vault.status());
    if (seg_.size() == 5) {
      if (method() != "GET") return MethodNotAllowed();
      auto policies = c_.store.ListAccessPolicies(vault_name);
      if (!policies.ok()) return ErrorResponse(policies.status());
      json::array value;
      for (const auto& p : *policies) value.push_back(PolicyJson(p));
      return Json(200, json::object{{"value", std::move(value)}});
    }
    if (seg_.size() != 6) return NotFound("Unknown admin resource.");
    std::string object_id = AsciiLower(seg_[5]);
    std::string application_id;
    if (auto it = target_.query.find("applicationId"); it != target_.query.end()) {
      application_id = AsciiLower(it->second);
    }
    if (method() == "DELETE") {
      Status deleted = c_.store.DeleteAccessPolicy(vault_name, object_id, application_id);
      if (!deleted.ok()) return ErrorResponse(deleted);
      ApiResponse response;
      response.status = 204;
      return response;
    }
    if (method() != "PUT") return MethodNotAllowed();
    auto body = Body(request_);
    if (!body.ok()) return ErrorResponse(body.status());
    if (auto it = body->find("applicationId"); it != body->end() && it->value().is_string()) {
      application_id = AsciiLower(it->value().get_string());
    }
    store::AccessPolicyRecord record;
    record.vault = vault_name;
    record.object_id = object_id;
    record.application_id = application_id;
    auto existing = c_.store.ListAccessPolicies(vault_name);
    if (!existing.ok()) return ErrorResponse(existing.status());
    for (const auto& p : *existing) {
      if (p.object_id == object_id && p.application_id == application_id) record = p;
    }
    const json::object empty;
    const json::object* permissions = &empty;
    if (auto it = body->find("permissions"); it != body->end() && it->value().is_object()) {
      permissions = &it->value().get_object();
    }
    // Like `az keyvault set-policy`: the kinds named replace what was there, the rest stay.
    auto keys = Permissions(*permissions, "keys", auth::PermissionKind::kKeys);
    auto secrets = Permissions(*permissions, "secrets", auth::PermissionKind::kSecrets);
    auto certificates =
        Permissions(*permissions, "certificates", auth::PermissionKind::kCertificates);
    for (const Status* s : {&keys.status(), &secrets.status(), &certificates.status()}) {
      if (!s->ok()) return ErrorResponse(*s);
    }
    if (*keys) record.keys = std::move(**keys);
    if (*secrets) record.secrets = std::move(**secrets);
    if (*certificates) record.certificates = std::move(**certificates);
    if (Status put = c_.store.PutAccessPolicy(record); !put.ok()) return ErrorResponse(put);
    return Json(200, PolicyJson(record));
  }

  ApiResponse RoleAssignments() {
    if (seg_.size() == 3) {
      if (method() == "GET") {
        auto all = c_.store.ListRoleAssignments();
        if (!all.ok()) return ErrorResponse(all.status());
        std::optional<std::string> scope;
        if (auto it = target_.query.find("scope"); it != target_.query.end()) {
          scope = auth::NormalizeScope(it->second);
          if (!scope) return ErrorResponse(Status::BadParameter("Invalid scope."));
        }
        json::array value;
        for (const auto& a : *all) {
          if (!scope || a.scope == *scope) value.push_back(AssignmentJson(a));
        }
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
      // A scope names a vault (and key) that must exist, as an Azure resource scope does.
      if (scope->starts_with("/vaults/")) {
        std::string vault_name = scope->substr(8, scope->find('/', 8) - 8);
        auto vault = FindVault(vault_name);
        if (!vault.ok()) return ErrorResponse(vault.status());
      }
      store::RoleAssignmentRecord record{crypto::RandomUuid(), std::string(role->name),
                                         AsciiLower(*principal), *scope, c_.clock.NowSeconds()};
      if (Status added = c_.store.AddRoleAssignment(record); !added.ok()) {
        return ErrorResponse(added);
      }
      return Json(201, AssignmentJson(record));
    }
    if (seg_.size() == 4 && method() == "DELETE") {
      Status deleted = c_.store.DeleteRoleAssignment(AsciiLower(seg_[3]));
      if (!deleted.ok()) return ErrorResponse(deleted);
      ApiResponse response;
      response.status = 204;
      return response;
    }
    return MethodNotAllowed();
  }

  ApiResponse Principals() {
    if (seg_.size() == 3) {
      if (method() == "GET") {
        auto principals = c_.store.ListPrincipals();
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
      auto created = auth::CreatePrincipal(c_.store, *name, c_.clock);
      if (!created.ok()) return ErrorResponse(created.status());
      ApiResponse response = Json(201, json::object{{"appId", created->record.client_id},
                                                    {"displayName", created->record.name},
                                                    {"password", created->secret},
                                                    {"tenant", c_.tokens.tenant_id()},
                                                    {"objectId", created->record.object_id}});
      response.sensitive = true;  // the secret, shown this once
      SecureWipe(created->secret.data(), created->secret.size());
      return response;
    }
    auto principal = FindPrincipal(seg_[3]);
    if (!principal.ok()) return ErrorResponse(principal.status());
    if (seg_.size() == 4 && method() == "DELETE") {
      Status deleted = c_.store.DeletePrincipal(principal->name);
      if (!deleted.ok()) return ErrorResponse(deleted);
      ApiResponse response;
      response.status = 204;
      return response;
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

  // By display name or client id.
  Result<store::PrincipalRecord> FindPrincipal(const std::string& name_or_id) {
    if (auto by_id = c_.store.GetPrincipalByClientId(name_or_id); by_id.ok()) return *by_id;
    COFFRE_ASSIGN_OR_RETURN(auto all, c_.store.ListPrincipals());
    for (auto& p : all) {
      if (AsciiLower(p.name) == AsciiLower(name_or_id)) return p;
    }
    return Status::NotFound("PrincipalNotFound",
                            "No principal is called " + name_or_id.substr(0, 128) + ".");
  }

  const AdminContext& c_;
  const ApiRequest& request_;
  const RequestTarget& target_;
  const std::vector<std::string>& seg_;
};

}  // namespace

ApiResponse HandleAdminRequest(const AdminContext& context, const ApiRequest& request,
                               const RequestTarget& target) {
  // e.g. "Admin POST /v1/vaults": what was administered (also for refused calls).
  std::string path;
  for (size_t i = 1; i < target.segments.size(); ++i) path += "/" + target.segments[i];
  std::string operation = ("Admin " + request.method.substr(0, 16) + " " + path).substr(0, 256);
  auto audited = [&operation](ApiResponse response, bool as_admin) {
    response.audit.operation = operation;
    if (as_admin) response.audit.caller_object_id = "admin";
    return response;
  };
  if (!request.secure) {
    return audited(ErrorResponse(Status::Forbidden("The admin API is served over HTTPS only.")),
                   false);
  }
  if (!context.admin_token.Verify(BearerToken(request))) {
    return audited(ErrorResponse(Status::Unauthorized("The admin API requires the admin token.")),
                   false);
  }
  ApiResponse response = AdminHandler(context, request, target).Handle();
  // Vaults, access policies and role assignments may have changed: the data plane must see it
  // on its next request, not after its cache expires.
  if (request.method != "GET") context.access.Forget();
  return audited(std::move(response), true);
}

}  // namespace coffre::http
