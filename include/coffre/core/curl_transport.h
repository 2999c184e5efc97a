// The default HTTP transport, on libcurl.
//
// - Connections are reused: finished easy handles (and their open connections) go back to a
//   pool of at most TransportOptions::MaxIdleConnections.
// - TLS peers are always verified (no switch to turn that off). CA bundle:
// TransportOptions::CaFile,
//   else $CURL_CA_BUNDLE, else $SSL_CERT_FILE, else libcurl's default store.
// - Proxies come from the environment the way curl reads them (https_proxy/HTTPS_PROXY,
//   no_proxy/NO_PROXY) unless TransportOptions::HttpProxy is set.
// - Only http and https URLs; redirects are not followed.
#pragma once

#include <memory>

#include "coffre/core/client_options.h"
#include "coffre/core/http.h"

namespace coffre::core::http {

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TransportOptions options = TransportOptions());
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  std::unique_ptr<RawResponse> Send(const Request& request, const Context& context) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffre::core::http
