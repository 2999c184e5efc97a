// Small encoders of the client: base64url, percent-encoding, request ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffre::_detail {

// Unpadded base64url (RFC 4648 section 5), as Key Vault sends binary fields.
std::string Base64UrlEncode(const uint8_t* data, size_t size);
inline std::string Base64UrlEncode(const std::vector<uint8_t>& bytes) {
  return Base64UrlEncode(bytes.data(), bytes.size());
}
inline std::string Base64UrlEncode(std::string_view text) {
  return Base64UrlEncode(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}
// Lenient: base64url or standard base64, padded or not, but nothing else.
std::optional<std::vector<uint8_t>> Base64UrlDecode(std::string_view text);

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string PercentEncode(std::string_view text);
// application/x-www-form-urlencoded value (spaces as %20, which every server accepts).
inline std::string FormEncode(std::string_view text) { return PercentEncode(text); }

// A random (version 4) UUID, for x-ms-client-request-id.
std::string NewUuid();

std::string AsciiLower(std::string_view text);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string Trim(std::string_view text);

}  // namespace coffre::_detail
