// Salted slow hashing of client secrets and admin tokens (PBKDF2-HMAC-SHA256).
#pragma once

#include <string>
#include <string_view>

namespace coffre::crypto {

// "pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>", with a random 16-byte salt.
std::string HashSecret(std::string_view secret);
// Recomputes and compares in constant time. A malformed encoding is simply false.
bool VerifySecret(std::string_view secret, std::string_view encoded);

}  // namespace coffre::crypto
