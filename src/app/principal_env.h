// The environment lines a new principal's user pastes into a shell so that an Azure SDK signs in
// as it with client credentials (ADFS flavour: tenant "adfs", authority = the Coffre server).
#pragma once

#include <string>

namespace coffre::app {

// Printed before the lines.
inline constexpr const char* kPrincipalEnvHeading =
    "# To use this principal with an Azure SDK (client credentials), run:\n";

// "export AZURE_TENANT_ID=adfs\n export AZURE_CLIENT_ID=...\n ..." (four lines, shell-quoted
// where needed). `authority_host` is https://HOST:PORT of the server.
std::string PrincipalEnvLines(const std::string& client_id, const std::string& client_secret,
                              const std::string& authority_host);

// The server's https://localhost:PORT from DATA_DIR/dev.env (COFFRE_SERVER), for the offline
// commands; "https://localhost:8443" (the default port) when the data dir has no dev.env.
std::string AuthorityHostFromDataDir(const std::string& data_dir);

}  // namespace coffre::app
