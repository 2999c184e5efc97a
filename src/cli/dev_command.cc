// `coffre dev az`: prints the commands that sign the Azure CLI in against a dev server (the
// az.sh the server writes beside dev.env), so they can be copied or sourced.
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "cli/cli.h"

namespace coffre::cli {

void AddDevCommands(CLI::App& app, Cli& cli) {
  auto* dev = app.add_subcommand("dev", "Help for the --dev server");
  dev->require_subcommand(1);
  auto data_dir = std::make_shared<std::string>(app::ServerConfig{}.data_dir);
  auto* az = dev->add_subcommand(
      "az", "Print the commands that register the dev server with the Azure CLI and sign in");
  az->add_option("--data-dir", *data_dir, "The dev server's data directory")->capture_default_str();
  cli.OnRun(az, [data_dir] {
    const std::string path = *data_dir + "/az.sh";
    std::ifstream file(path);
    if (!file) {
      throw Failure("No " + path + ": start `coffre server --dev --data-dir " + *data_dir +
                    "` first; it writes the file once it accepts requests.");
    }
    std::ostringstream text;
    text << file.rdbuf();
    std::cout << text.str() << std::flush;
    return 0;
  });
}

}  // namespace coffre::cli
