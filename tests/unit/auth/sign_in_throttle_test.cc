#include "auth/sign_in_throttle.h"

#include <gtest/gtest.h>

namespace coffre::auth {
namespace {

constexpr char kAttacker[] = "127.0.0.2";
constexpr char kClient[] = "127.0.0.1";

TEST(SignInThrottle, AnAddressPastItsLimitWaitsForTheWindow) {
  ManualClock clock(1'700'000'000);
  SignInThrottle throttle(
      clock,
      {.failures_per_address = 3, .failures_per_client = 100, .window = std::chrono::seconds(60)});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle.RetryAfterSeconds(kAttacker, ""), 0) << i;
    throttle.RecordFailure(kAttacker, "");
  }
  EXPECT_EQ(throttle.RetryAfterSeconds(kAttacker, ""), 60);
  EXPECT_EQ(throttle.RetryAfterSeconds(kAttacker, "any-client"), 60);
  // Others are not affected.
  EXPECT_EQ(throttle.RetryAfterSeconds(kClient, ""), 0);
  clock.Advance(45);
  EXPECT_EQ(throttle.RetryAfterSeconds(kAttacker, ""), 15);
  clock.Advance(15);
  EXPECT_EQ(throttle.RetryAfterSeconds(kAttacker, ""), 0);
}

// Guessing one client's secret from many addresses is slowed per client id, but the client
// signing in with its own secret from an address that has not failed is let through.
TEST(SignInThrottle, AClientIdPastItsLimitIsRefusedOnlyToFailingAddresses) {
  ManualClock clock(1'700'000'000);
  SignInThrottle throttle(
      clock,
      {.failures_per_address = 100, .failures_per_client = 4, .window = std::chrono::seconds(60)});
  for (int i = 0; i < 4; ++i) throttle.RecordFailure("10.0.0." + std::to_string(i), "App-1");
  EXPECT_GT(throttle.RetryAfterSeconds("10.0.0.1", "app-1"), 0);  // ids ignore case
  EXPECT_EQ(throttle.RetryAfterSeconds("10.0.0.1", "app-2"), 0);
  EXPECT_EQ(throttle.RetryAfterSeconds(kClient, "app-1"), 0);
  clock.Advance(61);
  EXPECT_EQ(throttle.RetryAfterSeconds("10.0.0.1", "app-1"), 0);
}

TEST(SignInThrottle, ManyAddressesStayBounded) {
  ManualClock clock(1'700'000'000);
  SignInThrottle throttle(clock);
  for (int i = 0; i < 40000; ++i) throttle.RecordFailure("a" + std::to_string(i), "");
  // The oldest were evicted; the newest still count.
  EXPECT_EQ(throttle.RetryAfterSeconds("a0", ""), 0);
  for (int i = 0; i < 10; ++i) throttle.RecordFailure("a39999", "");
  EXPECT_GT(throttle.RetryAfterSeconds("a39999", ""), 0);
}

}  // namespace
}  // namespace coffre::auth
