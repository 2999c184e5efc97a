// Whether a Coffre server on this machine is up, asked before a command sends it anything.
#pragma once

#include "cli/connection.h"

namespace coffre::cli {

// For a server on this machine (localhost, NAME.localhost, 127.0.0.1, [::1]): fails within
// about 2 s, with a hint to start it, if nothing accepts connections at its port. Other hosts
// are left to the request itself (no name lookups here).
void RequireLocalServerListening(const ServerUrl& server);

}  // namespace coffre::cli
