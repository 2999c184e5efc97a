// coffre: the server and its command-line tools.
#include <CLI/CLI.hpp>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Coffre: a self-hosted key management service with the Azure Key Vault API"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();

  coffre::app::ServerConfig server;
  auto* server_cmd = app.add_subcommand("server", "Run the Key Vault server");
  server_cmd->add_option("--data-dir", server.data_dir, "Where keys and settings are kept")
      ->capture_default_str();
  server_cmd->add_option("--port", server.https_port, "HTTPS port")->capture_default_str();
  server_cmd->add_option("--http-port", server.http_port,
                         "Plain-HTTP port on loopback (health, managed identity, proxy)")
      ->capture_default_str();
  server_cmd->add_option("--bind", server.bind_addresses,
                         "Address for the HTTPS listener (repeatable; default 127.0.0.1 and ::1)");
  server_cmd->add_option("--vault", server.vaults, "Create this vault too (repeatable)");
  server_cmd->add_flag("--dev", server.dev,
                       "Dev mode: dev CA and certificate, vault 'dev', managed identity, dev.env");
  server_cmd->add_option("--master-key-file", server.master_key_file,
                         "Master key file (default DATA_DIR/master.key)");
  server_cmd->add_option("--tls-cert", server.tls_cert_file, "TLS certificate chain (PEM)");
  server_cmd->add_option("--tls-key", server.tls_key_file, "TLS private key (PEM)");
  server_cmd->add_option("--io-threads", server.io_threads, "I/O threads (default: one per core)");
  server_cmd->add_option("--audit-dir", server.audit_dir, "Audit log directory (default DATA_DIR/audit)");

  std::vector<std::string> audit_files;
  auto* audit_cmd = app.add_subcommand("audit", "Work with the audit log");
  audit_cmd->require_subcommand(1);
  auto* audit_verify = audit_cmd->add_subcommand("verify", "Check the hash chain of audit files");
  audit_verify->add_option("files", audit_files, "Audit files, oldest first")->required();

  std::string data_dir = "./coffre-data";
  std::string principal_name;
  auto* principal_cmd = app.add_subcommand("principal", "Manage client-credential principals");
  principal_cmd->require_subcommand(1);
  auto* principal_create = principal_cmd->add_subcommand("create", "Create a principal");
  auto* principal_list = principal_cmd->add_subcommand("list", "List principals");
  auto* principal_delete = principal_cmd->add_subcommand("delete", "Delete a principal");
  for (auto* cmd : {principal_create, principal_list, principal_delete}) {
    cmd->add_option("--data-dir", data_dir, "The server's data dir")->capture_default_str();
  }
  principal_create->add_option("--name", principal_name, "Display name")->required();
  principal_delete->add_option("--name", principal_name, "Display name")->required();

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (server_cmd->parsed()) return coffre::app::RunServer(server);
  if (principal_create->parsed()) {
    return coffre::app::CreatePrincipalCommand(data_dir, principal_name);
  }
  if (audit_verify->parsed()) return coffre::app::VerifyAuditCommand(audit_files);
  if (principal_list->parsed()) return coffre::app::ListPrincipalsCommand(data_dir);
  if (principal_delete->parsed()) {
    return coffre::app::DeletePrincipalCommand(data_dir, principal_name);
  }
  return EXIT_FAILURE;
}
