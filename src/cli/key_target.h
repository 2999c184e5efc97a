// Which vault and key a `coffre key ...` command addresses (--id, or --vault-name with
// --vault-domain or the server's host), and the KeyClient that talks to it.
#pragma once

#include <string>

#include "cli/cli.h"
#include "cli/connection.h"
#include "coffre/keys/key_client.h"

namespace coffre::cli {

struct KeyAddress {
  std::string vault_name;
  std::string id;
  std::string vault_domain;
  std::string name;
  std::string version;
};

// Adds --vault-name, --id, --vault-domain and, when asked, -n/--name and --version.
void AddKeyAddressOptions(CLI::App* command, KeyAddress& address, bool with_name,
                          bool with_version);

struct KeyTarget {
  Target target;
  std::string vault_url;  // https://HOST[:PORT]
  std::string name;       // empty for vault-wide commands
  std::string version;
};

// Usage errors (exit 2) when the vault cannot be told or a needed name is missing.
KeyTarget ResolveKeyTarget(const Cli& cli, const KeyAddress& address, bool need_name);

keys::KeyClient MakeKeyClient(const KeyTarget& key);

// `coffre key encrypt|decrypt|sign|verify|random` (key_crypto_command.cc).
void AddKeyCryptoCommands(CLI::App* key, Cli& cli);

}  // namespace coffre::cli
