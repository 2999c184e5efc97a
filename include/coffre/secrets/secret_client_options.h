// Options of SecretClient.
#pragma once

#include <string>

#include "coffre/core/client_options.h"

namespace coffre::secrets {

struct SecretClientOptions : core::ClientOptions {
  // The api-version query parameter sent with every request.
  std::string ApiVersion{"7.5"};
  // As for KeyClientOptions: the 401 challenge's resource must belong to the vault's domain
  // unless this is set (only for vault URLs that cannot pass, e.g. https://localhost:8443).
  bool DisableChallengeResourceVerification = false;
};

}  // namespace coffre::secrets
