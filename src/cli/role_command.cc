// `coffre role assignment create|list|delete`: role assignments for vaults that use RBAC
// (--enable-rbac-authorization), on the admin API.
#include <iostream>

#include "cli/cli.h"
#include "cli/connection.h"
#include "cli/principals.h"

namespace coffre::cli {
namespace {

struct AssignmentOptions {
  std::string role;
  std::string assignee;
  std::string assignee_object_id;
  std::string scope;
  std::string id;
};

json::value Items(const json::value& list) {
  if (list.is_object()) {
    auto it = list.get_object().find("value");
    if (it != list.get_object().end()) return it->value();
  }
  return json::array();
}

// The vault a scope names (/vaults/NAME[/...]); empty for "/".
std::string ScopeVault(const std::string& scope) {
  constexpr std::string_view kPrefix = "/vaults/";
  if (!scope.starts_with(kPrefix)) return {};
  std::string rest = scope.substr(kPrefix.size());
  return rest.substr(0, rest.find('/'));
}

int Create(const Cli& cli, const AssignmentOptions& o) {
  if (o.assignee.empty() == o.assignee_object_id.empty()) {
    throw UsageError(
        "Name the principal: --assignee (client id, name or object id of a "
        "principal) or --assignee-object-id (any object id, e.g. a managed "
        "identity's).");
  }
  AdminClient admin(ResolveTarget(cli.global));
  // Like az: --assignee must be a principal this server knows (by client id, name or object
  // id), as `vault set-policy --spn` requires; --assignee-object-id is taken as given.
  std::string principal_id = o.assignee_object_id;
  if (!o.assignee.empty()) {
    auto principal = FindPrincipal(admin, o.assignee);
    if (!principal) {
      throw ServiceError("PrincipalNotFound",
                         "No principal has the client id, name or object id '" + o.assignee +
                             "'. For a managed identity, pass --assignee-object-id.");
    }
    principal_id = principal->object_id;
  }
  if (std::string vault = ScopeVault(o.scope); !vault.empty()) {
    json::value shown = admin.Get("vaults/" + PercentEncode(vault));
    const json::value* rbac =
        shown.is_object() ? shown.get_object().if_contains("enableRbacAuthorization") : nullptr;
    if (rbac != nullptr && rbac->is_bool() && !rbac->get_bool()) {
      std::cerr << "WARNING: vault " << vault
                << " uses access policies: role assignments grant nothing there until "
                   "`coffre vault update --name "
                << vault << " --enable-rbac-authorization true`." << std::endl;
    }
  }
  cli.Print(admin.Post(
      "roleAssignments",
      json::object{{"roleName", o.role}, {"principalId", principal_id}, {"scope", o.scope}}));
  return 0;
}

int List(const Cli& cli, const AssignmentOptions& o) {
  AdminClient admin(ResolveTarget(cli.global));
  std::string path = "roleAssignments";
  if (!o.scope.empty()) path += "?scope=" + PercentEncode(o.scope);
  json::value items = Items(admin.Get(path));
  if (!o.assignee.empty() && items.is_array()) {
    std::string wanted = AsciiLower(o.assignee);
    if (auto principal = FindPrincipal(admin, o.assignee)) wanted = principal->object_id;
    json::array filtered;
    for (const auto& item : items.get_array()) {
      auto* id = item.is_object() ? item.get_object().if_contains("principalId") : nullptr;
      if (id != nullptr && id->is_string() && AsciiLower(id->get_string()) == wanted) {
        filtered.push_back(item);
      }
    }
    items = std::move(filtered);
  }
  cli.Print(items);
  return 0;
}

int Delete(const Cli& cli, const AssignmentOptions& o) {
  AdminClient admin(ResolveTarget(cli.global));
  admin.Delete("roleAssignments/" + PercentEncode(o.id));
  return 0;
}

}  // namespace

void AddRoleCommands(CLI::App& app, Cli& cli) {
  auto* role = app.add_subcommand("role", "Role-based access control for RBAC vaults");
  role->require_subcommand(1);
  auto* assignment = role->add_subcommand("assignment", "Manage role assignments");
  assignment->require_subcommand(1);
  const char* scope_help = "/, /vaults/NAME or /vaults/NAME/keys/KEY";

  {
    auto o = std::make_shared<AssignmentOptions>();
    auto* cmd = assignment->add_subcommand("create", "Assign a role");
    cmd->add_option("--role", o->role,
                    "Built-in role, e.g. \"Key Vault Crypto Officer\", \"Key Vault Crypto User\", "
                    "\"Key Vault Reader\", \"Key Vault Administrator\"")
        ->required();
    cmd->add_option("--assignee", o->assignee,
                    "Client id, name or object id of a principal this server knows");
    cmd->add_option("--assignee-object-id", o->assignee_object_id,
                    "Object id taken as given (e.g. a managed identity's), instead of --assignee");
    cmd->add_option("--scope", o->scope, scope_help)->required();
    cli.OnRun(cmd, [&cli, o] { return Create(cli, *o); });
  }
  {
    auto o = std::make_shared<AssignmentOptions>();
    auto* cmd = assignment->add_subcommand("list", "List role assignments");
    cmd->add_option("--scope", o->scope, std::string("Only those at this scope: ") + scope_help);
    cmd->add_option("--assignee", o->assignee, "Only those of this principal");
    cli.OnRun(cmd, [&cli, o] { return List(cli, *o); });
  }
  {
    auto o = std::make_shared<AssignmentOptions>();
    auto* cmd = assignment->add_subcommand("delete", "Remove a role assignment");
    cmd->add_option("--id", o->id, "Id of the assignment (from create or list)")->required();
    cli.OnRun(cmd, [&cli, o] { return Delete(cli, *o); });
  }
}

}  // namespace coffre::cli
