// Retry policy: back-off math, Retry-After, which failures are retried, giving up. Time is
// injected: a recording sleeper, fixed jitter and a fixed clock.
#include <gtest/gtest.h>

#include <chrono>

#include "client/pipeline.h"
#include "coffre/core/curl_transport.h"
#include "coffre/core/exception.h"
#include "loopback_server.h"
#include "test_support.h"

namespace coffre::_detail {
namespace {

using coffre::testing::FakeTransport;
using coffre::testing::LoopbackRequest;
using coffre::testing::LoopbackServer;
using coffre::testing::MakeResponse;
using core::http::HttpMethod;
using core::http::HttpStatusCode;
using std::chrono::milliseconds;

struct Recorder {
  std::vector<milliseconds> delays;
  RetryPolicy::Sleeper sleeper() {
    return [this](milliseconds d, const core::Context&) { delays.push_back(d); };
  }
};

core::RetryOptions Options(int max_retries, milliseconds delay = milliseconds(800),
                           milliseconds max_delay = milliseconds(60000)) {
  core::RetryOptions o;
  o.MaxRetries = max_retries;
  o.RetryDelay = delay;
  o.MaxRetryDelay = max_delay;
  return o;
}

TEST(RetryPolicy, ExponentialBackoffWithinJitterBounds) {
  RetryPolicy policy(Options(10));
  for (int retry = 1; retry <= 5; ++retry) {
    double base = 800.0 * (1 << (retry - 1));
    EXPECT_EQ(policy.DelayFor(retry, nullptr, 0.0).count(), static_cast<int64_t>(base * 0.8));
    // Jitter factor 0.8 + 0.5 * j, j in [0,1): the upper bound is never reached.
    EXPECT_LT(policy.DelayFor(retry, nullptr, 0.999999).count(), static_cast<int64_t>(base * 1.3));
    EXPECT_GE(policy.DelayFor(retry, nullptr, 0.5).count(), static_cast<int64_t>(base * 1.05) - 1);
  }
}

TEST(RetryPolicy, DelayIsCappedAndNeverOverflows) {
  RetryPolicy policy(Options(100, milliseconds(800), milliseconds(5000)));
  EXPECT_EQ(policy.DelayFor(10, nullptr, 0.999), milliseconds(5000));
  EXPECT_EQ(policy.DelayFor(1000, nullptr, 0.0), milliseconds(4000));  // 0.8 * cap
  EXPECT_LE(policy.DelayFor(1000, nullptr, 0.999), milliseconds(5000));
}

TEST(RetryPolicy, RetryAfterIsHonoured) {
  RetryPolicy policy(Options(3));
  auto seconds = MakeResponse(429, "", {{"Retry-After", "1"}});
  EXPECT_EQ(policy.DelayFor(1, seconds.get(), 0.9), milliseconds(1000));  // no jitter applied
  auto ms = MakeResponse(503, "", {{"retry-after-ms", "250"}, {"Retry-After", "9"}});
  EXPECT_EQ(policy.DelayFor(2, ms.get(), 0.9), milliseconds(250));
  auto x_ms = MakeResponse(503, "", {{"x-ms-retry-after-ms", "75"}});
  EXPECT_EQ(policy.DelayFor(1, x_ms.get(), 0.0), milliseconds(75));
  auto huge = MakeResponse(503, "", {{"Retry-After", "99999999999999"}});
  EXPECT_EQ(policy.DelayFor(1, huge.get(), 0.0), milliseconds(60000));  // capped
  auto junk = MakeResponse(503, "", {{"Retry-After", "soon"}});
  EXPECT_EQ(policy.DelayFor(1, junk.get(), 0.0), milliseconds(640));  // falls back to back-off
}

TEST(RetryPolicy, RetryAfterHttpDateUsesTheClock) {
  auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37
  RetryPolicy policy(Options(3), {}, {}, [now] { return now; });
  auto later = MakeResponse(503, "", {{"Retry-After", "Sun, 06 Nov 1994 08:49:40 GMT"}});
  EXPECT_EQ(policy.DelayFor(1, later.get(), 0.0), milliseconds(3000));
  auto past = MakeResponse(503, "", {{"Retry-After", "Sun, 06 Nov 1994 08:00:00 GMT"}});
  EXPECT_EQ(policy.DelayFor(1, past.get(), 0.0), milliseconds(0));
  EXPECT_EQ(RetryPolicy::RetryAfter(*past, now), milliseconds(0));
  EXPECT_FALSE(RetryPolicy::RetryAfter(*MakeResponse(503), now).has_value());
}

TEST(RetryPolicy, RetriesScriptedFailuresThenSucceeds) {
  int calls = 0;
  Recorder recorder;
  RetryPolicy policy(Options(3, milliseconds(100)), recorder.sleeper(), [] { return 0.0; });
  NextStep next = [&](core::http::Request&) {
    ++calls;
    if (calls == 1) return MakeResponse(429, "", {{"Retry-After", "1"}});
    if (calls == 2) return MakeResponse(503);
    return MakeResponse(200, "{}");
  };
  core::http::Request request(HttpMethod::Get, "https://x/");
  auto response = policy.Send(request, core::Context(), next);
  EXPECT_EQ(response->GetStatusCode(), HttpStatusCode::Ok);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(recorder.delays, (std::vector<milliseconds>{milliseconds(1000), milliseconds(160)}));
}

TEST(RetryPolicy, GivesUpAfterMaxRetriesWithTheLastResponse) {
  int calls = 0;
  Recorder recorder;
  RetryPolicy policy(Options(2, milliseconds(10)), recorder.sleeper(), [] { return 0.0; });
  NextStep next = [&](core::http::Request&) {
    ++calls;
    return MakeResponse(503, R"({"error":{"code":"ServiceUnavailable"}})");
  };
  core::http::Request request(HttpMethod::Get, "https://x/");
  auto response = policy.Send(request, core::Context(), next);
  EXPECT_EQ(response->GetStatusCode(), HttpStatusCode::ServiceUnavailable);
  EXPECT_EQ(calls, 3);  // first attempt + 2 retries
  EXPECT_EQ(recorder.delays, (std::vector<milliseconds>{milliseconds(8), milliseconds(16)}));
}

TEST(RetryPolicy, OnlyRetriableStatusesAreRetried) {
  RetryPolicy policy(Options(3));
  for (int status : {408, 429, 500, 502, 503, 504}) {
    EXPECT_TRUE(policy.ShouldRetry(*MakeResponse(status))) << status;
  }
  for (int status : {200, 204, 400, 401, 403, 404, 409, 501}) {
    EXPECT_FALSE(policy.ShouldRetry(*MakeResponse(status))) << status;
  }
  int calls = 0;
  Recorder recorder;
  RetryPolicy counting(Options(3), recorder.sleeper());
  NextStep next = [&](core::http::Request&) {
    ++calls;
    return MakeResponse(404);
  };
  core::http::Request request(HttpMethod::Get, "https://x/");
  EXPECT_EQ(counting.Send(request, core::Context(), next)->GetStatusCode(),
            HttpStatusCode::NotFound);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(recorder.delays.empty());
}

TEST(RetryPolicy, TransportFailuresAreRetriedUnlessHopeless) {
  int calls = 0;
  Recorder recorder;
  RetryPolicy policy(Options(3, milliseconds(10)), recorder.sleeper(), [] { return 0.0; });
  NextStep flaky = [&](core::http::Request&) -> std::unique_ptr<core::http::RawResponse> {
    if (++calls < 3) throw core::http::TransportException("connection refused");
    return MakeResponse(200);
  };
  core::http::Request request(HttpMethod::Get, "https://x/");
  EXPECT_EQ(policy.Send(request, core::Context(), flaky)->GetStatusCode(), HttpStatusCode::Ok);
  EXPECT_EQ(calls, 3);

  calls = 0;
  NextStep down = [&](core::http::Request&) -> std::unique_ptr<core::http::RawResponse> {
    ++calls;
    throw core::http::TransportException("connection refused");
  };
  EXPECT_THROW(policy.Send(request, core::Context(), down), core::http::TransportException);
  EXPECT_EQ(calls, 4);

  calls = 0;
  NextStep bad_cert = [&](core::http::Request&) -> std::unique_ptr<core::http::RawResponse> {
    ++calls;
    throw core::http::TransportException("certificate verify failed", false);
  };
  EXPECT_THROW(policy.Send(request, core::Context(), bad_cert), core::http::TransportException);
  EXPECT_EQ(calls, 1);
}

TEST(RetryPolicy, CancellationStopsRetrying) {
  core::Context context;
  int calls = 0;
  RetryPolicy policy(Options(5), [&](milliseconds, const core::Context& c) {
    context.Cancel();
    c.ThrowIfCancelled();
  });
  NextStep next = [&](core::http::Request&) {
    ++calls;
    return MakeResponse(503);
  };
  core::http::Request request(HttpMethod::Get, "https://x/");
  EXPECT_THROW(policy.Send(request, context, next), core::OperationCancelledException);
  EXPECT_EQ(calls, 1);
}

TEST(RetryPolicy, RealSleepIsCancellable) {
  core::Context context;
  auto deadline_context =
      context.WithDeadline(std::chrono::system_clock::now() + milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(SleepFor(milliseconds(5000), deadline_context), core::OperationCancelledException);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
}

// ---- against a fault-injecting loopback server, through the real curl transport -------------

HttpPipeline CurlPipeline(core::RetryOptions retry) {
  core::TransportOptions transport;
  transport.HttpProxy = "";  // loopback: ignore any proxy in the environment
  return HttpPipeline(std::make_shared<core::http::CurlTransport>(transport),
                      RetryPolicy(std::move(retry)), nullptr, "test");
}

TEST(RetryOverHttp, TooManyRequestsThenUnavailableThenOk) {
  LoopbackServer server([](const LoopbackRequest& request) {
    static std::atomic<int> n{0};
    (void)request;
    switch (++n) {
      case 1:
        return LoopbackServer::Reply(429, R"({"error":{"code":"Throttled"}})",
                                     "Retry-After: 1\r\n");
      case 2:
        return LoopbackServer::Reply(503, R"({"error":{"code":"ServiceUnavailable"}})");
      default:
        return LoopbackServer::Reply(200, R"({"value":"ok"})");
    }
  });
  HttpPipeline pipeline = CurlPipeline(Options(3, milliseconds(50)));
  core::http::Request request(HttpMethod::Post, server.url("/rng"), R"({"count":4})");
  request.SetHeader("Content-Type", "application/json");
  auto start = std::chrono::steady_clock::now();
  auto response = pipeline.Send(request, core::Context());
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response->GetStatusCode(), HttpStatusCode::Ok);
  EXPECT_EQ(response->GetBodyAsString(), R"({"value":"ok"})");
  EXPECT_EQ(server.requests(), 3);
  EXPECT_GE(elapsed, milliseconds(1000));  // Retry-After: 1 was waited out
  EXPECT_LT(elapsed, milliseconds(5000));
  EXPECT_EQ(server.connections(), 1);  // all attempts reused one connection
}

TEST(RetryOverHttp, GivesUpCleanlyAfterMaxRetries) {
  LoopbackServer server([](const LoopbackRequest&) {
    return LoopbackServer::Reply(503, R"({"error":{"code":"ServiceUnavailable","message":"busy"}})",
                                 "x-ms-request-id: req-503\r\n");
  });
  HttpPipeline pipeline = CurlPipeline(Options(2, milliseconds(10)));
  core::http::Request request(HttpMethod::Get, server.url("/keys"));
  auto response = pipeline.Send(request, core::Context());
  EXPECT_EQ(response->GetStatusCode(), HttpStatusCode::ServiceUnavailable);
  EXPECT_EQ(server.requests(), 3);
  core::RequestFailedException error(std::move(response));
  EXPECT_EQ(error.ErrorCode, "ServiceUnavailable");
  EXPECT_EQ(error.Message, "busy");
  EXPECT_EQ(error.RequestId, "req-503");
}

TEST(RetryOverHttp, DroppedConnectionsAreRetried) {
  LoopbackServer server([](const LoopbackRequest&) {
    static std::atomic<int> n{0};
    return ++n == 1 ? std::string() : LoopbackServer::Reply(200, "{}");
  });
  HttpPipeline pipeline = CurlPipeline(Options(2, milliseconds(10)));
  core::http::Request request(HttpMethod::Get, server.url("/"));
  EXPECT_EQ(pipeline.Send(request, core::Context())->GetStatusCode(), HttpStatusCode::Ok);
  EXPECT_EQ(server.requests(), 2);
}

TEST(RetryOverHttp, NothingListeningFailsAfterRetries) {
  int port;
  {
    LoopbackServer probe([](const LoopbackRequest&) { return std::string(); });
    port = probe.port();
  }  // closed: nothing listens there now
  HttpPipeline pipeline = CurlPipeline(Options(1, milliseconds(10)));
  core::http::Request request(HttpMethod::Get, "http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_THROW(pipeline.Send(request, core::Context()), core::http::TransportException);
}

}  // namespace
}  // namespace coffre::_detail
