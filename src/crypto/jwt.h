// Compact JWS with ES256 (P-256, raw r||s signature), for the server's access tokens.
#pragma once

#include <string>
#include <string_view>

#include "coffre/status.h"
#include "crypto/asymmetric_key.h"

namespace coffre::crypto {

// header = {"alg":"ES256","typ":"JWT","kid":key_id}; payload_json is used as given.
Result<std::string> SignJwtEs256(const AsymmetricKey& key, std::string_view key_id,
                                 std::string_view payload_json);

// Checks the structure (three base64url parts, size <= 16 KiB), that the header's alg is ES256
// (nothing else, never "none") and the signature with `key`. Returns the payload JSON text.
// Claims (time, audience) are the caller's to check.
Result<std::string> VerifyJwtEs256(const AsymmetricKey& key, std::string_view token);

// ECDSA signature format conversion: DER SEQUENCE{r,s} <-> raw r||s with fixed-length halves.
Result<Bytes> EcdsaDerToRaw(ByteSpan der, size_t half_size);
Result<Bytes> EcdsaRawToDer(ByteSpan raw);

}  // namespace coffre::crypto
