// SignInThrottle: counts failed sign-ins (wrong client secrets, admin tokens, identity headers)
// per client address and per client id, so guessing is slowed down and a flood of wrong
// client secrets stops costing a password hash each.
//
// Fixed windows on the injectable Clock's monotonic time. An address past its limit is refused
// until its window ends. A client id past its limit is refused only from addresses that have
// failed themselves in the current window: a caller with the right secret from another address
// is not locked out by someone else's guessing.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/clock.h"
#include "common/lru_cache.h"

namespace coffre::auth {

class SignInThrottle {
 public:
  struct Limits {
    int failures_per_address = 10;
    int failures_per_client = 20;
    std::chrono::seconds window{60};
  };

  explicit SignInThrottle(const Clock& clock) : SignInThrottle(clock, Limits{}) {}
  SignInThrottle(const Clock& clock, Limits limits) : clock_(clock), limits_(limits) {}

  // 0 if a sign-in from `address` (as `client_id`, empty if none) may be attempted now; else the
  // whole seconds to wait (the Retry-After value).
  int64_t RetryAfterSeconds(std::string_view address, std::string_view client_id) const;
  // Counts a failed sign-in.
  void RecordFailure(std::string_view address, std::string_view client_id);

 private:
  struct Window {
    Clock::MonotonicTime start;
    int failures = 0;
  };
  // Failures in the current window of `key`'s counter, and when that window ends.
  std::pair<int, Clock::MonotonicTime> Current(LruCache<Window>& counters,
                                               std::string_view key) const;
  void Count(LruCache<Window>& counters, std::string_view key);

  const Clock& clock_;
  const Limits limits_;
  // Bounded: an attacker spraying addresses or ids evicts old entries, never grows memory.
  mutable LruCache<Window> by_address_{16384};
  mutable LruCache<Window> by_client_{16384};
  std::mutex mutex_;  // read-modify-write of a counter
};

}  // namespace coffre::auth
