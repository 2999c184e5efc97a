// FaultInjector: the test harness's planned failures (coffre dev fault add). A fault names a
// data-plane operation as the operations tables and the audit log name it ("Sign", "GetSecret";
// any case; "*" for every operation), optionally a vault, and what the next `count` matching
// requests get instead of their answer: an error status (429 and 503 with Retry-After), a
// delay, or a connection closed without an answer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"

namespace coffre::http {

struct FaultSpec {
  std::string operation;  // an operation name, or "*"
  std::string vault;      // empty: any vault
  int status = 0;         // 0: none (a delay alone delays the real answer)
  int retry_after = -1;   // seconds for the Retry-After header; -1: none (429: 1)
  int delay_ms = 0;
  bool close_connection = false;
  int count = 1;  // how many matching requests it applies to
};

struct Fault {
  std::string id;
  FaultSpec spec;
  int remaining = 0;
};

class FaultInjector {
 public:
  static constexpr size_t kMaxFaults = 100;
  static constexpr int kMaxCount = 1000000;
  static constexpr int kMaxDelayMs = 60000;

  // Checks the spec (known operation, sensible status, bounded counts and delays).
  Result<Fault> Add(FaultSpec spec);
  std::vector<Fault> List() const;
  void Clear();
  bool Remove(std::string_view id);

  // The fault the request applies, if one matches: its count goes down by one, and it is
  // dropped once spent. Cheap when no fault is set (one atomic load).
  std::optional<Fault> Take(std::string_view operation, std::string_view vault);

 private:
  mutable std::mutex mutex_;
  std::vector<Fault> faults_;
  std::atomic<bool> any_{false};
  uint64_t next_id_ = 1;
};

}  // namespace coffre::http
