#include "auth/sign_in_throttle.h"

#include <algorithm>
#include <mutex>

#include "common/strings.h"

namespace coffre::auth {
namespace {

// Client ids compare case-insensitively; longer values are no real client id.
constexpr size_t kMaxClientIdKey = 256;

std::string ClientKey(std::string_view client_id) {
  return AsciiLower(client_id.substr(0, kMaxClientIdKey));
}

}  // namespace

std::pair<int, Clock::MonotonicTime> SignInThrottle::Current(LruCache<Window>& counters,
                                                             std::string_view key) const {
  const Clock::MonotonicTime now = clock_.Monotonic();
  std::optional<Window> window = counters.Get(key);
  if (!window || now >= window->start + limits_.window) return {0, now};
  return {window->failures, window->start + limits_.window};
}

void SignInThrottle::Count(LruCache<Window>& counters, std::string_view key) {
  const Clock::MonotonicTime now = clock_.Monotonic();
  std::optional<Window> window = counters.Get(key);
  if (!window || now >= window->start + limits_.window) window = Window{now, 0};
  ++window->failures;
  counters.Put(std::string(key), *window);
}

int64_t SignInThrottle::RetryAfterSeconds(std::string_view address,
                                          std::string_view client_id) const {
  const Clock::MonotonicTime now = clock_.Monotonic();
  auto wait = [now](Clock::MonotonicTime until) {
    auto seconds = std::chrono::ceil<std::chrono::seconds>(until - now).count();
    return std::max<int64_t>(1, seconds);
  };
  auto [address_failures, address_until] = Current(by_address_, address);
  if (address_failures >= limits_.failures_per_address) return wait(address_until);
  if (!client_id.empty() && address_failures > 0) {
    auto [client_failures, client_until] = Current(by_client_, ClientKey(client_id));
    if (client_failures >= limits_.failures_per_client) {
      return wait(std::min(client_until, address_until));
    }
  }
  return 0;
}

void SignInThrottle::RecordFailure(std::string_view address, std::string_view client_id) {
  std::lock_guard lock(mutex_);
  Count(by_address_, address);
  if (!client_id.empty()) Count(by_client_, ClientKey(client_id));
}

}  // namespace coffre::auth
