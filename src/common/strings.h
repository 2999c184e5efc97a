// Small string helpers shared by every layer.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace coffre {

// ASCII lowercase (Key Vault names and hosts compare case-insensitively in ASCII).
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

}  // namespace coffre
