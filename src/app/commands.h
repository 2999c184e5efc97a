// The commands `coffre` runs, independent of how the command line is parsed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace coffre::app {

struct ServerConfig {
  std::string data_dir = "./coffre-data";
  uint16_t https_port = 8443;
  uint16_t http_port = 8080;
  std::vector<std::string> bind_addresses;  // empty: 127.0.0.1 and ::1
  std::vector<std::string> vaults;
  bool dev = false;
  bool arm = false;             // the Resource Manager surface (always on with dev)
  std::string master_key_file;  // empty: DATA_DIR/master.key
  std::string tls_cert_file;    // required without --dev
  std::string tls_key_file;
  int io_threads = 0;
  std::string audit_dir;                       // empty: DATA_DIR/audit
  size_t audit_file_bytes = 64 * 1024 * 1024;  // an audit file is rotated past this size
  // Failed sign-ins per client address (and per client id) per minute before 429s.
  int max_failed_sign_ins = 20;
  std::string storage;  // empty: SQLite in DATA_DIR; or sqlite:PATH, postgresql://...
  // Test-harness mode (time control, faults, throttling): always in --dev; otherwise only with
  // --test-harness, so a production server never has it by accident.
  bool test_harness = false;
  std::string throttle = "off";  // azure, off, or a factor for Azure's limits
  std::string log_level = "info";   // trace, debug, info (one line per request), warn, error
  std::string log_format = "text";  // text or json
};

// Runs the server until SIGINT/SIGTERM. Returns the process exit code.
int RunServer(const ServerConfig& config);

// `coffre principal create --name N`: creates a principal in the data dir's store and prints
// {"appId","password","tenant","displayName","objectId"} (the password only this once).
int CreatePrincipalCommand(const std::string& data_dir, const std::string& name);
int ListPrincipalsCommand(const std::string& data_dir);
int DeletePrincipalCommand(const std::string& data_dir, const std::string& name);

// `coffre audit verify FILE...`: checks the hash chain; prints the first bad line and returns
// non-zero on damage.
// Where `coffre audit verify` finds the chain key and the anchored head: the server's data dir
// (master key, store) and audit dir, as the server was started with.
struct AuditVerifyConfig {
  std::vector<std::string> files;
  std::string data_dir;   // empty: the parent of the files' directory, if it holds master.key
  std::string audit_dir;  // empty: DATA_DIR/audit
  std::string storage;
  std::string master_key_file;
};
int VerifyAuditCommand(const AuditVerifyConfig& config);

}  // namespace coffre::app
