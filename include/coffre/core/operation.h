// coffre::core::Operation<T>: a long-running operation that is polled until done.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "coffre/core/context.h"
#include "coffre/core/http.h"
#include "coffre/core/response.h"

namespace coffre::core {

enum class OperationStatus { NotStarted, Running, Succeeded, Cancelled, Failed };

template <class T>
class Operation {
 public:
  virtual ~Operation() = default;

  // The latest known value (available before the operation is done for delete/recover).
  virtual T Value() const = 0;
  // A token that recreates the operation later (for keys: the key name).
  virtual std::string GetResumeToken() const = 0;

  OperationStatus Status() const noexcept { return status_; }
  bool IsDone() const noexcept {
    return status_ == OperationStatus::Succeeded || status_ == OperationStatus::Cancelled ||
           status_ == OperationStatus::Failed;
  }
  bool HasValue() const noexcept { return status_ == OperationStatus::Succeeded; }

  // The response of the start request or of the latest poll.
  const http::RawResponse& GetRawResponse() const {
    if (!raw_response_) throw std::logic_error("Operation: no response yet");
    return *raw_response_;
  }

  // One status check.
  const http::RawResponse& Poll() { return Poll(Context()); }
  const http::RawResponse& Poll(const Context& context) {
    raw_response_ = PollInternal(context);
    return *raw_response_;
  }

  // Polls every `period` until done; throws OperationCancelledException when `context` is
  // cancelled first.
  Response<T> PollUntilDone(std::chrono::milliseconds period) {
    Context context;
    return PollUntilDoneInternal(period, context);
  }
  Response<T> PollUntilDone(std::chrono::milliseconds period, Context& context) {
    return PollUntilDoneInternal(period, context);
  }

 protected:
  Operation() = default;
  Operation(const Operation& other)
      : status_(other.status_),
        raw_response_(other.raw_response_
                          ? std::make_unique<http::RawResponse>(*other.raw_response_)
                          : nullptr) {}
  Operation& operator=(const Operation& other) {
    if (this != &other) {
      status_ = other.status_;
      raw_response_ =
          other.raw_response_ ? std::make_unique<http::RawResponse>(*other.raw_response_) : nullptr;
    }
    return *this;
  }
  Operation(Operation&&) noexcept = default;
  Operation& operator=(Operation&&) noexcept = default;

  virtual std::unique_ptr<http::RawResponse> PollInternal(const Context& context) = 0;
  virtual Response<T> PollUntilDoneInternal(std::chrono::milliseconds period, Context& context) = 0;

  OperationStatus status_ = OperationStatus::NotStarted;
  std::unique_ptr<http::RawResponse> raw_response_;
};

}  // namespace coffre::core
