// Clock: the seam through which every layer reads the time, so tests can move it.
//
// Two readings: wall time (what is written into keys, tokens and the store) and monotonic time
// (how long something has been cached). Only the monotonic one is safe for measuring intervals:
// wall time may jump when the host's clock is set.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace coffre {

class Clock {
 public:
  using MonotonicTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual int64_t NowSeconds() const = 0;
  // A point on a clock that never goes back; only differences between two readings mean
  // anything.
  virtual MonotonicTime Monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowSeconds() const override;
  MonotonicTime Monotonic() const override;
  static SystemClock& Instance();
};

// A clock that only moves when told to (tests). Advance moves wall and monotonic time together;
// Set moves wall time alone (a host whose clock was set), so it may go back.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_seconds) : seconds_(now_seconds) {}
  int64_t NowSeconds() const override;
  MonotonicTime Monotonic() const override;
  void Set(int64_t now_seconds);
  void Advance(int64_t seconds) { Advance(std::chrono::seconds(seconds)); }
  // Not negative: monotonic time never goes back.
  void Advance(std::chrono::nanoseconds elapsed);

 private:
  mutable std::mutex mutex_;
  int64_t seconds_;
  std::chrono::nanoseconds fraction_{0};  // of the current wall-clock second, [0, 1 s)
  std::chrono::nanoseconds monotonic_{0};
};

}  // namespace coffre
