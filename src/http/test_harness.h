// TestHarness: what a server in test-harness mode (--dev, or --test-harness) adds for people
// testing their own code against it: a movable clock, planned faults and Azure's throttling.
// A server without it has none of these: its router has no harness, and the admin API answers
// /coffre-admin/v1/dev/... with 404.
//
// Admin API (admin token):
//   GET  /coffre-admin/v1/dev/clock                the service clock and its offset
//   POST /coffre-admin/v1/dev/clock/advance        {"by": "30d"} (s, m, h, d, w; combinable)
//   POST /coffre-admin/v1/dev/clock/set            {"to": "2027-01-01T00:00:00Z"}
//   POST /coffre-admin/v1/dev/clock/reset
//   GET|POST|DELETE /coffre-admin/v1/dev/faults    list, add, clear; DELETE .../faults/{id}
//   GET  /coffre-admin/v1/dev/throttle             the limits in force, if any
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/offset_clock.h"
#include "http/api_request.h"
#include "http/fault_injector.h"
#include "http/vault_throttle.h"
#include "service/background_jobs.h"

namespace coffre::http {

struct TestHarness {
  // The clock the service layer and background jobs read (tokens keep real time); null: no
  // time control.
  std::unique_ptr<OffsetClock> clock;
  // Called once the clock moved: keeps the offset and runs a round of background jobs at once,
  // so purges and rotations due at the new time have happened when the call returns.
  std::function<service::BackgroundRunSummary(int64_t offset_seconds)> clock_moved;
  FaultInjector faults;
  std::unique_ptr<VaultThrottle> throttle;  // null: --throttle off
};

// What the harness does to one data-plane request, before its access check.
struct Intercepted {
  std::optional<ApiResponse> response;  // the answer instead of the operation's, if set
  std::chrono::milliseconds delay{0};   // how long to hold the answer back
  std::string audit_note;               // appended to the audit line's operation
};
Intercepted InterceptRequest(TestHarness& harness, std::string_view vault,
                             std::string_view operation);

// /coffre-admin/v1/dev/...: `segments` are the request path's; `harness` null answers 404.
ApiResponse HandleHarnessRequest(TestHarness* harness, const ApiRequest& request,
                                 const std::vector<std::string>& segments);

// "30d", "12h", "1d12h30m", "90s", "2w": seconds; nullopt if malformed or over 100 years.
std::optional<int64_t> ParseHarnessDuration(std::string_view text);

// Key Vault's answer to a throttled request: 429, Retry-After, code "Throttled".
ApiResponse ThrottledResponse(int64_t retry_after_seconds);

}  // namespace coffre::http
