// Key rotation policies: ISO 8601 durations, Key Vault's validation rules, and when a policy's
// triggers fall due for a key version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "store/store.h"

namespace coffre::service {

// P[nY][nM][nW][nD][T[nH][nM][nS]], each number a non-negative integer below 10,000.
struct IsoDuration {
  int64_t years = 0, months = 0, weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0;
};
std::optional<IsoDuration> ParseIsoDuration(std::string_view text);
// Calendar arithmetic in UTC: years and months move the date (the day clamped to the month's
// end), the rest are exact.
int64_t AddIsoDuration(int64_t unix_seconds, const IsoDuration& d);
int64_t SubtractIsoDuration(int64_t unix_seconds, const IsoDuration& d);

enum class LifetimeActionType { kRotate, kNotify };
enum class LifetimeTrigger { kTimeAfterCreate, kTimeBeforeExpiry };

struct LifetimeAction {
  LifetimeActionType type = LifetimeActionType::kRotate;
  LifetimeTrigger trigger = LifetimeTrigger::kTimeAfterCreate;
  std::string duration;  // ISO 8601, upper case
};

struct RotationPolicy {
  std::vector<LifetimeAction> actions;
  std::optional<std::string> expiry_time;  // ISO 8601, applied to versions made by rotation
  int64_t created = 0;
  int64_t updated = 0;
  bool is_default = false;  // no policy was ever set: the service's default is shown
};

// What GET answers for a key without a policy: notify 30 days before expiry.
RotationPolicy DefaultRotationPolicy();

// At most one Rotate and one Notify action; Notify only before expiry; every duration valid
// and at least 7 days; expiryTime at least 28 days; with expiryTime, a before-expiry trigger
// must leave at least 7 days after creation and an after-create one 7 days before expiry.
Status ValidateRotationPolicy(const RotationPolicy& policy);

store::RotationPolicyRecord ToRecord(const RotationPolicy& policy);
Result<RotationPolicy> FromRecord(const store::RotationPolicyRecord& record);

// When an action falls due for a version created at `created` that expires at `expires`
// (nullopt if it never does, for a before-expiry trigger on a key without exp).
std::optional<int64_t> ActionDueTime(const LifetimeAction& action, int64_t created,
                                     std::optional<int64_t> expires);

}  // namespace coffre::service
