// `coffre user ...` (user_command.cc).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli.h"

namespace coffre::cli {

void AddUserCommands(CLI::App& app, Cli& cli);

}  // namespace coffre::cli
