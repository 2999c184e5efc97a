#include "cli/key_target.h"

namespace coffre::cli {

void AddKeyAddressOptions(CLI::App* command, KeyAddress& address, bool with_name,
                          bool with_version) {
  AddObjectAddressOptions(command, address, kKeyObject, with_name, with_version);
}

KeyTarget ResolveKeyTarget(const Cli& cli, const KeyAddress& address, bool need_name) {
  return ResolveObjectTarget(cli, address, kKeyObject, need_name);
}

keys::KeyClient MakeKeyClient(const KeyTarget& key) {
  keys::KeyClientOptions options;
  options.Transport = key.target.transport;
  options.ApplicationId = "coffre-cli";
  return keys::KeyClient(key.vault_url, MakeCredential(key.target), options);
}

}  // namespace coffre::cli
