// Status and Result: the error type every layer returns instead of throwing.
//
// A Status carries a kind (what went wrong, in transport-neutral terms), the Key Vault error
// code and message that the wire shows, and an optional inner code. The HTTP layer maps the
// kind to a status code; nothing below it knows about HTTP.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace coffre {

enum class ErrorKind {
  kOk,
  kBadRequest,    // 400
  kUnauthorized,  // 401
  kForbidden,     // 403
  kNotFound,      // 404
  kMethodNotAllowed,  // 405
  kConflict,      // 409
  kTooLarge,      // 413
  kInternal,      // 500
  kNotImplemented,  // 501
  kUnavailable,   // 503
};

class Status {
 public:
  Status() = default;
  Status(ErrorKind kind, std::string code, std::string message, std::string inner_code = {})
      : kind_(kind), code_(std::move(code)), message_(std::move(message)),
        inner_code_(std::move(inner_code)) {}

  static Status Ok() { return {}; }
  static Status BadParameter(std::string message, std::string inner = {}) {
    return {ErrorKind::kBadRequest, "BadParameter", std::move(message), std::move(inner)};
  }
  static Status NotFound(std::string code, std::string message) {
    return {ErrorKind::kNotFound, std::move(code), std::move(message)};
  }
  static Status Conflict(std::string message, std::string inner = {}) {
    return {ErrorKind::kConflict, "Conflict", std::move(message), std::move(inner)};
  }
  static Status Forbidden(std::string message, std::string inner = {}) {
    return {ErrorKind::kForbidden, "Forbidden", std::move(message), std::move(inner)};
  }
  static Status Unauthorized(std::string message) {
    return {ErrorKind::kUnauthorized, "Unauthorized", std::move(message)};
  }
  // Internal errors carry a message safe to show a caller: never key material or secrets.
  static Status Internal(std::string message) {
    return {ErrorKind::kInternal, "InternalServerError", std::move(message)};
  }
  static Status Unavailable(std::string message) {
    return {ErrorKind::kUnavailable, "ServiceUnavailable", std::move(message)};
  }

  bool ok() const { return kind_ == ErrorKind::kOk; }
  explicit operator bool() const { return ok(); }
  ErrorKind kind() const { return kind_; }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& inner_code() const { return inner_code_; }
  std::string ToString() const { return ok() ? "OK" : code_ + ": " + message_; }

 private:
  ErrorKind kind_ = ErrorKind::kOk;
  std::string code_;
  std::string message_;
  std::string inner_code_;
};

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace coffre

// Returns early with the error of an expression yielding a Status.
#define COFFRE_RETURN_IF_ERROR(expr)               \
  do {                                             \
    ::coffre::Status coffre_status_ = (expr);      \
    if (!coffre_status_.ok()) return coffre_status_; \
  } while (0)

#define COFFRE_CONCAT_INNER(a, b) a##b
#define COFFRE_CONCAT(a, b) COFFRE_CONCAT_INNER(a, b)
// Assigns the value of a Result expression to lhs, or returns its error.
#define COFFRE_ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto COFFRE_CONCAT(coffre_result_, __LINE__) = (expr);                      \
  if (!COFFRE_CONCAT(coffre_result_, __LINE__).ok())                          \
    return COFFRE_CONCAT(coffre_result_, __LINE__).status();                  \
  lhs = std::move(COFFRE_CONCAT(coffre_result_, __LINE__)).value()
