// Shared plumbing of the `coffre` command line: the parsed global options, the action a
// subcommand selects, errors with their exit codes, and output (az-style JSON or a table).
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coffre::cli {

namespace json = boost::json;

// Exit codes, as az uses them: 1 for a failed request, 2 for a command line that cannot work.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// An error to report as "ERROR: <message>" with an exit code.
class CliError : public std::runtime_error {
 public:
  CliError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// The command line cannot be carried out as given (missing or conflicting options, bad values).
inline CliError UsageError(const std::string& message) { return CliError(kExitUsage, message); }
// Something failed while carrying it out.
inline CliError Failure(const std::string& message) { return CliError(kExitFailure, message); }

// The service answered with an error: printed like az, "(Code) Message".
class ServiceError : public CliError {
 public:
  ServiceError(std::string code, const std::string& message)
      : CliError(kExitFailure, code.empty() ? message : "(" + code + ") " + message),
        code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// Options that every command accepts (they sit on the root command, which subcommands fall
// through to, so they may be given anywhere on the line).
struct GlobalOptions {
  std::string server;       // --server
  std::string admin_token;  // --admin-token
  std::string ca_file;      // --ca-file
  std::string output = "json";
  std::string log_level = "info";
};

// Turns a JSON object into table cells (header, value), for `-o table`.
using TableRow =
    std::function<std::vector<std::pair<std::string, json::value>>(const json::object&)>;

struct Cli {
  GlobalOptions global;
  // Set by the callback of the subcommand that was given; run after parsing succeeded.
  std::function<int()> action;

  // Makes `run` the action when `command` is parsed.
  void OnRun(CLI::App* command, std::function<int()> run);

  // Prints a result in the chosen output format. `row` picks the table columns (default: the
  // top-level scalar fields, as az does).
  void Print(const json::value& value, const TableRow& row = nullptr) const;
};

// ---- command groups (one file each) --------------------------------------------------------

void AddServerCommand(CLI::App& app, Cli& cli);
void AddAuditCommands(CLI::App& app, Cli& cli);
void AddLoginCommands(CLI::App& app, Cli& cli);
void AddVaultCommands(CLI::App& app, Cli& cli);
void AddPrincipalCommands(CLI::App& app, Cli& cli);
void AddRoleCommands(CLI::App& app, Cli& cli);
void AddKeyCommands(CLI::App& app, Cli& cli);
void AddSecretCommands(CLI::App& app, Cli& cli);
void AddDevCommands(CLI::App& app, Cli& cli);
// `coffre dev time|fault` (dev_harness_command.cc), under `coffre dev`.
void AddDevHarnessCommands(CLI::App* dev, Cli& cli);
// `coffre store check` runs while parsing (store_command.cc) and needs no Cli.
void AddStoreCommands(CLI::App& app);
// `coffre --version` and `coffre version` (help_command.cc).
void AddVersionCommand(CLI::App& app, Cli& cli);
// Called once every command exists: each command's help ends with the global options and an
// example.
void DecorateHelp(CLI::App& app);
// When the command line names a command that does not exist ("coffre kye"), the message that
// says so and suggests the nearest one; nullopt otherwise.
std::optional<std::string> UnknownCommand(CLI::App& app, int argc, char** argv);

// ---- helpers -------------------------------------------------------------------------------

// Pretty JSON with sorted keys and two-space indentation, like `az ... -o json`.
std::string PrettyJson(const json::value& value);
// The default table row: top-level scalars, headers capitalised ("recoveryId" -> "RecoveryId").
std::vector<std::pair<std::string, json::value>> ScalarFields(const json::object& object);

// Standard base64 with padding (what az prints), and a lenient decoder (standard or URL-safe
// alphabet, padded or not; nullopt on anything else).
std::string Base64Encode(const std::vector<uint8_t>& bytes);
std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text);
std::string HexEncode(const std::vector<uint8_t>& bytes);
std::optional<std::vector<uint8_t>> HexDecode(std::string_view text);

// "2027-01-01T00:00:00+00:00", the way az prints times.
std::string FormatTime(int64_t unix_seconds);

// "true"/"false" (also yes/no, 1/0) for options like --enabled; usage error otherwise.
bool ParseBoolOption(const std::string& option, const std::string& value);

std::string ReadFileOrThrow(const std::string& path);
void WriteFileOrThrow(const std::string& path, const std::string& data);

std::string GetEnv(const char* name);
std::string AbsolutePath(const std::string& path);
// RFC 3986 percent-encoding of everything but unreserved characters (URL path segments).
std::string PercentEncode(std::string_view text);
std::string AsciiLower(std::string_view text);

}  // namespace coffre::cli
