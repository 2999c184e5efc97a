// Percent-decoding (RFC 3986), and the form variant where '+' is a space
// (application/x-www-form-urlencoded).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace coffre {

// nullopt on a bad %-escape or a decoded NUL byte.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space);

}  // namespace coffre
