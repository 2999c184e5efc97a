// ISO 8601 durations (service/rotation_policy.h): ParseIsoDuration never crashes and accepts
// only canonical-order designators; AddIsoDuration / SubtractIsoDuration stay ordered and
// invert each other where the calendar allows, for any start time Key Vault accepts.
//
// Input: 8 bytes (big-endian start time, taken modulo 0..9999-12-31T23:59:59Z), then the text.
#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_common.h"
#include "service/rotation_policy.h"

namespace {

using coffre::service::IsoDuration;

constexpr int64_t kMaxIntDate = 253402300799;  // 9999-12-31T23:59:59Z

bool Same(const IsoDuration& a, const IsoDuration& b) {
  return a.years == b.years && a.months == b.months && a.weeks == b.weeks && a.days == b.days &&
         a.hours == b.hours && a.minutes == b.minutes && a.seconds == b.seconds;
}

std::string Format(const IsoDuration& d) {
  std::string out = "P";
  auto part = [&out](int64_t v, char unit) {
    if (v != 0) out += std::to_string(v) + unit;
  };
  part(d.years, 'Y');
  part(d.months, 'M');
  part(d.weeks, 'W');
  part(d.days, 'D');
  if (d.hours || d.minutes || d.seconds) {
    out += 'T';
    part(d.hours, 'H');
    part(d.minutes, 'M');
    part(d.seconds, 'S');
  }
  if (out == "P") out = "P0D";
  return out;
}

// Day of month (1..31) of a unix time.
int DayOfMonth(int64_t t) {
  using namespace std::chrono;
  year_month_day ymd{floor<days>(sys_seconds{seconds{t}})};
  return static_cast<int>(static_cast<unsigned>(ymd.day()));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  coffre::fuzz::Reader in(data, size);
  const int64_t t = static_cast<int64_t>(in.U64() % static_cast<uint64_t>(kMaxIntDate + 1));
  std::string text(coffre::AsChars(in.Rest()));

  auto d = coffre::service::ParseIsoDuration(text);
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto d_lower = coffre::service::ParseIsoDuration(lower);
  COFFRE_FUZZ_CHECK(d.has_value() == d_lower.has_value() && (!d || Same(*d, *d_lower)), text);
  if (!d) return 0;

  for (int64_t v : {d->years, d->months, d->weeks, d->days, d->hours, d->minutes, d->seconds}) {
    COFFRE_FUZZ_CHECK(v >= 0 && v < 10000, text);
  }
  std::string canonical = Format(*d);
  auto again = coffre::service::ParseIsoDuration(canonical);
  COFFRE_FUZZ_CHECK(again && Same(*again, *d), canonical);

  const int64_t later = coffre::service::AddIsoDuration(t, *d);
  const int64_t earlier = coffre::service::SubtractIsoDuration(t, *d);
  COFFRE_FUZZ_CHECK(later >= t && earlier <= t, text);
  if (d->years == 0 && d->months == 0) {
    // Exact durations invert exactly.
    COFFRE_FUZZ_CHECK(coffre::service::SubtractIsoDuration(later, *d) == t, text);
    COFFRE_FUZZ_CHECK(later - t == t - earlier, text);
  } else if (d->weeks == 0 && d->days == 0 && d->hours == 0 && d->minutes == 0 && d->seconds == 0 &&
             DayOfMonth(t) <= 28) {
    // Whole months from a day every month has: no clamping, so they invert too.
    COFFRE_FUZZ_CHECK(coffre::service::SubtractIsoDuration(later, *d) == t, text);
  }
  return 0;
}
