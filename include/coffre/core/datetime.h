// coffre::DateTime: a point in time (system clock). Converts implicitly from and to
// std::chrono::system_clock::time_point so `now() + 24h` can be assigned to a DateTime.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace coffre {

class DateTime : public std::chrono::system_clock::time_point {
 public:
  using Base = std::chrono::system_clock::time_point;

  // The Unix epoch.
  DateTime() = default;
  DateTime(const Base& time_point) : Base(time_point) {}  // NOLINT: implicit by design

  // Key Vault sends times as integer seconds since the epoch ("IntDate").
  static DateTime FromUnixSeconds(int64_t seconds);
  int64_t ToUnixSeconds() const;

  // RFC 3339 in UTC with whole seconds, e.g. "2024-05-01T12:00:00Z".
  std::string ToString() const;
};

}  // namespace coffre
