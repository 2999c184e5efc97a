// `coffre server`: runs the Key Vault server.
#include "app/commands.h"
#include "app/data_dir_lock.h"
#include "cli/cli.h"

namespace coffre::cli {

void AddServerCommand(CLI::App& app, Cli& cli) {
  auto config = std::make_shared<app::ServerConfig>();
  auto* cmd = app.add_subcommand("server", "Run the Key Vault server");
  cmd->add_option("--data-dir", config->data_dir, "Where keys and settings are kept")
      ->capture_default_str();
  cmd->add_option("--port", config->https_port, "HTTPS port")->capture_default_str();
  cmd->add_option("--http-port", config->http_port,
                  "Plain-HTTP port on loopback (health, managed identity, proxy)")
      ->capture_default_str();
  cmd->add_option("--bind", config->bind_addresses,
                  "Address for the HTTPS listener (repeatable; default 127.0.0.1 and ::1)");
  cmd->add_option("--vault", config->vaults, "Create this vault too (repeatable)");
  cmd->add_flag("--dev", config->dev,
                "Dev mode: dev CA and certificate, vault 'dev', managed identity, dev.env");
  cmd->add_option("--storage", config->storage,
                  "Store URL: sqlite:PATH or postgresql://... (default SQLite in DATA_DIR)");
  cmd->add_option("--master-key-file", config->master_key_file,
                  "Master key file (default DATA_DIR/master.key)");
  cmd->add_option("--tls-cert", config->tls_cert_file, "TLS certificate chain (PEM)");
  cmd->add_option("--tls-key", config->tls_key_file, "TLS private key (PEM)");
  cmd->add_option("--io-threads", config->io_threads, "I/O threads (default: one per core)");
  cmd->add_option("--audit-dir", config->audit_dir, "Audit log directory (default DATA_DIR/audit)");
  cmd->add_option("--audit-file-bytes", config->audit_file_bytes,
                  "Start a new audit file once the current one reaches this size")
      ->check(CLI::Range(size_t{4096}, size_t{1} << 40))
      ->capture_default_str();
  cli.OnRun(cmd, [config] {
    // Held until the server has stopped: one server per data dir.
    auto lock = app::DataDirLock::Acquire(AbsolutePath(config->data_dir));
    if (!lock.ok()) throw Failure(lock.status().message());
    return app::RunServer(*config);
  });
}

}  // namespace coffre::cli
