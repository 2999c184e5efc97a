#include "auth/access_control.h"

#include <algorithm>

#include "common/strings.h"

namespace coffre::auth {
namespace {

const std::vector<std::string> kKeyPermissions = {
    "get",     "list",    "update",    "create",  "import",  "delete",  "recover",
    "backup",  "restore", "decrypt",   "encrypt", "unwrapKey", "wrapKey", "verify",
    "sign",    "purge",   "release",   "rotate",  "getrotationpolicy", "setrotationpolicy"};
const std::vector<std::string> kSecretPermissions = {"get",     "list",    "set",    "delete",
                                                     "recover", "backup",  "restore", "purge"};
const std::vector<std::string> kCertificatePermissions = {
    "get",         "list",           "update",         "create",      "import",
    "delete",      "recover",        "backup",         "restore",     "managecontacts",
    "manageissuers", "getissuers",   "listissuers",    "setissuers",  "deleteissuers",
    "purge"};

const std::vector<std::string>& PermissionsOf(PermissionKind kind) {
  switch (kind) {
    case PermissionKind::kKeys: return kKeyPermissions;
    case PermissionKind::kSecrets: return kSecretPermissions;
    case PermissionKind::kCertificates: return kCertificatePermissions;
  }
  return kKeyPermissions;
}

std::string CallerText(const Caller& caller) {
  return "appid=" + caller.app_id + ";oid=" + caller.object_id + ";iss=" + caller.issuer;
}

bool Matches(std::string_view pattern, std::string_view text) {
  // Iterative wildcard match: '*' matches any run of characters.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// "keys" or "secrets": the collection an object of the kind lives in, in scopes and paths.
std::string_view CollectionOf(PermissionKind kind) {
  switch (kind) {
    case PermissionKind::kKeys: return "keys";
    case PermissionKind::kSecrets: return "secrets";
    case PermissionKind::kCertificates: return "certificates";
  }
  return "keys";
}

bool ScopeCovers(std::string_view scope, std::string_view vault, std::string_view object_name,
                 PermissionKind kind) {
  if (scope == "/") return true;
  std::string vault_scope = "/vaults/" + AsciiLower(vault);
  if (scope == vault_scope) return true;
  return !object_name.empty() && scope == vault_scope + "/" + std::string(CollectionOf(kind)) +
                                              "/" + AsciiLower(object_name);
}

}  // namespace

std::optional<std::string> CanonicalPermission(PermissionKind kind, std::string_view name) {
  std::string lower = AsciiLower(name);
  for (const auto& permission : PermissionsOf(kind)) {
    if (AsciiLower(permission) == lower) return permission;
  }
  return std::nullopt;
}

std::vector<std::string> AllPermissions(PermissionKind kind) { return PermissionsOf(kind); }

const std::vector<BuiltInRole>& BuiltInRoles() {
  static const std::vector<BuiltInRole> roles = {
      // Resource Manager's roles: they manage vaults (the ARM surface) and grant no data
      // actions, as on Azure.
      {"Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", {}},
      {"Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c", {}},
      {"Key Vault Contributor", "f25e0fa2-a7c8-4377-a976-54943a77a395", {}},
      {"Key Vault Administrator",
       "00482a5a-887f-4fb3-b363-3b7fe8e74483",
       {"Microsoft.KeyVault/vaults/*"}},
      // rng/action: random bytes (/rng), as Managed HSM's crypto roles grant them.
      {"Key Vault Crypto Officer",
       "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
       {"Microsoft.KeyVault/vaults/keys/*", "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        "Microsoft.KeyVault/vaults/rng/action"}},
      {"Key Vault Crypto User",
       "12338af0-0e69-4776-bea7-57ae8d297424",
       {"Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/update/action",
        "Microsoft.KeyVault/vaults/keys/backup/action",
        "Microsoft.KeyVault/vaults/keys/encrypt/action",
        "Microsoft.KeyVault/vaults/keys/decrypt/action",
        "Microsoft.KeyVault/vaults/keys/wrap/action",
        "Microsoft.KeyVault/vaults/keys/unwrap/action",
        "Microsoft.KeyVault/vaults/keys/sign/action",
        "Microsoft.KeyVault/vaults/keys/verify/action", "Microsoft.KeyVault/vaults/rng/action"}},
      {"Key Vault Crypto Service Encryption User",
       "e147488a-f6f5-4113-8e2d-b22465e65bf6",
       {"Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action",
        "Microsoft.KeyVault/vaults/keys/unwrap/action"}},
      {"Key Vault Crypto Service Release User",
       "08bbd89e-9f13-488c-ac41-acfcb10c90ab",
       {"Microsoft.KeyVault/vaults/keys/release/action"}},
      {"Key Vault Reader",
       "21090545-7ca7-4776-b22c-e363652d74d2",
       {"Microsoft.KeyVault/vaults/*/read",
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action"}},
      {"Key Vault Certificates Officer",
       "a4417e6f-fecd-4de8-b567-7b0420556985",
       {"Microsoft.KeyVault/vaults/certificatecas/*", "Microsoft.KeyVault/vaults/certificates/*",
        "Microsoft.KeyVault/vaults/certificatecontacts/*"}},
      // Reads certificates and, through the keys and secrets APIs, their key and secret.
      {"Key Vault Certificate User",
       "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
       {"Microsoft.KeyVault/vaults/certificates/read",
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        "Microsoft.KeyVault/vaults/keys/read"}},
      {"Key Vault Secrets Officer",
       "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
       {"Microsoft.KeyVault/vaults/secrets/*"}},
      {"Key Vault Secrets User",
       "4633458b-17de-408a-b874-0445c86b69e6",
       {"Microsoft.KeyVault/vaults/secrets/getSecret/action",
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action"}},
  };
  return roles;
}

const BuiltInRole* FindBuiltInRole(std::string_view name_or_id) {
  std::string wanted = AsciiLower(name_or_id);
  for (const auto& role : BuiltInRoles()) {
    if (AsciiLower(role.name) == wanted || role.id == wanted) return &role;
  }
  return nullptr;
}

bool DataActionMatches(std::string_view pattern, std::string_view action) {
  return Matches(AsciiLower(pattern), AsciiLower(action));
}

std::optional<std::string> NormalizeScope(std::string_view scope) {
  std::string s = AsciiLower(scope);
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s == "/") return s;
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= s.size()) {
    size_t slash = s.find('/', start);
    parts.push_back(s.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (s.empty() || s[0] != '/') return std::nullopt;
  auto valid = [](const std::string& part) {
    return !part.empty() && part.size() <= 127 &&
           std::all_of(part.begin(), part.end(), [](char c) {
             return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
           });
  };
  if (parts.size() == 2 && parts[0] == "vaults" && valid(parts[1])) return s;
  // A Resource Manager resource group (names as Azure allows them, lowercased).
  if (parts.size() == 2 && parts[0] == "resourcegroups" && !parts[1].empty() &&
      parts[1].size() <= 90 && parts[1].back() != '.' &&
      std::all_of(parts[1].begin(), parts[1].end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.' || c == '(' || c == ')';
      })) {
    return s;
  }
  if (parts.size() == 4 && parts[0] == "vaults" && valid(parts[1]) &&
      (parts[2] == "keys" || parts[2] == "secrets") && valid(parts[3])) {
    return s;
  }
  return std::nullopt;
}

Status CheckAccessPolicies(const std::vector<AccessPolicyEntry>& policies, const Caller& caller,
                           std::string_view vault, std::string_view permission,
                           PermissionKind kind) {
  for (const auto& entry : policies) {
    if (AsciiLower(entry.object_id) != AsciiLower(caller.object_id)) continue;
    if (!entry.application_id.empty() &&
        AsciiLower(entry.application_id) != AsciiLower(caller.app_id)) {
      continue;
    }
    const std::vector<std::string>& grants = kind == PermissionKind::kSecrets ? entry.secrets
                                             : kind == PermissionKind::kCertificates
                                                 ? entry.certificates
                                                 : entry.keys;
    for (const auto& granted : grants) {
      if (AsciiLower(granted) == AsciiLower(permission)) return Status::Ok();
    }
  }
  return Status::Forbidden("The user, group or application '" + CallerText(caller) +
                               "' does not have " + std::string(CollectionOf(kind)) + " " +
                               std::string(permission) +
                               " permission on key vault '" + std::string(vault) +
                               ";location=local'. For help resolving this issue, please see "
                               "https://go.microsoft.com/fwlink/?linkid=2125287",
                           "AccessDenied");
}

Status CheckRoleAssignments(const std::vector<RoleAssignment>& assignments, const Caller& caller,
                            std::string_view vault, std::string_view object_name,
                            std::string_view data_action, PermissionKind kind) {
  for (const auto& assignment : assignments) {
    if (AsciiLower(assignment.principal_id) != AsciiLower(caller.object_id)) continue;
    if (!ScopeCovers(assignment.scope, vault, object_name, kind)) continue;
    const BuiltInRole* role = FindBuiltInRole(assignment.role);
    if (role == nullptr) continue;
    for (std::string_view pattern : role->data_actions) {
      if (DataActionMatches(pattern, data_action)) return Status::Ok();
    }
  }
  std::string resource = "/vaults/" + std::string(vault);
  if (!object_name.empty()) {
    resource += "/" + std::string(CollectionOf(kind)) + "/" + std::string(object_name);
  }
  return Status::Forbidden(
      "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny "
      "assignments or role definitions were changed recently, please observe propagation "
      "time.\r\nCaller: " +
          CallerText(caller) + "\r\nAction: '" + std::string(data_action) + "'\r\nResource: '" +
          resource +
          "'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null "
          "\r\nVault: " +
          std::string(vault) + ";location=local\r\n",
      "ForbiddenByRbac");
}

}  // namespace coffre::auth
