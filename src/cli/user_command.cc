// `coffre user create|list|delete --data-dir D`: user principals, who sign in with a password
// (`az login -u UPN -p PASSWORD` against the server's cloud). Offline on the server's store.
#include "cli/user_command.h"

#include <memory>
#include <string>

#include "app/data_dir.h"
#include "app/user_commands.h"

namespace coffre::cli {
namespace {

struct UserOptions {
  std::string upn;
  std::string display_name;
  std::string password_file;
  std::string data_dir;
};

const std::string& ExistingDataDir(const std::string& data_dir) {
  if (Status found = app::RequireExistingStore(AbsolutePath(data_dir)); !found.ok()) {
    throw UsageError(found.message());
  }
  return data_dir;
}

}  // namespace

void AddUserCommands(CLI::App& app, Cli& cli) {
  auto* user = app.add_subcommand("user", "Manage users (password sign-in, offline on a data dir)");
  user->require_subcommand(1);
  const char* data_dir_help = "The server's data dir (the server may be running)";
  {
    auto o = std::make_shared<UserOptions>();
    auto* cmd = user->add_subcommand(
        "create", "Create a user; prints objectId (and a generated password, only this once)");
    cmd->add_option("--upn", o->upn, "User principal name, e.g. alice@example.test")->required();
    cmd->add_option("--display-name", o->display_name, "Display name (default: the UPN's name)");
    cmd->add_option("--password-file", o->password_file,
                    "Read the password from the file's first line ('-': stdin); default: a "
                    "random one, printed");
    cmd->add_option("--data-dir", o->data_dir, data_dir_help)->required();
    cli.OnRun(cmd, [o] {
      return app::CreateUserCommand(ExistingDataDir(o->data_dir), o->upn, o->display_name,
                                    o->password_file);
    });
  }
  {
    auto o = std::make_shared<UserOptions>();
    auto* cmd = user->add_subcommand("list", "List users");
    cmd->add_option("--data-dir", o->data_dir, data_dir_help)->required();
    cli.OnRun(cmd, [o] { return app::ListUsersCommand(ExistingDataDir(o->data_dir)); });
  }
  {
    auto o = std::make_shared<UserOptions>();
    auto* cmd = user->add_subcommand("delete", "Delete a user");
    cmd->add_option("--upn", o->upn, "User principal name or object id")->required();
    cmd->add_option("--data-dir", o->data_dir, data_dir_help)->required();
    cli.OnRun(cmd, [o] { return app::DeleteUserCommand(ExistingDataDir(o->data_dir), o->upn); });
  }
}

}  // namespace coffre::cli
