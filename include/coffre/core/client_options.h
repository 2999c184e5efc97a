// Options shared by every client and credential: retries and the HTTP transport.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "coffre/core/http.h"
#include "coffre/core/nullable.h"

namespace coffre::core {

// Retries with exponential back-off and jitter. A Retry-After (or retry-after-ms /
// x-ms-retry-after-ms) header on a retried response replaces the computed delay.
struct RetryOptions {
  // Retries after the first attempt; 0 disables retrying.
  int32_t MaxRetries = 3;
  // Delay before the first retry; doubled for each further retry.
  std::chrono::milliseconds RetryDelay{800};
  // Upper bound for any single delay, Retry-After included.
  std::chrono::milliseconds MaxRetryDelay{60000};
  // Responses with these codes are retried; so are connection failures and timeouts.
  std::set<http::HttpStatusCode> StatusCodes{
      http::HttpStatusCode::RequestTimeout,      http::HttpStatusCode::TooManyRequests,
      http::HttpStatusCode::InternalServerError, http::HttpStatusCode::BadGateway,
      http::HttpStatusCode::ServiceUnavailable,  http::HttpStatusCode::GatewayTimeout};
};

// How requests reach the network. TLS certificate verification is always on.
struct TransportOptions {
  // A custom transport; when null, a CurlTransport is made from the fields below.
  std::shared_ptr<http::HttpTransport> Transport;
  // PEM bundle of trusted CAs. Empty: $CURL_CA_BUNDLE, then $SSL_CERT_FILE, then the system store.
  std::string CaFile;
  // Directory of hashed CA certificates. Empty: $SSL_CERT_DIR, then the system store.
  std::string CaPath;
  // Proxy URL. Unset: the standard environment (https_proxy / HTTPS_PROXY, no_proxy / NO_PROXY).
  // Set to an empty string: no proxy even if the environment names one.
  Nullable<std::string> HttpProxy;
  std::chrono::milliseconds ConnectionTimeout{30000};
  // Whole-request limit per attempt (connect, send, wait, receive).
  std::chrono::milliseconds RequestTimeout{120000};
  // Idle connections kept open for reuse.
  int32_t MaxIdleConnections = 8;
};

struct ClientOptions {
  RetryOptions Retry;
  TransportOptions Transport;
  // Prepended to the User-Agent header ("myapp coffre-keys/0.1.0 ...").
  std::string ApplicationId;
};

}  // namespace coffre::core
