// Exceptions of the client library.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "coffre/core/http.h"

namespace coffre::core {

// The service answered with an error status. Fields come from the response: the Key Vault error
// body {"error":{"code","message"}} and the x-ms-request-id / x-ms-client-request-id headers.
class RequestFailedException : public std::runtime_error {
 public:
  explicit RequestFailedException(const std::string& what);
  // Parses status, headers and the error body of `raw_response`.
  explicit RequestFailedException(std::unique_ptr<http::RawResponse> raw_response);
  RequestFailedException(const std::string& what, std::unique_ptr<http::RawResponse> raw_response);

  RequestFailedException(const RequestFailedException& other);
  RequestFailedException& operator=(const RequestFailedException& other);
  RequestFailedException(RequestFailedException&&) noexcept = default;
  RequestFailedException& operator=(RequestFailedException&&) noexcept = default;
  ~RequestFailedException() override = default;

  http::HttpStatusCode StatusCode = http::HttpStatusCode::None;
  std::string ReasonPhrase;
  std::string ClientRequestId;  // x-ms-client-request-id (sent by this client)
  std::string RequestId;        // x-ms-request-id (assigned by the service)
  std::string ErrorCode;        // error.code, e.g. "KeyNotFound"
  std::string Message;          // error.message
  std::unique_ptr<http::RawResponse> RawResponse;
};

// The Context of a call was cancelled or its deadline passed.
class OperationCancelledException : public std::runtime_error {
 public:
  explicit OperationCancelledException(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace coffre::core
