#include "cli/key_target.h"

#include <memory>
#include <vector>

namespace coffre::cli {
namespace {

struct ParsedId {
  ServerUrl vault;
  std::string name;
  std::string version;
};

// A vault URL (https://HOST[:PORT][/]) or a key id (…/keys/NAME[/VERSION], …/deletedkeys/NAME).
std::optional<ParsedId> ParseKeyId(const std::string& id) {
  const size_t authority = id.find("://");
  if (authority == std::string::npos) return std::nullopt;
  const size_t slash = id.find('/', authority + 3);
  auto vault = ParseServerUrl(id.substr(0, slash));
  if (!vault) return std::nullopt;
  ParsedId parsed{*vault, "", ""};
  if (slash == std::string::npos) return parsed;
  std::vector<std::string> segments;
  std::string path = id.substr(slash + 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.empty()) return parsed;
  if (path.find_first_of("?#") != std::string::npos) return std::nullopt;
  for (size_t start = 0;;) {
    size_t end = path.find('/', start);
    segments.push_back(path.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  const std::string collection = AsciiLower(segments[0]);
  if (segments.size() < 2 || segments.size() > 3 || segments[1].empty() ||
      (collection != "keys" && collection != "deletedkeys") ||
      (collection == "deletedkeys" && segments.size() == 3)) {
    return std::nullopt;
  }
  parsed.name = segments[1];
  if (segments.size() == 3) parsed.version = segments[2];
  return parsed;
}

}  // namespace

void AddKeyAddressOptions(CLI::App* command, KeyAddress& address, bool with_name,
                          bool with_version) {
  auto* vault = command->add_option("--vault-name", address.vault_name,
                                    "Vault name; its URL is https://NAME.DOMAIN");
  auto* id = command->add_option(
      "--id", address.id,
      with_name ? "Key id (https://VAULT-HOST/keys/NAME[/VERSION]) instead of --vault-name and "
                  "--name"
                : "Vault URL (https://VAULT-HOST) instead of --vault-name");
  vault->excludes(id);
  command->add_option("--vault-domain", address.vault_domain,
                      "Domain of --vault-name, e.g. vault.azure.net (default: HOST:PORT of "
                      "COFFRE_SERVER, i.e. NAME.localhost:PORT)");
  if (with_name) command->add_option("-n,--name", address.name, "Key name");
  if (with_version) {
    command->add_option("-v,--version", address.version, "Key version (default: the latest)");
  }
}

KeyTarget ResolveKeyTarget(const Cli& cli, const KeyAddress& address, bool need_name) {
  KeyTarget key;
  key.target = ResolveTarget(cli.global);
  key.name = address.name;
  key.version = address.version;
  if (!address.id.empty()) {
    auto parsed = ParseKeyId(address.id);
    if (!parsed) {
      throw UsageError(
          "--id must be a vault URL (https://HOST) or a key id "
          "(https://HOST/keys/NAME[/VERSION]), not '" +
          address.id + "'.");
    }
    if (!parsed->name.empty()) {
      if (!key.name.empty() && key.name != parsed->name) {
        throw UsageError("--name " + key.name + " contradicts --id " + address.id + ".");
      }
      key.name = parsed->name;
      if (key.version.empty()) key.version = parsed->version;
    }
    key.vault_url = parsed->vault.Origin();
  } else if (!address.vault_name.empty()) {
    std::string domain = address.vault_domain;
    while (!domain.empty() && (domain.front() == '.' || domain.back() == '/')) {
      domain.erase(domain.front() == '.' ? 0 : domain.size() - 1, 1);
    }
    if (domain.empty() && key.target.server) {
      const ServerUrl& server = *key.target.server;
      // Vaults are NAME.localhost[:PORT] on a Coffre server reached by address.
      domain = server.IsIpLiteral()
                   ? (server.port.empty() ? "localhost" : "localhost:" + server.port)
                   : server.HostPort();
    }
    if (domain.empty()) {
      throw UsageError("Cannot tell the URL of vault " + address.vault_name +
                       ": set COFFRE_SERVER (dev.env does), pass --vault-domain (e.g. "
                       "vault.azure.net) or give --id https://VAULT-HOST instead.");
    }
    auto url = ParseServerUrl("https://" + AsciiLower(address.vault_name) + "." + domain);
    if (!url) throw UsageError("Not a usable vault name or domain: " + address.vault_name);
    key.vault_url = url->Origin();
  } else {
    throw UsageError("Name the vault: --vault-name NAME or --id URL.");
  }
  if (need_name && key.name.empty()) throw UsageError("Name the key: --name NAME or --id KEY-ID.");
  return key;
}

keys::KeyClient MakeKeyClient(const KeyTarget& key) {
  keys::KeyClientOptions options;
  options.Transport = key.target.transport;
  options.ApplicationId = "coffre-cli";
  return keys::KeyClient(key.vault_url, MakeCredential(key.target), options);
}

}  // namespace coffre::cli
