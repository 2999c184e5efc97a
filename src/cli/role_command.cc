// `coffre role assignment create|list|delete`: role assignments for vaults that use RBAC
// (--enable-rbac-authorization), on the admin API.
#include "cli/cli.h"
#include "cli/connection.h"
#include "cli/principals.h"

namespace coffre::cli {
namespace {

struct AssignmentOptions {
  std::string role;
  std::string assignee;
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

int Create(const Cli& cli, const AssignmentOptions& o) {
  AdminClient admin(ResolveTarget(cli.global));
  // Like az, the assignee may be a client id or a name; the assignment holds the object id.
  // Anything else is taken as an object id as given (e.g. a managed identity's).
  std::string principal_id = o.assignee;
  if (auto principal = FindPrincipal(admin, o.assignee)) principal_id = principal->object_id;
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
    cmd->add_option("--assignee", o->assignee, "Client id, name or object id of the principal")
        ->required();
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
