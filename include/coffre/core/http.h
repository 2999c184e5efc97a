// HTTP types of the client: requests, raw responses and the transport interface.
//
// The default transport is CurlTransport (coffre/core/curl_transport.h). Tests and applications
// may plug in their own HttpTransport through TransportOptions::Transport.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/core/context.h"
#include "coffre/core/nullable.h"

namespace coffre::core::http {

enum class HttpMethod { Get, Head, Post, Put, Patch, Delete };
std::string_view HttpMethodToString(HttpMethod method);

// The status codes the clients look at; any other code may be stored as well.
enum class HttpStatusCode : int32_t {
  None = 0,
  Ok = 200,
  Created = 201,
  Accepted = 202,
  NoContent = 204,
  BadRequest = 400,
  Unauthorized = 401,
  Forbidden = 403,
  NotFound = 404,
  MethodNotAllowed = 405,
  RequestTimeout = 408,
  Conflict = 409,
  TooManyRequests = 429,
  InternalServerError = 500,
  NotImplemented = 501,
  BadGateway = 502,
  ServiceUnavailable = 503,
  GatewayTimeout = 504,
};

// Header names compare case-insensitively (RFC 9110).
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};
using CaseInsensitiveMap = std::map<std::string, std::string, CaseInsensitiveLess>;

class Request final {
 public:
  Request(HttpMethod method, std::string url, std::string body = {});

  HttpMethod GetMethod() const { return method_; }
  const std::string& GetUrl() const { return url_; }
  void SetUrl(std::string url) { url_ = std::move(url); }

  void SetHeader(const std::string& name, std::string value);
  void RemoveHeader(std::string_view name);
  Nullable<std::string> GetHeader(std::string_view name) const;
  const CaseInsensitiveMap& GetHeaders() const { return headers_; }

  const std::string& GetBody() const { return body_; }
  void SetBody(std::string body) { body_ = std::move(body); }

 private:
  HttpMethod method_;
  std::string url_;
  CaseInsensitiveMap headers_;
  std::string body_;
};

class RawResponse final {
 public:
  RawResponse(int32_t major_version, int32_t minor_version, HttpStatusCode status_code,
              std::string reason_phrase);

  HttpStatusCode GetStatusCode() const { return status_code_; }
  const std::string& GetReasonPhrase() const { return reason_phrase_; }
  int32_t GetMajorVersion() const { return major_version_; }
  int32_t GetMinorVersion() const { return minor_version_; }

  void SetHeader(const std::string& name, std::string value);
  Nullable<std::string> GetHeader(std::string_view name) const;
  const CaseInsensitiveMap& GetHeaders() const { return headers_; }

  const std::vector<uint8_t>& GetBody() const { return body_; }
  void SetBody(std::vector<uint8_t> body) { body_ = std::move(body); }
  // The body as text (JSON bodies).
  std::string_view GetBodyAsString() const;

 private:
  int32_t major_version_;
  int32_t minor_version_;
  HttpStatusCode status_code_;
  std::string reason_phrase_;
  CaseInsensitiveMap headers_;
  std::vector<uint8_t> body_;
};

// The request never got an HTTP response (DNS, connect, TLS, timeout, reset). `Retriable()` is
// false for failures a retry cannot fix, such as a certificate that does not verify.
class TransportException : public std::runtime_error {
 public:
  explicit TransportException(const std::string& what, bool retriable = true)
      : std::runtime_error(what), retriable_(retriable) {}
  bool Retriable() const noexcept { return retriable_; }

 private:
  bool retriable_;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends one request and returns whatever response arrives (any status code). Throws
  // TransportException when no response arrives. Must be safe to call from several threads.
  virtual std::unique_ptr<RawResponse> Send(const Request& request, const Context& context) = 0;
};

}  // namespace coffre::core::http
