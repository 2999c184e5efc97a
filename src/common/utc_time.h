// UTC times as ISO 8601 text, written once for every layer that reads or prints them (the CLI,
// the test-harness clock, the Resource Manager surface).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace coffre {

// "2027-01-01T00:00:00Z", "2027-01-01T00:00:00+02:00", "2027-01-01T00:00", "2027-01-01" (no
// offset means UTC; fractions of a second are dropped). Seconds since the epoch, nullopt when
// malformed.
std::optional<int64_t> ParseUtcTime(std::string_view text);

// "2027-01-01T00:00:00Z".
std::string FormatUtcTime(int64_t unix_seconds);

}  // namespace coffre
