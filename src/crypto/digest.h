// Hashes and constant-time comparison.
#pragma once

#include <array>
#include <string_view>

#include "common/bytes.h"

namespace coffre::crypto {

std::array<uint8_t, 32> Sha256(ByteSpan data);
// HKDF-SHA256 (RFC 5869) with an empty salt: derives purpose-bound subkeys from a master key.
SecureBytes HkdfSha256(ByteSpan input_key, std::string_view info, size_t length);

// Constant-time for equal lengths; different lengths compare unequal (length is not secret).
bool ConstantTimeEquals(ByteSpan a, ByteSpan b);
inline bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return ConstantTimeEquals(AsBytes(a), AsBytes(b));
}

}  // namespace coffre::crypto
