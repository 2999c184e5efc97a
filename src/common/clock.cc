#include "common/clock.h"

#include <cassert>

namespace coffre {

int64_t SystemClock::NowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Clock::MonotonicTime SystemClock::Monotonic() const { return std::chrono::steady_clock::now(); }

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

int64_t ManualClock::NowSeconds() const {
  std::lock_guard lock(mutex_);
  return seconds_;
}

Clock::MonotonicTime ManualClock::Monotonic() const {
  std::lock_guard lock(mutex_);
  return MonotonicTime(std::chrono::duration_cast<MonotonicTime::duration>(monotonic_));
}

void ManualClock::Set(int64_t now_seconds) {
  std::lock_guard lock(mutex_);
  seconds_ = now_seconds;
  fraction_ = {};
}

void ManualClock::Advance(std::chrono::nanoseconds elapsed) {
  assert(elapsed.count() >= 0);
  std::lock_guard lock(mutex_);
  monotonic_ += elapsed;
  // Wall time advances by whole seconds once the fractions add up to one.
  fraction_ += elapsed;
  const auto whole = std::chrono::duration_cast<std::chrono::seconds>(fraction_);
  seconds_ += whole.count();
  fraction_ -= whole;
}

}  // namespace coffre
