// Tests for the rotation policy model: ISO 8601 durations and their calendar arithmetic, Key
// Vault's policy validation rules, trigger due times, record conversion and the default policy.
// Expectations come from the AKV keys wire reference (akv-keys-api.md §6) and ISO 8601.
#include "service/rotation_policy.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coffre::service {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kHour = 3600;

// Seconds since the epoch of a UTC civil time (std::chrono as the calendar oracle).
int64_t Utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  using namespace std::chrono;
  sys_days date = year{y} / month{m} / day{d};
  return (sys_seconds{date} + hours{hh} + minutes{mm} + seconds{ss}).time_since_epoch().count();
}

// Days since the epoch of a proleptic Gregorian date, for any year (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

IsoDuration MustParse(const std::string& text) {
  auto d = ParseIsoDuration(text);
  EXPECT_TRUE(d.has_value()) << text;
  return d.value_or(IsoDuration{});
}

LifetimeAction Rotate(LifetimeTrigger trigger, std::string duration) {
  return {LifetimeActionType::kRotate, trigger, std::move(duration)};
}

LifetimeAction Notify(LifetimeTrigger trigger, std::string duration) {
  return {LifetimeActionType::kNotify, trigger, std::move(duration)};
}

RotationPolicy Policy(std::vector<LifetimeAction> actions,
                      std::optional<std::string> expiry = std::nullopt) {
  RotationPolicy policy;
  policy.actions = std::move(actions);
  policy.expiry_time = std::move(expiry);
  return policy;
}

constexpr auto kAfterCreate = LifetimeTrigger::kTimeAfterCreate;
constexpr auto kBeforeExpiry = LifetimeTrigger::kTimeBeforeExpiry;

// ---- ParseIsoDuration

struct ParseCase {
  std::string text;
  IsoDuration expected;
};

TEST(ParseIsoDurationTest, ParsesValidDurations) {
  const std::vector<ParseCase> cases = {
      {"P90D", {.days = 90}},
      {"P3M", {.months = 3}},
      {"PT48H", {.hours = 48}},
      {"P1Y10D", {.years = 1, .days = 10}},
      {"P18M", {.months = 18}},
      {"P2W", {.weeks = 2}},
      {"p30d", {.days = 30}},
      {"pt48h", {.hours = 48}},
      {"P2Y", {.years = 2}},
      {"P0D", {}},
      {"PT1M", {.minutes = 1}},
      {"PT30S", {.seconds = 30}},
      {"P1Y2M3DT4H5M6S",
       {.years = 1, .months = 2, .days = 3, .hours = 4, .minutes = 5, .seconds = 6}},
      {"P1M1DT1M", {.months = 1, .days = 1, .minutes = 1}},
      {"P9999D", {.days = 9999}},
      {"P007D", {.days = 7}},
  };
  for (const auto& c : cases) {
    auto d = ParseIsoDuration(c.text);
    ASSERT_TRUE(d.has_value()) << c.text;
    EXPECT_EQ(d->years, c.expected.years) << c.text;
    EXPECT_EQ(d->months, c.expected.months) << c.text;
    EXPECT_EQ(d->weeks, c.expected.weeks) << c.text;
    EXPECT_EQ(d->days, c.expected.days) << c.text;
    EXPECT_EQ(d->hours, c.expected.hours) << c.text;
    EXPECT_EQ(d->minutes, c.expected.minutes) << c.text;
    EXPECT_EQ(d->seconds, c.expected.seconds) << c.text;
  }
}

TEST(ParseIsoDurationTest, MInDatePartIsMonthsAndInTimePartIsMinutes) {
  EXPECT_EQ(MustParse("P1M").months, 1);
  EXPECT_EQ(MustParse("P1M").minutes, 0);
  EXPECT_EQ(MustParse("PT1M").minutes, 1);
  EXPECT_EQ(MustParse("PT1M").months, 0);
  IsoDuration both = MustParse("P2MT3M");
  EXPECT_EQ(both.months, 2);
  EXPECT_EQ(both.minutes, 3);
}

