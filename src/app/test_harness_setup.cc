#include "app/test_harness_setup.h"

#include <spdlog/spdlog.h>

#include <charconv>

namespace coffre::app {
namespace {

constexpr std::string_view kOffsetSetting = "dev_clock_offset_seconds";

}  // namespace

Result<std::unique_ptr<http::TestHarness>> MakeTestHarness(const ServerConfig& config,
                                                           store::Store& store,
                                                           const Clock& real_clock) {
  std::string error;
  std::optional<double> factor = http::ParseThrottleSetting(config.throttle, &error);
  if (!error.empty()) return Status::BadParameter(error);
  const bool enabled = config.dev || config.test_harness;
  if (!enabled) {
    if (factor) return Status::BadParameter("--throttle needs --dev or --test-harness.");
    return std::unique_ptr<http::TestHarness>();
  }
  auto harness = std::make_unique<http::TestHarness>();
  harness->clock = std::make_unique<OffsetClock>(real_clock);
  COFFRE_ASSIGN_OR_RETURN(auto stored, store.GetSetting(kOffsetSetting));
  if (stored) {
    int64_t offset = 0;
    auto [end, ec] = std::from_chars(stored->data(), stored->data() + stored->size(), offset);
    if (ec == std::errc() && end == stored->data() + stored->size()) {
      harness->clock->SetOffset(offset);
      if (offset != 0) spdlog::info("test harness: the service clock runs {} s ahead", offset);
    }
  }
  if (factor) {
    // Windows are measured on the real clock: time travel does not empty them.
    harness->throttle =
        std::make_unique<http::VaultThrottle>(real_clock, http::ThrottleLimits::Azure(*factor));
    spdlog::info("test harness: Azure Key Vault throttling at {}x the published limits", *factor);
  }
  return harness;
}

void ConnectBackgroundJobs(http::TestHarness& harness, store::Store& store,
                           service::BackgroundJobs& jobs) {
  harness.clock_moved = [&store, &jobs](int64_t offset) {
    if (Status kept = store.PutSetting(kOffsetSetting, std::to_string(offset)); !kept.ok()) {
      spdlog::warn("test harness: the clock offset could not be kept: {}", kept.message());
    }
    spdlog::info("test harness: the service clock now runs {} s ahead", offset);
    return jobs.RunOnce();
  };
}

}  // namespace coffre::app
