#include "service/rotation_policy.h"

#include <cctype>
#include <chrono>

namespace coffre::service {
namespace {

constexpr int64_t kDay = 86400;
// Keeps calendar arithmetic inside std::chrono::year's range (+-32767) from any start date.
constexpr int64_t kMaxComponent = 10000;
// A fixed reference point for the minimum-length checks, so that validation does not depend on
// the current month's length.
constexpr int64_t kReferenceTime = 1704067200;  // 2024-01-01T00:00:00Z

int64_t LengthSeconds(const IsoDuration& d) {
  return AddIsoDuration(kReferenceTime, d) - kReferenceTime;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

int64_t AddCalendar(int64_t unix_seconds, int64_t sign, const IsoDuration& d) {
  using namespace std::chrono;
  sys_seconds t{seconds(unix_seconds)};
  sys_days day = floor<days>(t);
  seconds time_of_day = t - day;
  year_month_day ymd{day};
  months total = months(sign * (d.years * 12 + d.months));
  ymd += total;
  if (!ymd.ok()) ymd = ymd.year() / ymd.month() / last;  // clamp Jan 31 + 1 month to Feb 28/29
  sys_seconds moved = sys_days(ymd) + time_of_day;
  int64_t exact = (d.weeks * 7 + d.days) * kDay + d.hours * 3600 + d.minutes * 60 + d.seconds;
  return moved.time_since_epoch().count() + sign * exact;
}

}  // namespace

std::optional<IsoDuration> ParseIsoDuration(std::string_view text) {
  std::string s = Upper(text);
  if (s.size() < 3 || s.size() > 64 || s[0] != 'P') return std::nullopt;
  IsoDuration d;
  bool in_time = false;
  bool any = false;
  int last_position = -1;  // rank of the last designator, to reject repeats and bad order
  size_t i = 1;
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (in_time || i + 1 == s.size()) return std::nullopt;
      in_time = true;
      ++i;
      continue;
    }
    int64_t value = 0;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      value = value * 10 + (s[i] - '0');
      if (value >= kMaxComponent) return std::nullopt;
      ++i;
    }
    if (i == start || i == s.size()) return std::nullopt;
    char unit = s[i++];
    // Designators must come in ISO order, each at most once: Y M W D, then T H M S.
    std::string_view order = in_time ? "HMS" : "YMWD";
    size_t rank = order.find(unit);
    if (rank == std::string_view::npos) return std::nullopt;
    int position = static_cast<int>(rank) + (in_time ? 10 : 0);
    if (position <= last_position) return std::nullopt;
    last_position = position;
    if (!in_time) {
      if (unit == 'Y') d.years = value;
      else if (unit == 'M') d.months = value;
      else if (unit == 'W') d.weeks = value;
      else if (unit == 'D') d.days = value;
      else return std::nullopt;
    } else {
      if (unit == 'H') d.hours = value;
      else if (unit == 'M') d.minutes = value;
      else if (unit == 'S') d.seconds = value;
      else return std::nullopt;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return d;
}

int64_t AddIsoDuration(int64_t unix_seconds, const IsoDuration& d) {
  return AddCalendar(unix_seconds, 1, d);
}

int64_t SubtractIsoDuration(int64_t unix_seconds, const IsoDuration& d) {
  return AddCalendar(unix_seconds, -1, d);
}

RotationPolicy DefaultRotationPolicy() {
  RotationPolicy policy;
  policy.actions.push_back(
      {LifetimeActionType::kNotify, LifetimeTrigger::kTimeBeforeExpiry, "P30D"});
  policy.is_default = true;
  return policy;
}

Status ValidateRotationPolicy(const RotationPolicy& policy) {
  if (policy.actions.size() > 2) {
    return Status::BadParameter(
        "A rotation policy may have at most two lifetime actions: one Rotate and one Notify.");
  }
  int rotate = 0;
  int notify = 0;
  std::optional<int64_t> expiry;
  if (policy.expiry_time) {
    auto d = ParseIsoDuration(*policy.expiry_time);
    if (!d) return Status::BadParameter("expiryTime is not a valid ISO 8601 duration.");
    expiry = LengthSeconds(*d);
    if (*expiry < 28 * kDay) {
      return Status::BadParameter("expiryTime must be at least 28 days (P28D).");
    }
  }
  for (const auto& action : policy.actions) {
    (action.type == LifetimeActionType::kRotate ? rotate : notify)++;
    auto d = ParseIsoDuration(action.duration);
    if (!d) {
      return Status::BadParameter("The trigger time '" + action.duration.substr(0, 64) +
                                  "' is not a valid ISO 8601 duration.");
    }
    int64_t length = LengthSeconds(*d);
    if (length < 7 * kDay) {
      return Status::BadParameter("Lifetime action trigger times must be at least 7 days (P7D).");
    }
    if (action.type == LifetimeActionType::kNotify &&
        action.trigger != LifetimeTrigger::kTimeBeforeExpiry) {
      return Status::BadParameter("A Notify action must use a timeBeforeExpiry trigger.");
    }
    // Without expiryTime a before-expiry trigger applies to the exp a version was given by
    // hand (the service accepts the default Notify policy written back unchanged).
    if (action.trigger == LifetimeTrigger::kTimeBeforeExpiry && expiry) {
      if (*expiry - length < 7 * kDay) {
        return Status::BadParameter(
            "timeBeforeExpiry must leave at least 7 days between creation and the trigger.");
      }
    }
    if (action.trigger == LifetimeTrigger::kTimeAfterCreate && expiry &&
        length > *expiry - 7 * kDay) {
      return Status::BadParameter(
          "timeAfterCreate must be at least 7 days before the expiry set by expiryTime.");
    }
  }
  if (rotate > 1 || notify > 1) {
    return Status::BadParameter(
        "A rotation policy may have at most one Rotate and one Notify action.");
  }
  return Status::Ok();
}

store::RotationPolicyRecord ToRecord(const RotationPolicy& policy) {
  store::RotationPolicyRecord record;
  for (const auto& action : policy.actions) {
    record.actions.push_back(
        {action.type == LifetimeActionType::kRotate ? "Rotate" : "Notify",
         action.trigger == LifetimeTrigger::kTimeAfterCreate ? "timeAfterCreate"
                                                             : "timeBeforeExpiry",
         action.duration});
  }
  record.expiry_time = policy.expiry_time;
  record.created = policy.created;
  record.updated = policy.updated;
  return record;
}

Result<RotationPolicy> FromRecord(const store::RotationPolicyRecord& record) {
  RotationPolicy policy;
  for (const auto& a : record.actions) {
    LifetimeAction action;
    if (a.action == "Rotate") action.type = LifetimeActionType::kRotate;
    else if (a.action == "Notify") action.type = LifetimeActionType::kNotify;
    else return Status::Internal("A stored rotation policy has an unknown action.");
    if (a.trigger == "timeAfterCreate") action.trigger = LifetimeTrigger::kTimeAfterCreate;
    else if (a.trigger == "timeBeforeExpiry") action.trigger = LifetimeTrigger::kTimeBeforeExpiry;
    else return Status::Internal("A stored rotation policy has an unknown trigger.");
    action.duration = a.duration;
    policy.actions.push_back(std::move(action));
  }
  policy.expiry_time = record.expiry_time;
  policy.created = record.created;
  policy.updated = record.updated;
  return policy;
}

std::optional<int64_t> ActionDueTime(const LifetimeAction& action, int64_t created,
                                     std::optional<int64_t> expires) {
  auto d = ParseIsoDuration(action.duration);
  if (!d) return std::nullopt;
  if (action.trigger == LifetimeTrigger::kTimeAfterCreate) return AddIsoDuration(created, *d);
  if (!expires) return std::nullopt;
  return SubtractIsoDuration(*expires, *d);
}

}  // namespace coffre::service