TEST(ParseIsoDurationTest, RejectsMalformedDurations) {
  const std::vector<std::string> bad = {
      "",      "P",      "PT",    "90D",     "P1.5D", "P-1D",   "PD",     "P1DT",      "P1H",
      "P1D1D", "PT1H1H", "P1S",   "PT1D",    "PT1Y",  "P1",     "PT1",    "P1X",       "D",
      " P1D",  "P1D ",   "P 1D",  "P1DT1H2", "PP1D",  "P1TD",   "P+1D",   "P1DTT1H",   "T1H",
      "P1D\n", "P1,5D",  "P1W1W", "P1Y1Y",   "P1M1M", "PT1M1M", "PT1S1S", "P1DT1HT1M", "P1e3D",
  };
  for (const auto& text : bad) {
    EXPECT_FALSE(ParseIsoDuration(text).has_value()) << "accepted '" << text << "'";
  }
}

TEST(ParseIsoDurationTest, RejectsDesignatorsOutOfOrder) {
  // ISO 8601 (and the header's grammar P[nY][nM][nW][nD][T[nH][nM][nS]]) fixes the order.
  for (const std::string text :
       {"P1D1Y", "P1D2M", "P1M1Y", "P1D1W", "PT1S1H", "PT1M1H", "PT1S1M"}) {
    EXPECT_FALSE(ParseIsoDuration(text).has_value()) << "accepted '" << text << "'";
  }
}

TEST(ParseIsoDurationTest, RejectsHugeNumbers) {
  for (const std::string text : {"P10000D", "P100000Y", "PT10000H", "P999999999999999999999999D",
                                 "P18446744073709551617D", "P9223372036854775808D", "P1Y10000M"}) {
    EXPECT_FALSE(ParseIsoDuration(text).has_value()) << "accepted '" << text << "'";
  }
}

TEST(ParseIsoDurationTest, RejectsOverlongText) {
  // Long but made of small numbers with leading zeros: still refused past 64 characters.
  std::string text = "P" + std::string(70, '0') + "1D";
  EXPECT_FALSE(ParseIsoDuration(text).has_value());
}

// ---- AddIsoDuration / SubtractIsoDuration

TEST(AddIsoDurationTest, MonthEndIsClampedInLeapYear) {
  EXPECT_EQ(AddIsoDuration(Utc(2024, 1, 31), MustParse("P1M")), Utc(2024, 2, 29));
}

TEST(AddIsoDurationTest, MonthEndIsClampedInCommonYear) {
  EXPECT_EQ(AddIsoDuration(Utc(2023, 1, 31), MustParse("P1M")), Utc(2023, 2, 28));
}

TEST(AddIsoDurationTest, LeapDayPlusOneYearIsFebruary28) {
  EXPECT_EQ(AddIsoDuration(Utc(2024, 2, 29), MustParse("P1Y")), Utc(2025, 2, 28));
  EXPECT_EQ(AddIsoDuration(Utc(2024, 2, 29), MustParse("P4Y")), Utc(2028, 2, 29));
  EXPECT_EQ(AddIsoDuration(Utc(2024, 2, 29), MustParse("P12M")), Utc(2025, 2, 28));
}

TEST(AddIsoDurationTest, TimeOfDayIsKept) {
  EXPECT_EQ(AddIsoDuration(Utc(2024, 1, 31, 10, 20, 30), MustParse("P1M")),
            Utc(2024, 2, 29, 10, 20, 30));
  EXPECT_EQ(AddIsoDuration(Utc(2023, 12, 31, 23, 59, 59), MustParse("P2M")),
            Utc(2024, 2, 29, 23, 59, 59));
}

