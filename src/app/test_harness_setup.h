// Builds the test harness of a server started with --dev or --test-harness: the offset clock
// (its offset kept in the store, so a restarted server keeps the time it was moved to), and the
// throttle --throttle asks for.
#pragma once

#include <memory>

#include "app/commands.h"
#include "common/clock.h"
#include "http/test_harness.h"
#include "service/background_jobs.h"
#include "store/store.h"

namespace coffre::app {

// Null when the config asks for no harness; an error for --throttle without one.
Result<std::unique_ptr<http::TestHarness>> MakeTestHarness(const ServerConfig& config,
                                                           store::Store& store,
                                                           const Clock& real_clock);

// Once the background jobs exist: a moved clock is recorded and runs a round at once.
void ConnectBackgroundJobs(http::TestHarness& harness, store::Store& store,
                           service::BackgroundJobs& jobs);

}  // namespace coffre::app
