// Options of KeyClient and CryptographyClient.
#pragma once

#include <string>

#include "coffre/core/client_options.h"

namespace coffre::keys {

struct KeyClientOptions : core::ClientOptions {
  // The api-version query parameter sent with every request.
  std::string ApiVersion{"7.5"};
  // The 401 challenge names the resource to get a token for; by default its host must be a
  // suffix of the vault host (vault dev.localhost:8443 -> resource https://localhost:8443), so
  // a server cannot make the client fetch tokens for an unrelated audience. Turn the check off
  // only for vault URLs that cannot pass it (e.g. https://localhost:8443).
  bool DisableChallengeResourceVerification = false;
};

}  // namespace coffre::keys