TEST(AddIsoDurationTest, HoursAndDaysAreExact) {
  const int64_t t = Utc(2024, 3, 30, 12, 0, 0);
  EXPECT_EQ(AddIsoDuration(t, MustParse("PT48H")), t + 48 * kHour);
  EXPECT_EQ(AddIsoDuration(t, MustParse("P2D")), t + 2 * kDay);
  EXPECT_EQ(AddIsoDuration(t, MustParse("P2W")), t + 14 * kDay);
  EXPECT_EQ(AddIsoDuration(t, MustParse("PT1H30M15S")), t + kHour + 30 * 60 + 15);
  EXPECT_EQ(AddIsoDuration(t, MustParse("P0D")), t);
}

TEST(AddIsoDurationTest, MixedCalendarAndExactParts) {
  EXPECT_EQ(AddIsoDuration(Utc(2024, 1, 1), MustParse("P1Y10D")), Utc(2025, 1, 11));
  EXPECT_EQ(AddIsoDuration(Utc(2024, 1, 31), MustParse("P18M")), Utc(2025, 7, 31));
  EXPECT_EQ(AddIsoDuration(Utc(2024, 1, 1), MustParse("P90D")), Utc(2024, 3, 31));
  // Larger units first: Jan 31 + 1 month = Feb 29, + 1 day = Mar 1.
  EXPECT_EQ(AddIsoDuration(Utc(2024, 1, 31), MustParse("P1M1D")), Utc(2024, 3, 1));
  EXPECT_EQ(AddIsoDuration(Utc(2024, 1, 1), MustParse("P3M")), Utc(2024, 4, 1));
}

TEST(AddIsoDurationTest, WorksBeforeTheEpoch) {
  EXPECT_EQ(AddIsoDuration(Utc(1969, 12, 31, 12), MustParse("P1M")), Utc(1970, 1, 31, 12));
  EXPECT_EQ(AddIsoDuration(Utc(1969, 1, 31, 6), MustParse("P1M")), Utc(1969, 2, 28, 6));
}

TEST(AddIsoDurationTest, LargestAcceptedComponentsStayExact) {
  // ParseIsoDuration accepts every component below 10,000, so the arithmetic must hold there.
  const int64_t t = Utc(2024, 1, 1);
  ASSERT_EQ(t, DaysFromCivil(2024, 1, 1) * kDay);
  EXPECT_EQ(AddIsoDuration(t, MustParse("P9999Y")), DaysFromCivil(12023, 1, 1) * kDay);
  EXPECT_EQ(SubtractIsoDuration(t, MustParse("P9999Y")), DaysFromCivil(-7975, 1, 1) * kDay);
  EXPECT_EQ(AddIsoDuration(t, MustParse("P9999M")), DaysFromCivil(2857, 4, 1) * kDay);
  EXPECT_EQ(AddIsoDuration(t, MustParse("P9999D")), t + 9999 * kDay);
  EXPECT_EQ(AddIsoDuration(t, MustParse("P9999W")), t + 7 * 9999 * kDay);
  EXPECT_FALSE(ParseIsoDuration("P10000Y").has_value());
  EXPECT_FALSE(ParseIsoDuration("P99999Y").has_value());
}

TEST(SubtractIsoDurationTest, CalendarAndExact) {
  EXPECT_EQ(SubtractIsoDuration(Utc(2024, 3, 31), MustParse("P1M")), Utc(2024, 2, 29));
  EXPECT_EQ(SubtractIsoDuration(Utc(2023, 3, 31), MustParse("P1M")), Utc(2023, 2, 28));
  EXPECT_EQ(SubtractIsoDuration(Utc(2025, 2, 28), MustParse("P1Y")), Utc(2024, 2, 28));
  EXPECT_EQ(SubtractIsoDuration(Utc(2024, 2, 29), MustParse("P1Y")), Utc(2023, 2, 28));
  EXPECT_EQ(SubtractIsoDuration(Utc(2024, 1, 15), MustParse("P1M")), Utc(2023, 12, 15));
  const int64_t t = Utc(2024, 6, 1, 8, 0, 0);
  EXPECT_EQ(SubtractIsoDuration(t, MustParse("PT48H")), t - 48 * kHour);
  EXPECT_EQ(SubtractIsoDuration(t, MustParse("P30D")), t - 30 * kDay);
  EXPECT_EQ(SubtractIsoDuration(AddIsoDuration(t, MustParse("P3W2DT5H")), MustParse("P3W2DT5H")),
            t);
}

