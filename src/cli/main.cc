// coffre: the server and its command-line tools. Each command group lives in its own file
// (server, audit, store, login, vault, principal, role, key, secret, dev); this file parses and
// reports errors.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/cli.h"
#include "coffre/core/credentials.h"
#include "coffre/core/exception.h"
#include "coffre/core/http.h"
#include "coffre/identity/identity.h"

namespace {

int Report(const std::string& message, int exit_code) {
  std::cerr << "ERROR: " << message << std::endl;
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  using coffre::cli::kExitFailure;
  using coffre::cli::kExitUsage;

  // Named, so that help says "coffre ..." however the binary was started.
  CLI::App app{"Coffre: a self-hosted key management service with the Azure Key Vault API",
               "coffre"};
  // Global options may follow any subcommand (`coffre key show ... -o table`), as with az;
  // subcommands inherit this setting when they are created, so it comes first.
  app.fallthrough();
  app.require_subcommand(1);
  coffre::cli::Cli cli;
  app.add_option("--log-level", cli.global.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("-o,--output", cli.global.output, "Output format: json, table, tsv or none")
      ->check(CLI::IsMember({"json", "table", "tsv", "none"}))
      ->capture_default_str();
  app.add_option("--server", cli.global.server,
                 "Coffre server, https://HOST:PORT (default $COFFRE_SERVER, then `coffre login`)");
  app.add_option("--admin-token", cli.global.admin_token,
                 "Admin API token (default $COFFRE_ADMIN_TOKEN, then `coffre login`)");
  app.add_option("--ca-file", cli.global.ca_file,
                 "PEM bundle of trusted CAs (default $CURL_CA_BUNDLE, then $SSL_CERT_FILE)");

  coffre::cli::AddServerCommand(app, cli);
  coffre::cli::AddAuditCommands(app, cli);
  coffre::cli::AddLoginCommands(app, cli);
  coffre::cli::AddVaultCommands(app, cli);
  coffre::cli::AddPrincipalCommands(app, cli);
  coffre::cli::AddRoleCommands(app, cli);
  coffre::cli::AddKeyCommands(app, cli);
  coffre::cli::AddSecretCommands(app, cli);
  coffre::cli::AddDevCommands(app, cli);
  coffre::cli::AddStoreCommands(app);
  coffre::cli::AddVersionCommand(app, cli);
  coffre::cli::DecorateHelp(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) {
      if (auto unknown = coffre::cli::UnknownCommand(app, argc, argv)) {
        return Report(*unknown, kExitUsage);
      }
    }
    int code = app.exit(e);
    // Help is a success; every other parse problem is a usage error, exit 2 as with az.
    return code == 0 ? 0 : kExitUsage;
  } catch (const coffre::cli::CliError& e) {
    return Report(e.what(), e.exit_code());
  }
  spdlog::set_level(spdlog::level::from_str(cli.global.log_level));
  if (!cli.action) return kExitUsage;

  try {
    return cli.action();
  } catch (const coffre::cli::CliError& e) {
    return Report(e.what(), e.exit_code());
  } catch (const coffre::core::RequestFailedException& e) {
    std::string message = e.Message.empty() ? std::string(e.what()) : e.Message;
    return Report(e.ErrorCode.empty() ? message : "(" + e.ErrorCode + ") " + message, kExitFailure);
  } catch (const coffre::identity::CredentialUnavailableException& e) {
    return Report(
        std::string("No credentials for the vault: ") + e.what() +
            "\nSource the server's dev.env, set AZURE_TENANT_ID/AZURE_CLIENT_ID/"
            "AZURE_CLIENT_SECRET, or run `coffre login --client-id ID --client-secret S`.",
        kExitFailure);
  } catch (const coffre::core::credentials::AuthenticationException& e) {
    return Report(std::string("Could not sign in: ") + e.what(), kExitFailure);
  } catch (const coffre::core::http::TransportException& e) {
    return Report(std::string("Cannot reach the server: ") + e.what(), kExitFailure);
  } catch (const std::exception& e) {
    return Report(e.what(), kExitFailure);
  }
}
