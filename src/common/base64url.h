// Base64url (RFC 4648 §5). Key Vault emits it unpadded and accepts it leniently.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace coffre {

// Unpadded base64url.
std::string Base64UrlEncode(ByteSpan data);
// Accepts base64url or standard base64, with or without '=' padding. Rejects any other
// character, misplaced padding, and impossible lengths (length % 4 == 1).
std::optional<Bytes> Base64UrlDecode(std::string_view text);
// Same, into a wiping buffer (for private key parts).
std::optional<SecureBytes> Base64UrlDecodeSecure(std::string_view text);
// Standard base64 with padding (PEM bodies).
std::string Base64Encode(ByteSpan data);

std::string HexEncode(ByteSpan data);

}  // namespace coffre
