#include "client/pipeline.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <random>
#include <thread>

#include "client/encoding.h"
#include "coffre/core/curl_transport.h"
#include "coffre/core/exception.h"

namespace coffre::_detail {
namespace {

using std::chrono::milliseconds;

double DefaultJitter() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

std::optional<int64_t> ParseNonNegative(std::string_view text) {
  std::string trimmed = Trim(text);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), value);
  if (ec != std::errc() || end != trimmed.data() + trimmed.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the only date form servers send today.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

void SleepFor(milliseconds delay, const Context& context) {
  auto until = std::chrono::steady_clock::now() + delay;
  while (true) {
    context.ThrowIfCancelled();
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(until - now, milliseconds(50)));
  }
}

RetryPolicy::RetryPolicy(core::RetryOptions options, Sleeper sleeper, Jitter jitter, Clock clock)
    : options_(std::move(options)),
      sleeper_(sleeper ? std::move(sleeper) : Sleeper(SleepFor)),
      jitter_(jitter ? std::move(jitter) : Jitter(DefaultJitter)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {}

bool RetryPolicy::ShouldRetry(const RawResponse& response) const {
  return options_.StatusCodes.count(response.GetStatusCode()) > 0;
}

std::optional<milliseconds> RetryPolicy::RetryAfter(const RawResponse& response,
                                                    std::chrono::system_clock::time_point now) {
  for (const char* name : {"retry-after-ms", "x-ms-retry-after-ms"}) {
    if (auto value = response.GetHeader(name)) {
      if (auto ms = ParseNonNegative(value.Value())) return milliseconds(*ms);
    }
  }
  auto value = response.GetHeader("retry-after");
  if (!value) return std::nullopt;
  if (auto seconds = ParseNonNegative(value.Value())) {
    // Clamp before multiplying: a huge value must not overflow.
    return milliseconds(std::min<int64_t>(*seconds, int64_t{1} << 40) * 1000);
  }
  if (auto when = ParseHttpDate(Trim(value.Value()))) {
    auto delta = std::chrono::duration_cast<milliseconds>(*when - now);
    return std::max(delta, milliseconds(0));
  }
  return std::nullopt;
}

milliseconds RetryPolicy::DelayFor(int retry, const RawResponse* response, double jitter) const {
  const milliseconds cap = std::max(options_.MaxRetryDelay, milliseconds(0));
  if (response != nullptr) {
    if (auto after = RetryAfter(*response, clock_())) return std::min(*after, cap);
  }
  // Exponential back-off; the exponent is bounded so the shift cannot overflow.
  int exponent = std::clamp(retry - 1, 0, 30);
  double base = static_cast<double>(options_.RetryDelay.count()) * std::ldexp(1.0, exponent);
  double factor = 0.8 + 0.5 * std::clamp(jitter, 0.0, 1.0);
  double delay = std::min(base, static_cast<double>(cap.count())) * factor;
  return std::min(milliseconds(static_cast<int64_t>(delay)), cap);
}

std::unique_ptr<RawResponse> RetryPolicy::Send(Request& request, const Context& context,
                                               const NextStep& next) const {
  for (int retry = 0;; ++retry) {
    context.ThrowIfCancelled();
    std::unique_ptr<RawResponse> response;
    bool last = retry >= std::max(options_.MaxRetries, 0);
    try {
      response = next(request);
    } catch (const core::http::TransportException& e) {
      if (last || !e.Retriable()) throw;
    }
    if (response && (last || !ShouldRetry(*response))) return response;
    sleeper_(DelayFor(retry + 1, response.get(), jitter_()), context);
  }
}

std::string DefaultUserAgent(const std::string& application_id) {
  std::string agent = "coffre-keys/0.1.0 (libcurl)";
  return application_id.empty() ? agent : application_id + " " + agent;
}

HttpPipeline::HttpPipeline(const core::ClientOptions& options, std::unique_ptr<AuthPolicy> auth)
    : transport_(options.Transport.Transport
                     ? options.Transport.Transport
                     : std::make_shared<core::http::CurlTransport>(options.Transport)),
      retry_(options.Retry),
      auth_(std::move(auth)),
      user_agent_(DefaultUserAgent(options.ApplicationId)) {}

HttpPipeline::HttpPipeline(std::shared_ptr<core::http::HttpTransport> transport, RetryPolicy retry,
                           std::unique_ptr<AuthPolicy> auth, std::string user_agent)
    : transport_(std::move(transport)),
      retry_(std::move(retry)),
      auth_(std::move(auth)),
      user_agent_(std::move(user_agent)) {}

std::unique_ptr<RawResponse> HttpPipeline::Send(Request& request, const Context& context) const {
  // One id per logical request: retries and the challenge round trip share it.
  if (!request.GetHeader("x-ms-client-request-id")) {
    request.SetHeader("x-ms-client-request-id", NewUuid());
  }
  request.SetHeader("User-Agent", user_agent_);
  if (!request.GetHeader("Accept")) request.SetHeader("Accept", "application/json");
  NextStep transport = [this, &context](Request& r) { return transport_->Send(r, context); };
  NextStep retried = [this, &context, &transport](Request& r) {
    return retry_.Send(r, context, transport);
  };
  if (auth_) return auth_->Send(request, context, retried);
  return retried(request);
}

}  // namespace coffre::_detail
