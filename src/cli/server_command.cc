// `coffre server`: runs the Key Vault server.
//
// Every flag can also come from the environment (COFFRE_PORT, COFFRE_STORAGE, ...) and from a
// TOML file (--config FILE or $COFFRE_CONFIG, keys named as the flags: `port = 8443`,
// `data-dir = "/var/lib/coffre"`, `bind = ["0.0.0.0"]`). A flag on the command line wins over the
// environment, which wins over the file, which wins over the default. `--print-config` shows the
// merged result and exits.
#include <toml++/toml.h>

#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "app/data_dir_lock.h"
#include "cli/cli.h"

namespace coffre::cli {
namespace {

struct ServerFlags {
  app::ServerConfig config;
  std::string config_file;
  bool print_config = false;
};

// The settings a config file may hold: the server's flags, without their dashes.
constexpr const char* kFileSettings[] = {"data-dir",
                                         "port",
                                         "http-port",
                                         "bind",
                                         "vault",
                                         "dev",
                                         "storage",
                                         "master-key-file",
                                         "tls-cert",
                                         "tls-key",
                                         "io-threads",
                                         "audit-dir",
                                         "audit-file-bytes",
                                         "max-failed-sign-ins"};

// A TOML basic string: "...", with quotes, backslashes and control characters escaped.
std::string TomlString(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string TomlList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + TomlString(values[i]);
  return out + "]";
}

// A PostgreSQL URL without its password (postgresql://user:SECRET@host -> user:***@host).
std::string WithoutPassword(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t at = url.find('@', scheme + 3);
  size_t colon = url.find(':', scheme + 3);
  if (at == std::string::npos || colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::string ConfigText(const app::ServerConfig& c) {
  std::string text = "# coffre server: flags > environment (COFFRE_*) > --config file > defaults\n";
  auto line = [&text](const char* key, const std::string& value) {
    text += std::string(key) + " = " + value + "\n";
  };
  line("data-dir", TomlString(c.data_dir));
  line("port", std::to_string(c.https_port));
  line("http-port", std::to_string(c.http_port));
  line("bind", TomlList(c.bind_addresses.empty() ? std::vector<std::string>{"127.0.0.1", "::1"}
                                                 : c.bind_addresses));
  line("vault", TomlList(c.vaults));
  line("dev", c.dev ? "true" : "false");
  line("storage", TomlString(c.storage.empty() ? "sqlite:" + c.data_dir + "/coffre.db"
                                               : WithoutPassword(c.storage)));
  line("master-key-file",
       TomlString(c.master_key_file.empty() ? c.data_dir + "/master.key" : c.master_key_file));
  line("tls-cert", TomlString(c.tls_cert_file));
  line("tls-key", TomlString(c.tls_key_file));
  line("io-threads", std::to_string(c.io_threads));
  line("audit-dir", TomlString(c.audit_dir.empty() ? c.data_dir + "/audit" : c.audit_dir));
  line("audit-file-bytes", std::to_string(c.audit_file_bytes));
  line("max-failed-sign-ins", std::to_string(c.max_failed_sign_ins));
  return text;
}

// One TOML value as the text a flag would have carried.
std::vector<std::string> FlagValues(const std::string& file, const std::string& key,
                                    const toml::node& node) {
  if (auto s = node.value_exact<std::string>()) return {*s};
  if (auto i = node.value_exact<int64_t>()) return {std::to_string(*i)};
  if (auto b = node.value_exact<bool>()) return {*b ? "true" : "false"};
  if (const toml::array* array = node.as_array()) {
    std::vector<std::string> out;
    for (const auto& item : *array) {
      auto s = item.value_exact<std::string>();
      if (!s) throw UsageError(file + ": '" + key + "' must be a list of strings.");
      out.push_back(*s);
    }
    return out;
  }
  throw UsageError(file + ": '" + key + "' must be a string, an integer, true/false or a list.");
}

// Fills every option the command line and the environment left unset from the TOML file.
void ApplyConfigFile(CLI::App* cmd, const std::string& file) {
  toml::table table;
  try {
    table = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    throw UsageError("Cannot read the config file " + file + " (" + where.str() +
                     "): " + std::string(e.description()));
  }
  for (const auto& [key_view, node] : table) {
    const std::string key(key_view.str());
    bool known = false;
    for (const char* setting : kFileSettings) known = known || key == setting;
    if (!known) {
      throw UsageError(file + ": unknown setting '" + key + "' (settings are named as the flags " +
                       "of `coffre server --help`, without dashes).");
    }
    CLI::Option* option = cmd->get_option("--" + key);
    if (option->count() > 0) continue;  // a flag or an environment variable set it
    try {
      for (auto& value : FlagValues(file, key, node)) option->add_result(value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw UsageError(file + ": '" + key + "': " + e.what());
    }
  }
}

}  // namespace

void AddServerCommand(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<ServerFlags>();
  app::ServerConfig& config = flags->config;
  auto* cmd = app.add_subcommand("server", "Run the Key Vault server");
  cmd->add_option("--data-dir", config.data_dir, "Where keys and settings are kept")
      ->envname("COFFRE_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--port", config.https_port, "HTTPS port")
      ->envname("COFFRE_PORT")
      ->capture_default_str();
  cmd->add_option("--http-port", config.http_port,
                  "Plain-HTTP port on loopback (health, managed identity, proxy)")
      ->envname("COFFRE_HTTP_PORT")
      ->capture_default_str();
  cmd->add_option("--bind", config.bind_addresses,
                  "Address for the HTTPS listener (repeatable; default 127.0.0.1 and ::1)")
      ->envname("COFFRE_BIND")
      ->delimiter(',');
  cmd->add_option("--vault", config.vaults, "Create this vault too (repeatable)")
      ->envname("COFFRE_VAULTS")
      ->delimiter(',');
  cmd->add_flag("--dev", config.dev,
                "Dev mode: dev CA and certificate, vault 'dev', managed identity, dev.env")
      ->envname("COFFRE_DEV");
  cmd->add_option("--storage", config.storage,
                  "Store URL: sqlite:PATH or postgresql://... (default SQLite in DATA_DIR)")
      ->envname("COFFRE_STORAGE");
  cmd->add_option("--master-key-file", config.master_key_file,
                  "Master key file (default DATA_DIR/master.key)")
      ->envname("COFFRE_MASTER_KEY_FILE");
  cmd->add_option("--tls-cert", config.tls_cert_file, "TLS certificate chain (PEM)")
      ->envname("COFFRE_TLS_CERT");
  cmd->add_option("--tls-key", config.tls_key_file, "TLS private key (PEM)")
      ->envname("COFFRE_TLS_KEY");
  cmd->add_option("--io-threads", config.io_threads, "I/O threads (default: one per core)")
      ->envname("COFFRE_IO_THREADS");
  cmd->add_option("--audit-dir", config.audit_dir, "Audit log directory (default DATA_DIR/audit)")
      ->envname("COFFRE_AUDIT_DIR");
  cmd->add_option("--max-failed-sign-ins", config.max_failed_sign_ins,
                  "Failed sign-ins (client secrets, admin tokens, identity headers) per client "
                  "address and per client id per minute before answers turn to 429")
      ->check(CLI::Range(1, 1000000))
      ->envname("COFFRE_MAX_FAILED_SIGN_INS");
  cmd->add_option("--audit-file-bytes", config.audit_file_bytes,
                  "Start a new audit file once the current one reaches this size")
      ->check(CLI::Range(size_t{4096}, size_t{1} << 40))
      ->envname("COFFRE_AUDIT_FILE_BYTES")
      ->capture_default_str();
  cmd->add_option("--config", flags->config_file,
                  "TOML file with any of these settings, named as the flags without dashes "
                  "(port = 8443, data-dir = \"/var/lib/coffre\"); flags and COFFRE_* "
                  "environment variables win over it")
      ->envname("COFFRE_CONFIG");
  cmd->add_flag("--print-config", flags->print_config,
                "Print the merged configuration (TOML) and exit");
  cmd->footer(
      "Environment: every flag also reads COFFRE_<FLAG> (COFFRE_DATA_DIR, COFFRE_PORT, "
      "COFFRE_HTTP_PORT, COFFRE_BIND and COFFRE_VAULTS as comma lists, COFFRE_DEV, "
      "COFFRE_STORAGE, COFFRE_MASTER_KEY_FILE, COFFRE_TLS_CERT, COFFRE_TLS_KEY, "
      "COFFRE_IO_THREADS, COFFRE_AUDIT_DIR, COFFRE_AUDIT_FILE_BYTES, COFFRE_MAX_FAILED_SIGN_INS, "
      "COFFRE_CONFIG).");
  cli.OnRun(cmd, [flags, cmd] {
    if (!flags->config_file.empty()) ApplyConfigFile(cmd, flags->config_file);
    if (flags->print_config) {
      std::cout << ConfigText(flags->config) << std::flush;
      return 0;
    }
    // Held until the server has stopped: one server per data dir.
    auto lock = app::DataDirLock::Acquire(AbsolutePath(flags->config.data_dir));
    if (!lock.ok()) throw Failure(lock.status().message());
    return app::RunServer(flags->config);
  });
}

}  // namespace coffre::cli