// ---- ValidateRotationPolicy

TEST(ValidateRotationPolicyTest, AcceptsValidPolicies) {
  const std::vector<RotationPolicy> valid = {
      Policy({Rotate(kAfterCreate, "P90D")}, "P2Y"),
      Policy({Notify(kBeforeExpiry, "P30D")}, "P2Y"),
      Policy({Rotate(kAfterCreate, "P90D"), Notify(kBeforeExpiry, "P30D")}, "P2Y"),
      Policy({Notify(kBeforeExpiry, "P30D"), Rotate(kAfterCreate, "P90D")}, "P2Y"),
      Policy({Rotate(kBeforeExpiry, "P30D")}, "P90D"),
      Policy({Rotate(kAfterCreate, "P90D")}),  // no expiryTime: versions never expire
      Policy({Rotate(kAfterCreate, "P7D")}),   // the minimum
      Policy({Rotate(kAfterCreate, "PT168H")}),
      Policy({Rotate(kAfterCreate, "P1W")}),
      Policy({Rotate(kAfterCreate, "P3M")}, "P1Y"),
      Policy({Rotate(kAfterCreate, "P18M")}, "P2Y"),
      Policy({Rotate(kAfterCreate, "p30d")}, "p2y"),
      Policy({}, "P28D"),  // expiryTime minimum
      Policy({}),
      // Boundaries of the 7-day margins: expiry 30 days.
      Policy({Rotate(kAfterCreate, "P23D")}, "P30D"),
      Policy({Notify(kBeforeExpiry, "P23D")}, "P30D"),
      Policy({Rotate(kBeforeExpiry, "P23D")}, "P30D"),
      // Without expiryTime a before-expiry trigger counts back from the exp a version was given
      // by hand; the service takes its own default (Notify P30D, no expiryTime) back unchanged
      // (akv-keys-api.md §6, JS SDK recording).
      Policy({Notify(kBeforeExpiry, "P30D")}),
      Policy({Rotate(kBeforeExpiry, "P30D")}),
      Policy({Rotate(kAfterCreate, "P90D"), Notify(kBeforeExpiry, "P30D")}),
      DefaultRotationPolicy(),
  };
  for (const auto& policy : valid) {
    Status status = ValidateRotationPolicy(policy);
    EXPECT_TRUE(status.ok()) << testing::PrintToString(policy.actions.size()) << " actions, "
                             << (policy.actions.empty() ? "" : policy.actions[0].duration)
                             << " expiry " << policy.expiry_time.value_or("-") << ": "
                             << status.ToString();
  }
}

struct InvalidCase {
  std::string what;
  RotationPolicy policy;
};

