// Tests for the test harness's parts that need no server: the offset clock, durations, the
// fault injector and Azure-style throttling (sliding windows on a ManualClock).
#include "http/test_harness.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/offset_clock.h"

namespace coffre::http {
namespace {

template <typename Fill>
FaultSpec Spec(std::string operation, Fill fill) {
  FaultSpec spec;
  spec.operation = std::move(operation);
  fill(spec);
  return spec;
}

TEST(OffsetClockTest, MovesWallTimeOnlyAndForwardsMonotonic) {
  ManualClock real(1'000'000);
  OffsetClock clock(real);
  EXPECT_EQ(clock.NowSeconds(), 1'000'000);
  clock.Advance(30 * 86400);
  EXPECT_EQ(clock.NowSeconds(), 1'000'000 + 30 * 86400);
  EXPECT_EQ(clock.Monotonic(), real.Monotonic());
  real.Advance(5);
  EXPECT_EQ(clock.NowSeconds(), 1'000'005 + 30 * 86400);
  clock.SetNow(2'000'000);
  EXPECT_EQ(clock.NowSeconds(), 2'000'000);
  EXPECT_EQ(clock.offset_seconds(), 2'000'000 - 1'000'005);
  clock.Reset();
  EXPECT_EQ(clock.NowSeconds(), real.NowSeconds());
}

TEST(HarnessDurationTest, ParsesUnitsAndRefusesNonsense) {
  EXPECT_EQ(ParseHarnessDuration("30d"), 30 * 86400);
  EXPECT_EQ(ParseHarnessDuration("1d12h"), 36 * 3600);
  EXPECT_EQ(ParseHarnessDuration("90s"), 90);
  EXPECT_EQ(ParseHarnessDuration("2w"), 14 * 86400);
  EXPECT_EQ(ParseHarnessDuration("5m"), 300);
  for (const char* bad : {"", "d", "30", "30x", "-1d", "0d", "1.5d", "999999999999w", " 1d"}) {
    EXPECT_FALSE(ParseHarnessDuration(bad).has_value()) << bad;
  }
}

TEST(FaultInjectorTest, FiresCountTimesForTheMatchingOperationAndVault) {
  FaultInjector faults;
  EXPECT_FALSE(faults.Take("Sign", "dev"));
  auto added = faults.Add(Spec("sign", [](FaultSpec& s) {
    s.vault = "Dev";
    s.status = 503;
    s.count = 2;
  }));
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_EQ(added->spec.operation, "Sign");
  EXPECT_FALSE(faults.Take("Verify", "dev"));
  EXPECT_FALSE(faults.Take("Sign", "other"));
  auto first = faults.Take("Sign", "dev");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->spec.status, 503);
  EXPECT_TRUE(faults.Take("Sign", "DEV"));
  EXPECT_FALSE(faults.Take("Sign", "dev"));  // spent
  EXPECT_TRUE(faults.List().empty());
}

TEST(FaultInjectorTest, RefusesBadSpecsAndClears) {
  FaultInjector faults;
  EXPECT_FALSE(faults.Add(Spec("Juggle", [](FaultSpec& s) { s.status = 503; })).ok());
  EXPECT_FALSE(faults.Add(Spec("Sign", [](FaultSpec& s) { s.status = 200; })).ok());
  EXPECT_FALSE(faults.Add(Spec("Sign", [](FaultSpec&) {})).ok());  // does nothing
  EXPECT_FALSE(faults
                   .Add(Spec("Sign",
                             [](FaultSpec& s) {
                               s.status = 503;
                               s.count = 0;
                             }))
                   .ok());
  EXPECT_FALSE(faults.Add(Spec("Sign", [](FaultSpec& s) { s.delay_ms = 600000; })).ok());
  EXPECT_FALSE(faults
                   .Add(Spec("Sign",
                             [](FaultSpec& s) {
                               s.status = 503;
                               s.close_connection = true;
                             }))
                   .ok());
  ASSERT_TRUE(faults
                  .Add(Spec("*",
                            [](FaultSpec& s) {
                              s.delay_ms = 10;
                              s.count = 5;
                            }))
                  .ok());
  EXPECT_TRUE(faults.Take("GetSecret", "any"));
  faults.Clear();
  EXPECT_FALSE(faults.Take("GetSecret", "any"));
}

TEST(InterceptTest, FaultsAnswerAndAuditThemselves) {
  TestHarness harness;
  ASSERT_TRUE(harness.faults
                  .Add(Spec("Sign",
                            [](FaultSpec& s) {
                              s.status = 429;
                              s.count = 1;
                            }))
                  .ok());
  ASSERT_TRUE(
      harness.faults.Add(Spec("GetKey", [](FaultSpec& s) { s.close_connection = true; })).ok());
  Intercepted throttled = InterceptRequest(harness, "dev", "Sign");
  ASSERT_TRUE(throttled.response);
  EXPECT_EQ(throttled.response->status, 429);
  EXPECT_NE(throttled.response->body.find("\"Throttled\""), std::string::npos);
  const auto& headers = throttled.response->headers;
  EXPECT_NE(std::find(headers.begin(), headers.end(),
                      std::make_pair(std::string("Retry-After"), std::string("1"))),
            headers.end());
  EXPECT_NE(throttled.audit_note.find("injected fault"), std::string::npos);
  Intercepted closed = InterceptRequest(harness, "dev", "GetKey");
  ASSERT_TRUE(closed.response);
  EXPECT_TRUE(closed.response->drop_connection);
  EXPECT_FALSE(InterceptRequest(harness, "dev", "Sign").response);
}

TEST(VaultThrottleTest, AzureLimitsScaleAndParse) {
  ThrottleLimits azure = ThrottleLimits::Azure();
  EXPECT_EQ(azure.per_window[static_cast<size_t>(ThrottleClass::kKeyOther)], 4000);
  EXPECT_EQ(azure.per_window[static_cast<size_t>(ThrottleClass::kKeyCreate)], 20);
  EXPECT_EQ(azure.per_window[static_cast<size_t>(ThrottleClass::kSecretCreate)], 300);
  ThrottleLimits small = ThrottleLimits::Azure(0.01);
  EXPECT_EQ(small.per_window[static_cast<size_t>(ThrottleClass::kKeyOther)], 40);
  EXPECT_EQ(small.per_window[static_cast<size_t>(ThrottleClass::kKeyCreate)], 1);
  std::string error;
  EXPECT_FALSE(ParseThrottleSetting("off", &error));
  EXPECT_EQ(ParseThrottleSetting("azure", &error), 1.0);
  EXPECT_EQ(ParseThrottleSetting("0.5", &error), 0.5);
  EXPECT_TRUE(error.empty());
  EXPECT_FALSE(ParseThrottleSetting("fast", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(ThrottleClassOf("CreateKey"), ThrottleClass::kKeyCreate);
  EXPECT_EQ(ThrottleClassOf("Sign"), ThrottleClass::kKeyOther);
  EXPECT_EQ(ThrottleClassOf("SetSecret"), ThrottleClass::kSecretCreate);
  EXPECT_EQ(ThrottleClassOf("GetSecret"), ThrottleClass::kSecretOther);
}

TEST(VaultThrottleTest, SlidingWindowPerVaultAndClass) {
  ManualClock clock(0);
  ThrottleLimits limits;
  limits.per_window = {2, 5, 3, 5};
  VaultThrottle throttle(clock, limits);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(throttle.Admit("a", ThrottleClass::kKeyOther), 0) << i;
  int64_t wait = throttle.Admit("a", ThrottleClass::kKeyOther);
  EXPECT_EQ(wait, 10);  // all five are in the newest bucket
  // Other vaults and classes have their own windows.
  EXPECT_EQ(throttle.Admit("b", ThrottleClass::kKeyOther), 0);
  EXPECT_EQ(throttle.Admit("a", ThrottleClass::kSecretOther), 0);
  // Sliding: after 9.5 s the five are still in the window, after 10 s they are gone.
  clock.Advance(std::chrono::milliseconds(9500));
  EXPECT_EQ(throttle.Admit("a", ThrottleClass::kKeyOther), 1);
  clock.Advance(std::chrono::milliseconds(500));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(throttle.Admit("a", ThrottleClass::kKeyOther), 0) << i;
  EXPECT_GT(throttle.Admit("a", ThrottleClass::kKeyOther), 0);
}

TEST(VaultThrottleTest, SteadyRateAdmitsTheLimitPerWindow) {
  // 100 requests a second for 60 s against 40 per 10 s: 4 per second get through on average.
  ManualClock clock(0);
  VaultThrottle throttle(clock, ThrottleLimits::Azure(0.01));
  int admitted = 0;
  for (int i = 0; i < 6000; ++i) {
    if (throttle.Admit("v", ThrottleClass::kKeyOther) == 0) ++admitted;
    clock.Advance(std::chrono::milliseconds(10));
  }
  EXPECT_GE(admitted, 240);
  EXPECT_LE(admitted, 240 + 40);
}

}  // namespace
}  // namespace coffre::http
