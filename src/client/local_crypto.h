// Public-key cryptography done locally with OpenSSL (EVP): RSA encryption and RS/PS/ES
// signature verification with a key's public JWK parts, plus the digests of SignData/VerifyData.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "coffre/keys/key_client_models.h"

namespace coffre::keys::cryptography::_detail {

// RSA1_5, RSA-OAEP (SHA-1) or RSA-OAEP-256 with an RSA key. nullopt when this key/algorithm
// pair is not supported locally or the input is not acceptable (the service then decides).
std::optional<std::vector<uint8_t>> LocalRsaEncrypt(const JsonWebKey& key,
                                                    std::string_view algorithm,
                                                    const std::vector<uint8_t>& plaintext);

// RS256/384/512, PS256/384/512 (salt = hash length) with RSA keys; ES256/ES256K/ES384/ES512 with
// the matching curve, `signature` being raw r||s as Key Vault produces it. nullopt when not
// supported locally (wrong key type or curve, digest of the wrong length).
std::optional<bool> LocalVerify(const JsonWebKey& key, std::string_view algorithm,
                                const std::vector<uint8_t>& digest,
                                const std::vector<uint8_t>& signature);

// Raw r||s (two equal halves) to a DER ECDSA-Sig-Value; nullopt for an odd or empty input.
std::optional<std::vector<uint8_t>> EcdsaRawToDer(const std::vector<uint8_t>& raw);

// The hash a signature algorithm signs (SHA-256/384/512); throws std::invalid_argument for an
// algorithm without one.
std::vector<uint8_t> DigestFor(std::string_view algorithm, const std::vector<uint8_t>& data);

// 16 random bytes (CBC initialisation vectors).
std::vector<uint8_t> RandomIv();

}  // namespace coffre::keys::cryptography::_detail