TEST(ValidateRotationPolicyTest, RejectsInvalidPolicies) {
  const std::vector<InvalidCase> invalid = {
      {"three actions", Policy({Rotate(kAfterCreate, "P90D"), Notify(kBeforeExpiry, "P30D"),
                                Notify(kBeforeExpiry, "P20D")},
                               "P2Y")},
      {"two rotates", Policy({Rotate(kAfterCreate, "P90D"), Rotate(kAfterCreate, "P60D")}, "P2Y")},
      {"rotate after create and before expiry",
       Policy({Rotate(kAfterCreate, "P90D"), Rotate(kBeforeExpiry, "P30D")}, "P2Y")},
      {"two notifies",
       Policy({Notify(kBeforeExpiry, "P30D"), Notify(kBeforeExpiry, "P60D")}, "P2Y")},
      {"notify timeAfterCreate", Policy({Notify(kAfterCreate, "P30D")}, "P2Y")},
      {"P6D trigger", Policy({Rotate(kAfterCreate, "P6D")})},
      {"PT167H trigger", Policy({Rotate(kAfterCreate, "PT167H")})},
      {"P0D trigger", Policy({Rotate(kAfterCreate, "P0D")})},
      {"P6D before expiry", Policy({Notify(kBeforeExpiry, "P6D")}, "P2Y")},
      {"invalid trigger duration", Policy({Rotate(kAfterCreate, "90D")})},
      {"empty trigger duration", Policy({Rotate(kAfterCreate, "")})},
      {"expiryTime P27D", Policy({}, "P27D")},
      {"expiryTime P27D with rotate", Policy({Rotate(kAfterCreate, "P7D")}, "P27D")},
      {"expiryTime invalid", Policy({Rotate(kAfterCreate, "P90D")}, "2Y")},
      {"expiryTime empty", Policy({Rotate(kAfterCreate, "P90D")}, "")},
      {"before expiry leaves < 7 days (P30D/P25D)",
       Policy({Notify(kBeforeExpiry, "P25D")}, "P30D")},
      {"rotate before expiry leaves < 7 days (P30D/P24D)",
       Policy({Rotate(kBeforeExpiry, "P24D")}, "P30D")},
      {"before expiry longer than expiry", Policy({Notify(kBeforeExpiry, "P60D")}, "P30D")},
      {"timeAfterCreate too close to expiry (P30D/P24D)",
       Policy({Rotate(kAfterCreate, "P24D")}, "P30D")},
      {"timeAfterCreate after expiry", Policy({Rotate(kAfterCreate, "P3Y")}, "P2Y")},
  };
  for (const auto& c : invalid) {
    Status status = ValidateRotationPolicy(c.policy);
    EXPECT_EQ(status.kind(), ErrorKind::kBadRequest) << c.what;
    EXPECT_EQ(status.code(), "BadParameter") << c.what;
    EXPECT_FALSE(status.message().empty()) << c.what;
  }
}

// ---- ActionDueTime

TEST(ActionDueTimeTest, TimeAfterCreateCountsFromCreation) {
  const int64_t created = Utc(2024, 1, 31, 9);
  EXPECT_EQ(ActionDueTime(Rotate(kAfterCreate, "P30D"), created, std::nullopt),
            created + 30 * kDay);
  // exp plays no part.
  EXPECT_EQ(ActionDueTime(Rotate(kAfterCreate, "P30D"), created, created + 10 * kDay),
            created + 30 * kDay);
  EXPECT_EQ(ActionDueTime(Rotate(kAfterCreate, "P1M"), created, std::nullopt), Utc(2024, 2, 29, 9));
  EXPECT_EQ(ActionDueTime(Rotate(kAfterCreate, "PT48H"), created, std::nullopt),
            created + 48 * kHour);
}

TEST(ActionDueTimeTest, TimeBeforeExpiryCountsBackFromExpiry) {
  const int64_t created = Utc(2024, 1, 1);
  const int64_t expires = Utc(2024, 3, 31, 12);
  EXPECT_EQ(ActionDueTime(Notify(kBeforeExpiry, "P30D"), created, expires), expires - 30 * kDay);
  EXPECT_EQ(ActionDueTime(Rotate(kBeforeExpiry, "P1M"), created, expires), Utc(2024, 2, 29, 12));
}

TEST(ActionDueTimeTest, TimeBeforeExpiryWithoutExpiryNeverFallsDue) {
  EXPECT_EQ(ActionDueTime(Notify(kBeforeExpiry, "P30D"), Utc(2024, 1, 1), std::nullopt),
            std::nullopt);
  EXPECT_EQ(ActionDueTime(Rotate(kBeforeExpiry, "P30D"), Utc(2024, 1, 1), std::nullopt),
            std::nullopt);
}

