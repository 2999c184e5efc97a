// `coffre store check`: verifies a store (schema, integrity and references, every sealed key).
//
// Runs in the subcommand's callback, while the command line is parsed: it needs no server and no
// global option. It ends the parse with CLI::Success when the store is sound and with a CliError
// (exit 1, "ERROR: ...") when it is damaged or cannot be checked; the report is on stdout.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "app/store_check.h"
#include "cli/cli.h"

namespace coffre::cli {

void AddStoreCommands(CLI::App& app) {
  auto* store = app.add_subcommand("store", "Work with the server's store directly");
  store->require_subcommand(1);
  auto config = std::make_shared<app::StoreCheckConfig>();
  auto* check = store->add_subcommand(
      "check",
      "Verify a store: schema, integrity and references, and that every sealed key (active or "
      "deleted) opens with the master key. Exits 1 on damage.");
  check->add_option("--data-dir", config->data_dir, "The server's data dir")->capture_default_str();
  check->add_option("--storage", config->storage,
                    "Store URL: postgresql://... or sqlite:PATH (default DATA_DIR/coffre.db)");
  check->add_option("--master-key-file", config->master_key_file,
                    "Master key file (default DATA_DIR/master.key)");
  check->callback([config] {
    int code = app::StoreCheckCommand(*config, std::cout, std::cerr);
    std::cout.flush();
    if (code != 0) throw Failure("store check failed");
    throw CLI::Success();
  });
}

}  // namespace coffre::cli
