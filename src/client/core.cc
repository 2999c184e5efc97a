// DateTime, Context, HTTP value types and exceptions of coffre::core.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>

#include "client/json_util.h"
#include "coffre/core/context.h"
#include "coffre/core/datetime.h"
#include "coffre/core/exception.h"
#include "coffre/core/http.h"

namespace coffre {

DateTime DateTime::FromUnixSeconds(int64_t seconds) {
  // The clock counts nanoseconds in 64 bits (until 2262); clamp rather than overflow.
  constexpr int64_t kLimit = 9'000'000'000;
  seconds = std::clamp<int64_t>(seconds, -kLimit, kLimit);
  return DateTime(Base(std::chrono::duration_cast<Base::duration>(std::chrono::seconds(seconds))));
}

int64_t DateTime::ToUnixSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(time_since_epoch()).count();
}

std::string DateTime::ToString() const {
  std::time_t t = static_cast<std::time_t>(ToUnixSeconds());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buffer, n);
}

}  // namespace coffre

namespace coffre::core {

struct Context::State {
  std::shared_ptr<State> parent;
  std::atomic<bool> cancelled{false};
  DateTime deadline = DateTime::max();
};

Context::Context() : state_(std::make_shared<State>()) {}
Context::Context(std::shared_ptr<State> state) : state_(std::move(state)) {}

Context Context::WithDeadline(DateTime deadline) const {
  auto child = std::make_shared<State>();
  child->parent = state_;
  child->deadline = deadline;
  return Context(std::move(child));
}

void Context::Cancel() const { state_->cancelled.store(true); }

bool Context::IsCancelled() const {
  auto now = std::chrono::system_clock::now();
  for (const State* s = state_.get(); s != nullptr; s = s->parent.get()) {
    if (s->cancelled.load() || now > s->deadline) return true;
  }
  return false;
}

void Context::ThrowIfCancelled() const {
  if (IsCancelled()) throw OperationCancelledException("The operation was cancelled.");
}

DateTime Context::GetDeadline() const {
  DateTime earliest = DateTime::max();
  for (const State* s = state_.get(); s != nullptr; s = s->parent.get()) {
    if (s->deadline < earliest) earliest = s->deadline;
  }
  return earliest;
}

namespace http {

std::string_view HttpMethodToString(HttpMethod method) {
  switch (method) {
    case HttpMethod::Get:
      return "GET";
    case HttpMethod::Head:
      return "HEAD";
    case HttpMethod::Post:
      return "POST";
    case HttpMethod::Put:
      return "PUT";
    case HttpMethod::Patch:
      return "PATCH";
    case HttpMethod::Delete:
      return "DELETE";
  }
  return "GET";
}

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const noexcept {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int ca = std::tolower(static_cast<unsigned char>(a[i]));
    int cb = std::tolower(static_cast<unsigned char>(b[i]));
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

namespace {

Nullable<std::string> Find(const CaseInsensitiveMap& headers, std::string_view name) {
  auto it = headers.find(name);
  if (it == headers.end()) return {};
  return it->second;
}

}  // namespace

Request::Request(HttpMethod method, std::string url, std::string body)
    : method_(method), url_(std::move(url)), body_(std::move(body)) {}

void Request::SetHeader(const std::string& name, std::string value) {
  headers_.insert_or_assign(name, std::move(value));
}

void Request::RemoveHeader(std::string_view name) {
  auto it = headers_.find(name);
  if (it != headers_.end()) headers_.erase(it);
}

Nullable<std::string> Request::GetHeader(std::string_view name) const {
  return Find(headers_, name);
}

RawResponse::RawResponse(int32_t major_version, int32_t minor_version, HttpStatusCode status_code,
                         std::string reason_phrase)
    : major_version_(major_version),
      minor_version_(minor_version),
      status_code_(status_code),
      reason_phrase_(std::move(reason_phrase)) {}

void RawResponse::SetHeader(const std::string& name, std::string value) {
  headers_.insert_or_assign(name, std::move(value));
}

Nullable<std::string> RawResponse::GetHeader(std::string_view name) const {
  return Find(headers_, name);
}

std::string_view RawResponse::GetBodyAsString() const {
  return std::string_view(reinterpret_cast<const char*>(body_.data()), body_.size());
}

}  // namespace http

namespace {

// "404 Not Found: KeyNotFound: A key with ... (x-ms-request-id: ...)".
std::string Describe(const RequestFailedException& e) {
  std::string text = std::to_string(static_cast<int>(e.StatusCode));
  if (!e.ReasonPhrase.empty()) text += " " + e.ReasonPhrase;
  if (!e.ErrorCode.empty()) text += ": " + e.ErrorCode;
  if (!e.Message.empty()) text += ": " + e.Message;
  if (!e.RequestId.empty()) text += " (x-ms-request-id: " + e.RequestId + ")";
  return text;
}

void FillFrom(RequestFailedException& e, const http::RawResponse& raw) {
  e.StatusCode = raw.GetStatusCode();
  e.ReasonPhrase = raw.GetReasonPhrase();
  e.RequestId = raw.GetHeader("x-ms-request-id").ValueOr(std::string());
  e.ClientRequestId = raw.GetHeader("x-ms-client-request-id").ValueOr(std::string());
  auto error = _detail::ParseErrorBody(raw.GetBodyAsString());
  e.ErrorCode = std::move(error.code);
  e.Message = std::move(error.message);
}

}  // namespace

RequestFailedException::RequestFailedException(const std::string& what)
    : std::runtime_error(what), Message(what) {}

RequestFailedException::RequestFailedException(std::unique_ptr<http::RawResponse> raw_response)
    : std::runtime_error("request failed") {
  if (raw_response) FillFrom(*this, *raw_response);
  RawResponse = std::move(raw_response);
  // runtime_error's message is fixed at construction: rebuild with the parsed fields.
  static_cast<std::runtime_error&>(*this) = std::runtime_error(Describe(*this));
}

RequestFailedException::RequestFailedException(const std::string& what,
                                               std::unique_ptr<http::RawResponse> raw_response)
    : std::runtime_error(what) {
  if (raw_response) FillFrom(*this, *raw_response);
  Message = what;
  RawResponse = std::move(raw_response);
}

RequestFailedException::RequestFailedException(const RequestFailedException& other)
    : std::runtime_error(other),
      StatusCode(other.StatusCode),
      ReasonPhrase(other.ReasonPhrase),
      ClientRequestId(other.ClientRequestId),
      RequestId(other.RequestId),
      ErrorCode(other.ErrorCode),
      Message(other.Message),
      RawResponse(other.RawResponse ? std::make_unique<http::RawResponse>(*other.RawResponse)
                                    : nullptr) {}

RequestFailedException& RequestFailedException::operator=(const RequestFailedException& other) {
  if (this != &other) {
    RequestFailedException copy(other);
    *this = std::move(copy);
  }
  return *this;
}

}  // namespace coffre::core
