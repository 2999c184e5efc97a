// `coffre audit verify FILE...`: checks the hash chain of audit files.
#include "app/commands.h"
#include "cli/cli.h"

namespace coffre::cli {

void AddAuditCommands(CLI::App& app, Cli& cli) {
  auto* audit = app.add_subcommand("audit", "Work with the audit log");
  audit->require_subcommand(1);
  auto files = std::make_shared<std::vector<std::string>>();
  auto* verify = audit->add_subcommand("verify", "Check the hash chain of audit files");
  verify->add_option("files", *files, "Audit files, oldest first")->required();
  cli.OnRun(verify, [files] { return app::VerifyAuditCommand(*files); });
}

}  // namespace coffre::cli
