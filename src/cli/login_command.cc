// `coffre login` / `coffre logout`: keep the server and credentials in
// $XDG_CONFIG_HOME/coffre/credentials.json so later commands need no flags.
#include <iostream>

#include "cli/cli.h"
#include "cli/connection.h"
#include "coffre/identity/identity.h"

namespace coffre::cli {
namespace {

struct LoginOptions {
  std::string client_id;
  std::string client_secret;
  std::string tenant = "adfs";
};

// Checks the credentials against the server before storing them, so a typo fails now rather
// than on the next command.
void CheckAdminToken(const Target& target) { AdminClient(target).Get("vaults"); }

void CheckClientSecret(const Target& target, const LoginOptions& options) {
  identity::ClientSecretCredentialOptions credential_options;
  credential_options.Transport = target.transport;
  credential_options.AuthorityHost = target.server->Origin();
  identity::ClientSecretCredential credential(options.tenant, options.client_id,
                                              options.client_secret, credential_options);
  core::credentials::TokenRequestContext request;
  request.Scopes = {target.server->Origin() + "/.default"};
  try {
    credential.GetToken(request, core::Context());
  } catch (const core::credentials::AuthenticationException& e) {
    throw Failure(std::string("The server refused the client credentials: ") + e.what());
  }
}

int Login(const Cli& cli, const LoginOptions& options) {
  const bool with_admin = !cli.global.admin_token.empty();
  const bool with_client = !options.client_id.empty() || !options.client_secret.empty();
  if (!with_admin && !with_client) {
    throw UsageError("Give --admin-token TOKEN, or --client-id ID and --client-secret SECRET.");
  }
  if (with_client && (options.client_id.empty() || options.client_secret.empty())) {
    throw UsageError("--client-id and --client-secret go together.");
  }
  Target target = ResolveTarget(cli.global);
  const ServerUrl& server = target.RequireServer();
  // Only what was given on this command line is checked and stored (ResolveTarget may have
  // picked up an older token from the environment or the file).
  target.admin_token = cli.global.admin_token;
  if (with_admin) CheckAdminToken(target);
  if (with_client) CheckClientSecret(target, options);

  LoginConfig config;
  // A second login to the same server adds to the first (admin token plus principal).
  if (target.login) config = *target.login;
  config.server = server.Origin();
  if (with_admin) config.admin_token = cli.global.admin_token;
  if (with_client) {
    config.client_id = options.client_id;
    config.client_secret = options.client_secret;
    config.tenant = options.tenant;
  }
  std::string ca = cli.global.ca_file;
  if (ca.empty()) ca = GetEnv("CURL_CA_BUNDLE");
  if (ca.empty()) ca = GetEnv("SSL_CERT_FILE");
  if (!ca.empty()) config.ca_file = AbsolutePath(ca);
  SaveLoginConfig(config);

  json::object out;
  out["server"] = config.server;
  out["adminToken"] = !config.admin_token.empty();
  out["clientId"] = config.client_id.empty() ? json::value() : json::value(config.client_id);
  out["tenant"] = config.client_id.empty() ? json::value() : json::value(config.tenant);
  out["caFile"] = config.ca_file.empty() ? json::value() : json::value(config.ca_file);
  out["credentialsFile"] = CredentialsPath();
  cli.Print(out);
  return 0;
}

int Logout() {
  if (RemoveLoginConfig()) {
    std::cerr << "Removed " << CredentialsPath() << std::endl;
  } else {
    std::cerr << "Not logged in (" << CredentialsPath() << " does not exist)." << std::endl;
  }
  return 0;
}

}  // namespace

void AddLoginCommands(CLI::App& app, Cli& cli) {
  auto options = std::make_shared<LoginOptions>();
  auto* login = app.add_subcommand(
      "login",
      "Store the server and credentials for later commands: --admin-token for the admin "
      "commands, --client-id/--client-secret for the key commands (used instead of the "
      "environment's credentials)");
  login->add_option("--client-id", options->client_id, "Principal's client id (appId)");
  login->add_option("--client-secret", options->client_secret, "Principal's password");
  login->add_option("--tenant", options->tenant, "Tenant for the client credentials")
      ->capture_default_str();
  login->footer("The server comes from --server, COFFRE_SERVER or an earlier login.");
  cli.OnRun(login, [&cli, options] { return Login(cli, *options); });

  auto* logout = app.add_subcommand("logout", "Remove the stored credentials");
  cli.OnRun(logout, [] { return Logout(); });
}

}  // namespace coffre::cli
