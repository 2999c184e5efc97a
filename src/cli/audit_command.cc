// `coffre audit verify [--data-dir DIR] FILE...`: checks the keyed hash chain of audit files and
// the head the server anchored in the store.
#include "app/commands.h"
#include "cli/cli.h"

namespace coffre::cli {

void AddAuditCommands(CLI::App& app, Cli& cli) {
  auto* audit = app.add_subcommand("audit", "Work with the audit log");
  audit->require_subcommand(1);
  auto config = std::make_shared<app::AuditVerifyConfig>();
  auto* verify = audit->add_subcommand(
      "verify", "Check the keyed hash chain of audit files and the head anchored in the store");
  verify->add_option("files", config->files, "Audit files, oldest first")->required();
  verify->add_option("--data-dir", config->data_dir,
                     "The server's data dir (master key, store); default: the parent of the "
                     "files' directory when it holds master.key");
  verify->add_option("--audit-dir", config->audit_dir,
                     "The server's --audit-dir, if it was given (names the anchored head)");
  verify->add_option("--storage", config->storage, "The server's --storage, if it was given");
  verify->add_option("--master-key-file", config->master_key_file,
                     "The server's --master-key-file, if it was given");
  cli.OnRun(verify, [config] { return app::VerifyAuditCommand(*config); });
}

}  // namespace coffre::cli
