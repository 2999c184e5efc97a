// `coffre --version` / `coffre version`, the help every command prints (its own flags, then the
// global flags it also takes, then an example), and the "did you mean" answer to an unknown
// command.
#include <openssl/crypto.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <optional>
#include <vector>

#include "cli/cli.h"
#include "coffre_version_info.h"

namespace coffre::cli {
namespace {

json::object VersionInfo() {
  return json::object{{"version", COFFRE_VERSION},
                      {"gitCommit", COFFRE_GIT_COMMIT},
                      {"buildType", COFFRE_BUILD_TYPE},
                      {"openssl", OpenSSL_version(OPENSSL_VERSION)},
                      {"sqlite", sqlite3_libversion()}};
}

std::string VersionText() {
  return std::string("coffre ") + COFFRE_VERSION + " (commit " + COFFRE_GIT_COMMIT + ", " +
         COFFRE_BUILD_TYPE + " build)\n" + OpenSSL_version(OPENSSL_VERSION) + "\nSQLite " +
         sqlite3_libversion();
}

// "key show" for the command `coffre key show`.
std::string CommandPath(const CLI::App* command) {
  std::string path;
  for (const CLI::App* c = command; c != nullptr && c->get_parent() != nullptr;
       c = c->get_parent()) {
    path = path.empty() ? c->get_name() : c->get_name() + " " + path;
  }
  return path;
}

// Hand-written examples for the commands a new user meets first; the others get one built from
// their required options.
const std::map<std::string, std::string>& Examples() {
  static const std::map<std::string, std::string> examples = {
      {"server", "coffre server --dev --data-dir ./coffre-data --port 8443 --http-port 8080"},
      {"version", "coffre version -o table"},
      {"audit", "coffre audit verify coffre-data/audit/audit-*.jsonl"},
      {"audit verify", "coffre audit verify coffre-data/audit/audit-*.jsonl"},
      {"login", "coffre login --server https://localhost:8443 --admin-token \"$TOKEN\""},
      {"logout", "coffre logout"},
      {"vault", "coffre vault create --name payments"},
      {"vault create", "coffre vault create --name payments"},
      {"vault list", "coffre vault list -o table"},
      {"vault show", "coffre vault show --name payments"},
      {"vault set-policy",
       "coffre vault set-policy --name payments --spn APP_ID --key-permissions get list create"},
      {"principal", "coffre principal create --name ci-deployer"},
      {"principal create", "coffre principal create --name ci-deployer"},
      {"principal list", "coffre principal list -o table"},
      {"principal token", "TOKEN=$(coffre principal token --name ci-deployer)"},
      {"role", "coffre role assignment list --scope /vaults/payments"},
      {"role assignment", "coffre role assignment list --scope /vaults/payments"},
      {"role assignment create",
       "coffre role assignment create --role \"Key Vault Crypto User\" --assignee APP_ID "
       "--scope /vaults/payments"},
      {"key", "coffre key create --vault-name dev --name signing --kty EC --curve P-256"},
      {"key create", "coffre key create --vault-name dev --name signing --kty EC --curve P-256"},
      {"key show", "coffre key show --vault-name dev --name signing"},
      {"key list", "coffre key list --vault-name dev -o table"},
      {"key delete", "coffre key delete --vault-name dev --name signing"},
      {"key encrypt",
       "coffre key encrypt --vault-name dev --name wrapping --algorithm RSA-OAEP-256 "
       "--value aGVsbG8="},
      {"key sign",
       "coffre key sign --vault-name dev --name signing --algorithm ES256 --digest BASE64_DIGEST"},
      {"secret", "coffre secret set --vault-name dev --name db-password --value s3cret"},
      {"secret set", "coffre secret set --vault-name dev --name db-password --value s3cret"},
      {"secret show", "coffre secret show --vault-name dev --name db-password"},
      {"secret list", "coffre secret list --vault-name dev -o table"},
      {"store", "coffre store check --data-dir ./coffre-data"},
      {"store check", "coffre store check --data-dir ./coffre-data"},
  };
  return examples;
}

std::string Placeholder(const CLI::Option* option) {
  std::string name = option->get_name(false, false);
  while (!name.empty() && name.front() == '-') name.erase(name.begin());
  std::string out;
  for (char c : name) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

std::string GeneratedExample(const CLI::App* command) {
  std::string line = "coffre " + CommandPath(command);
  auto subcommands =
      const_cast<CLI::App*>(command)->get_subcommands([](CLI::App*) { return true; });
  if (!subcommands.empty()) return line + " " + subcommands.front()->get_name() + " --help";
  for (const CLI::Option* option : command->get_options()) {
    if (!option->get_required()) continue;
    if (option->nonpositional()) {
      line += " " + option->get_name(false, false);
      if (option->get_items_expected_max() > 0) line += " " + Placeholder(option);
    } else {
      line += " " + Placeholder(option);
    }
  }
  return line;
}

// The root's options, as every subcommand takes them (they fall through to the root).
std::string GlobalOptionsText(const CLI::App& root) {
  std::string text = "Global options (any command, anywhere on the line):\n";
  for (const CLI::Option* option : root.get_options()) {
    std::string names = option->get_name(false, true);
    if (names == "-h,--help") continue;
    if (option->get_items_expected_max() > 0) names += " " + option->get_type_name();
    std::string line = "  " + names;
    line += line.size() < 30 ? std::string(30 - line.size(), ' ') : " ";
    text += line + option->get_description() + "\n";
  }
  return text;
}

void DecorateCommand(CLI::App* command, const std::string& global_options) {
  std::string path = CommandPath(command);
  auto it = Examples().find(path);
  std::string example = it != Examples().end() ? it->second : GeneratedExample(command);
  // A footer the command set itself (e.g. the server's environment variables) comes first.
  std::string own = command->get_footer();
  command->footer((own.empty() ? std::string() : "\n" + own + "\n") + "\n" + global_options +
                  "\nExample:\n  " + example);
  for (CLI::App* sub : command->get_subcommands([](CLI::App*) { return true; })) {
    DecorateCommand(sub, global_options);
  }
}

// Optimal string alignment distance: edits, with a swap of neighbours counted as one ("kye").
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The option `token` names on `command` or, as options fall through, on one of its parents.
const CLI::Option* FindOption(const CLI::App* command, const std::string& token) {
  for (const CLI::App* c = command; c != nullptr; c = c->get_parent()) {
    if (const CLI::Option* option = c->get_option_no_throw(token)) return option;
  }
  return nullptr;
}

}  // namespace

void AddVersionCommand(CLI::App& app, Cli& cli) {
  app.add_flag_callback(
      "--version",
      [] {
        std::cout << VersionText() << std::endl;
        throw CLI::Success();
      },
      "Print the version, git commit, build type, OpenSSL and SQLite versions, and exit");
  auto* version = app.add_subcommand(
      "version", "Show the version, git commit, build type, OpenSSL and SQLite versions");
  cli.OnRun(version, [&cli] {
    cli.Print(VersionInfo());
    return 0;
  });
}

void DecorateHelp(CLI::App& app) {
  const std::string global_options = GlobalOptionsText(app);
  app.footer(
      "\nExample:\n  coffre key create --vault-name dev --name first-key\n\n"
      "Run `coffre COMMAND --help` for a command's flags.");
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    DecorateCommand(sub, global_options);
  }
}

std::optional<std::string> UnknownCommand(CLI::App& app, int argc, char** argv) {
  const CLI::App* command = &app;
  for (int i = 1; i < argc; ++i) {
    std::string token = argv[i];
    if (token == "--") break;
    if (token.size() > 1 && token[0] == '-') {
      if (token.find('=') != std::string::npos) continue;
      const CLI::Option* option = FindOption(command, token);
      if (option != nullptr && option->get_items_expected_max() > 0) ++i;  // its value
      continue;
    }
    auto subcommands =
        const_cast<CLI::App*>(command)->get_subcommands([](CLI::App*) { return true; });
    if (subcommands.empty()) return std::nullopt;  // a leaf's own arguments
    const CLI::App* next = nullptr;
    std::string nearest;
    size_t nearest_distance = SIZE_MAX;
    for (const CLI::App* sub : subcommands) {
      if (sub->check_name(token)) next = sub;
      size_t distance = EditDistance(AsciiLower(token), sub->get_name());
      if (distance < nearest_distance) {
        nearest_distance = distance;
        nearest = sub->get_name();
      }
    }
    if (next != nullptr) {
      command = next;
      continue;
    }
    std::string group =
        command->get_parent() == nullptr ? "coffre" : "coffre " + CommandPath(command);
    std::string message = "'" + token + "' is not a command of '" + group + "'.";
    // Close enough to be a typo: at most a third of the word (and at least one edit) differs.
    if (nearest_distance <= std::max<size_t>(1, token.size() / 3)) {
      message += " Did you mean '" + nearest + "'?";
    }
    return message + "\nSee '" + group + " --help'.";
  }
  return std::nullopt;
}

}  // namespace coffre::cli
