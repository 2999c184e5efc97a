// The request pipeline every client and credential sends through:
//   [authentication (BearerChallengePolicy, clients only)] -> RetryPolicy -> HttpTransport.
// The pipeline also stamps x-ms-client-request-id, User-Agent and Accept.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "coffre/core/client_options.h"
#include "coffre/core/context.h"
#include "coffre/core/http.h"

namespace coffre::_detail {

using core::Context;
using core::http::RawResponse;
using core::http::Request;

// Sends a request one step further down the pipeline.
using NextStep = std::function<std::unique_ptr<RawResponse>(Request&)>;

class RetryPolicy {
 public:
  // Sleeps for a back-off delay; must return early (throwing OperationCancelledException) when
  // the context is cancelled. Tests inject a recorder.
  using Sleeper = std::function<void(std::chrono::milliseconds, const Context&)>;
  // Uniform random number in [0, 1) for the jitter.
  using Jitter = std::function<double()>;
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  explicit RetryPolicy(core::RetryOptions options, Sleeper sleeper = {}, Jitter jitter = {},
                       Clock clock = {});

  // Sends `request` via `next`, retrying retriable statuses and transport failures up to
  // MaxRetries times. Returns the last response (which may be an error status); rethrows the
  // last TransportException when no attempt got a response.
  std::unique_ptr<RawResponse> Send(Request& request, const Context& context,
                                    const NextStep& next) const;

  bool ShouldRetry(const RawResponse& response) const;

  // Delay before retry number `retry` (1 = first retry). A Retry-After on `response` wins;
  // otherwise RetryDelay * 2^(retry-1) scaled by a jitter factor in [0.8, 1.3). Never more than
  // MaxRetryDelay.
  std::chrono::milliseconds DelayFor(int retry, const RawResponse* response, double jitter) const;

  // retry-after-ms, x-ms-retry-after-ms (milliseconds) or Retry-After (seconds or HTTP date).
  static std::optional<std::chrono::milliseconds> RetryAfter(
      const RawResponse& response, std::chrono::system_clock::time_point now);

  const core::RetryOptions& options() const { return options_; }

 private:
  core::RetryOptions options_;
  Sleeper sleeper_;
  Jitter jitter_;
  Clock clock_;
};

// Sleeps in short slices so cancellation is noticed promptly.
void SleepFor(std::chrono::milliseconds delay, const Context& context);

// The authentication step (see challenge.h).
class AuthPolicy {
 public:
  virtual ~AuthPolicy() = default;
  virtual std::unique_ptr<RawResponse> Send(Request& request, const Context& context,
                                            const NextStep& next) const = 0;
};

class HttpPipeline {
 public:
  // The transport comes from options.Transport (a CurlTransport when null).
  HttpPipeline(const core::ClientOptions& options, std::unique_ptr<AuthPolicy> auth = nullptr);
  // For tests: explicit transport and retry policy.
  HttpPipeline(std::shared_ptr<core::http::HttpTransport> transport, RetryPolicy retry,
               std::unique_ptr<AuthPolicy> auth, std::string user_agent);

  // Never throws for an HTTP error status: the caller decides what is an error.
  std::unique_ptr<RawResponse> Send(Request& request, const Context& context) const;

 private:
  std::shared_ptr<core::http::HttpTransport> transport_;
  RetryPolicy retry_;
  std::unique_ptr<AuthPolicy> auth_;
  std::string user_agent_;
};

std::string DefaultUserAgent(const std::string& application_id);

}  // namespace coffre::_detail