TEST(ActionDueTimeTest, InvalidDurationNeverFallsDue) {
  EXPECT_EQ(ActionDueTime(Rotate(kAfterCreate, "bogus"), Utc(2024, 1, 1), std::nullopt),
            std::nullopt);
}

// ---- ToRecord / FromRecord

TEST(RotationPolicyRecordTest, ToRecordUsesWireNames) {
  RotationPolicy policy =
      Policy({Rotate(kAfterCreate, "P90D"), Notify(kBeforeExpiry, "P30D")}, "P2Y");
  policy.created = 111;
  policy.updated = 222;
  store::RotationPolicyRecord record = ToRecord(policy);
  ASSERT_EQ(record.actions.size(), 2u);
  EXPECT_EQ(record.actions[0].action, "Rotate");
  EXPECT_EQ(record.actions[0].trigger, "timeAfterCreate");
  EXPECT_EQ(record.actions[0].duration, "P90D");
  EXPECT_EQ(record.actions[1].action, "Notify");
  EXPECT_EQ(record.actions[1].trigger, "timeBeforeExpiry");
  EXPECT_EQ(record.actions[1].duration, "P30D");
  EXPECT_EQ(record.expiry_time, "P2Y");
  EXPECT_EQ(record.created, 111);
  EXPECT_EQ(record.updated, 222);
}

TEST(RotationPolicyRecordTest, RoundTrip) {
  const std::vector<RotationPolicy> policies = {
      Policy({Rotate(kAfterCreate, "P90D"), Notify(kBeforeExpiry, "P30D")}, "P2Y"),
      Policy({Rotate(kBeforeExpiry, "P30D")}, "P90D"),
      Policy({Notify(kBeforeExpiry, "P1M")}, "P1Y"),
      Policy({}),
  };
  for (RotationPolicy policy : policies) {
    policy.created = 1700000000;
    policy.updated = 1700000500;
    auto back = FromRecord(ToRecord(policy));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->actions.size(), policy.actions.size());
    for (size_t i = 0; i < policy.actions.size(); ++i) {
      EXPECT_EQ(back->actions[i].type, policy.actions[i].type);
      EXPECT_EQ(back->actions[i].trigger, policy.actions[i].trigger);
      EXPECT_EQ(back->actions[i].duration, policy.actions[i].duration);
    }
    EXPECT_EQ(back->expiry_time, policy.expiry_time);
    EXPECT_EQ(back->created, policy.created);
    EXPECT_EQ(back->updated, policy.updated);
    EXPECT_FALSE(back->is_default);
  }
}

TEST(RotationPolicyRecordTest, FromRecordRejectsUnknownNames) {
  store::RotationPolicyRecord record;
  record.actions.push_back({"Explode", "timeAfterCreate", "P30D"});
  EXPECT_FALSE(FromRecord(record).ok());
  record.actions[0] = {"Rotate", "whenever", "P30D"};
  EXPECT_FALSE(FromRecord(record).ok());
}

// ---- DefaultRotationPolicy

TEST(DefaultRotationPolicyTest, NotifyThirtyDaysBeforeExpiry) {
  RotationPolicy policy = DefaultRotationPolicy();
  EXPECT_TRUE(policy.is_default);
  ASSERT_EQ(policy.actions.size(), 1u);
  EXPECT_EQ(policy.actions[0].type, LifetimeActionType::kNotify);
  EXPECT_EQ(policy.actions[0].trigger, LifetimeTrigger::kTimeBeforeExpiry);
  EXPECT_EQ(policy.actions[0].duration, "P30D");
  EXPECT_FALSE(policy.expiry_time.has_value());
  EXPECT_EQ(policy.created, 0);
  EXPECT_EQ(policy.updated, 0);
}

}  // namespace
}  // namespace coffre::service
