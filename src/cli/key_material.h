// Key material for `coffre key import --file`: a JSON Web Key (RFC 7517) or a PEM private key
// (RSA or EC, PKCS#8 or traditional, optionally encrypted).
#pragma once

#include <string>

#include "coffre/keys/key_client_models.h"

namespace coffre::cli {

// Throws CliError: usage error for an unreadable or unsupported file.
keys::JsonWebKey LoadKeyMaterial(const std::string& path, const std::string& pem_password);

}  // namespace coffre::cli
