// `coffre principal create|list|delete|token`: client-credential principals. With --data-dir
// they work offline on the server's store; otherwise they go through the admin API.
#include <iostream>

#include "app/commands.h"
#include "app/data_dir.h"
#include "app/principal_env.h"
#include "cli/cli.h"
#include "cli/connection.h"
#include "cli/principals.h"
#include "common/bytes.h"

namespace coffre::cli {
namespace {

struct PrincipalOptions {
  std::string name;
  std::string data_dir;
  std::string resource;
};

std::string Field(const json::object& o, const char* name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
}

json::array Items(const json::value& list) {
  if (list.is_object()) {
    auto it = list.get_object().find("value");
    if (it != list.get_object().end() && it->value().is_array()) return it->value().get_array();
  }
  return {};
}

// The offline commands work on an existing server's store only (see RequireExistingStore).
const std::string& ExistingDataDir(const std::string& data_dir) {
  if (Status found = app::RequireExistingStore(AbsolutePath(data_dir)); !found.ok()) {
    throw UsageError(found.message());
  }
  return data_dir;
}

int Create(const Cli& cli, const PrincipalOptions& o) {
  AdminClient admin(ResolveTarget(cli.global));
  // The password is shown this once (as `az ad sp create-for-rbac` does); it is not stored.
  json::value created = admin.Post("principals", json::object{{"name", o.name}});
  cli.Print(created);
  if (created.is_object()) {
    // The lines to paste go to stderr, so that stdout stays the JSON (or table) for scripts.
    std::string password = Field(created.get_object(), "password");
    std::cerr << app::kPrincipalEnvHeading
              << app::PrincipalEnvLines(Field(created.get_object(), "appId"), password,
                                        admin.server().Origin())
              << std::flush;
    SecureWipe(password.data(), password.size());
  }
  return 0;
}

int List(const Cli& cli) {
  AdminClient admin(ResolveTarget(cli.global));
  cli.Print(Items(admin.Get("principals")));
  return 0;
}

int Delete(const Cli& cli, const PrincipalOptions& o) {
  AdminClient admin(ResolveTarget(cli.global));
  admin.Delete("principals/" + PercentEncode(o.name));
  return 0;
}

int Token(const Cli& cli, const PrincipalOptions& o) {
  AdminClient admin(ResolveTarget(cli.global));
  // The audience the server's own vaults accept (NAME.localhost:PORT answers challenges with
  // https://localhost:PORT), unless asked for another.
  std::string resource = o.resource.empty() ? admin.server().Origin() : o.resource;
  json::value token = admin.Post("principals/" + PercentEncode(o.name) + "/token",
                                 json::object{{"resource", resource}});
  std::string access_token = token.is_object() ? Field(token.get_object(), "accessToken") : "";
  if (access_token.empty()) throw Failure("The server returned no access token.");
  // Only the token, so that scripts can write TOKEN=$(coffre principal token --name N).
  std::cout << access_token << std::endl;
  return 0;
}

}  // namespace

std::optional<PrincipalInfo> FindPrincipal(const AdminClient& admin, const std::string& id) {
  const std::string wanted = AsciiLower(id);
  std::optional<PrincipalInfo> by_name;
  for (const auto& item : Items(admin.Get("principals"))) {
    if (!item.is_object()) continue;
    const json::object& o = item.get_object();
    PrincipalInfo p{Field(o, "appId"), Field(o, "displayName"), Field(o, "objectId")};
    if (AsciiLower(p.app_id) == wanted || AsciiLower(p.object_id) == wanted) return p;
    if (!by_name && AsciiLower(p.display_name) == wanted) by_name = p;
  }
  return by_name;
}

void AddPrincipalCommands(CLI::App& app, Cli& cli) {
  auto* principal = app.add_subcommand("principal", "Manage client-credential principals");
  principal->require_subcommand(1);
  const char* data_dir_help =
      "Work offline on this server data dir instead of through the admin API";

  {
    auto o = std::make_shared<PrincipalOptions>();
    auto* cmd = principal->add_subcommand(
        "create", "Create a principal; prints appId, password (only this once), tenant");
    cmd->add_option("-n,--name", o->name, "Display name")->required();
    auto* dir = cmd->add_option("--data-dir", o->data_dir, data_dir_help);
    cli.OnRun(cmd, [&cli, o, dir] {
      return dir->count() > 0 ? app::CreatePrincipalCommand(ExistingDataDir(o->data_dir), o->name)
                              : Create(cli, *o);
    });
  }
  {
    auto o = std::make_shared<PrincipalOptions>();
    auto* cmd = principal->add_subcommand("list", "List principals");
    auto* dir = cmd->add_option("--data-dir", o->data_dir, data_dir_help);
    cli.OnRun(cmd, [&cli, o, dir] {
      return dir->count() > 0 ? app::ListPrincipalsCommand(ExistingDataDir(o->data_dir))
                              : List(cli);
    });
  }
  {
    auto o = std::make_shared<PrincipalOptions>();
    auto* cmd = principal->add_subcommand("delete", "Delete a principal");
    cmd->add_option("-n,--name", o->name, "Display name (or client id, with the admin API)")
        ->required();
    auto* dir = cmd->add_option("--data-dir", o->data_dir, data_dir_help);
    cli.OnRun(cmd, [&cli, o, dir] {
      return dir->count() > 0 ? app::DeletePrincipalCommand(ExistingDataDir(o->data_dir), o->name)
                              : Delete(cli, *o);
    });
  }
  {
    auto o = std::make_shared<PrincipalOptions>();
    auto* cmd = principal->add_subcommand(
        "token", "Print an access token for a principal (for scripts: Authorization: Bearer)");
    cmd->add_option("-n,--name", o->name, "Display name or client id")->required();
    cmd->add_option("--resource", o->resource,
                    "Audience of the token (default https://HOST:PORT of the server)");
    cli.OnRun(cmd, [&cli, o] { return Token(cli, *o); });
  }
}

}  // namespace coffre::cli
