// Which vault and key a `coffre key ...` command addresses (see vault_object.h), and the
// KeyClient that talks to it.
#pragma once

#include <string>

#include "cli/cli.h"
#include "cli/connection.h"
#include "cli/vault_object.h"
#include "coffre/keys/key_client.h"

namespace coffre::cli {

using KeyAddress = ObjectAddress;
using KeyTarget = ObjectTarget;

// Adds --vault-name, --id, --vault-domain and, when asked, -n/--name and --version.
void AddKeyAddressOptions(CLI::App* command, KeyAddress& address, bool with_name,
                          bool with_version);

// Usage errors (exit 2) when the vault cannot be told or a needed name is missing.
KeyTarget ResolveKeyTarget(const Cli& cli, const KeyAddress& address, bool need_name);

keys::KeyClient MakeKeyClient(const KeyTarget& key);

// `coffre key encrypt|decrypt|sign|verify|random` (key_crypto_command.cc).
void AddKeyCryptoCommands(CLI::App* key, Cli& cli);

}  // namespace coffre::cli
