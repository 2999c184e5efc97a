// Clock decorators. ForwardingClock passes every reading to the clock it wraps; a decorator
// derives from it and overrides only the readings it changes, so a reading added to Clock later
// keeps working through every decorator.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/clock.h"

namespace coffre {

class ForwardingClock : public Clock {
 public:
  explicit ForwardingClock(const Clock& inner) : inner_(inner) {}
  int64_t NowSeconds() const override { return inner_.NowSeconds(); }
  MonotonicTime Monotonic() const override { return inner_.Monotonic(); }

 protected:
  const Clock& inner() const { return inner_; }

 private:
  const Clock& inner_;
};

// Wall time moved by an offset that can change while the server runs: the test harness's
// "time travel" (coffre dev time advance 30d). Monotonic time is not moved: it measures cache
// ages and throttling windows, which must keep their real length whatever the wall clock says.
class OffsetClock final : public ForwardingClock {
 public:
  using ForwardingClock::ForwardingClock;

  int64_t NowSeconds() const override;

  int64_t offset_seconds() const { return offset_.load(std::memory_order_relaxed); }
  void SetOffset(int64_t seconds) { offset_.store(seconds, std::memory_order_relaxed); }
  // Moves the clock forward (or back, when negative) by `seconds`.
  void Advance(int64_t seconds) { offset_.fetch_add(seconds, std::memory_order_relaxed); }
  // Makes NowSeconds() read `now_seconds` at this instant, running on from there.
  void SetNow(int64_t now_seconds) { SetOffset(now_seconds - inner().NowSeconds()); }
  void Reset() { SetOffset(0); }

 private:
  std::atomic<int64_t> offset_{0};
};

}  // namespace coffre
