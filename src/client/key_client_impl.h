// The state behind KeyClient, shared with its pages, operations and cryptography clients.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "client/pipeline.h"
#include "coffre/core/credentials.h"
#include "coffre/core/exception.h"
#include "coffre/keys/key_client_options.h"

namespace coffre::keys::_detail {

using core::http::HttpMethod;
using core::http::HttpStatusCode;
using core::http::RawResponse;

// The pipeline of a Key Vault client: bearer challenge, retries, transport.
std::shared_ptr<coffre::_detail::HttpPipeline> MakeVaultPipeline(
    const std::string& vault_url,
    std::shared_ptr<const core::credentials::TokenCredential> credential,
    const KeyClientOptions& options);

// Turns a parse error of a successful response into a RequestFailedException that carries it.
template <class F>
auto ParseResponse(std::unique_ptr<RawResponse>& raw, F parse)
    -> decltype(parse(raw->GetBodyAsString())) {
  try {
    return parse(raw->GetBodyAsString());
  } catch (const std::invalid_argument& e) {
    throw core::RequestFailedException(e.what(), std::move(raw));
  }
}

class KeyClientImpl {
 public:
  KeyClientImpl(const std::string& vault_url,
                std::shared_ptr<const core::credentials::TokenCredential> credential,
                const KeyClientOptions& options);

  const std::string& vault_url() const { return vault_url_; }
  const std::string& api_version() const { return api_version_; }
  const std::shared_ptr<coffre::_detail::HttpPipeline>& pipeline() const { return pipeline_; }
  const std::shared_ptr<const core::credentials::TokenCredential>& credential() const {
    return credential_;
  }
  const KeyClientOptions& options() const { return options_; }

  // vault_url + "/" + percent-encoded segments (a trailing "" gives a trailing slash) +
  // "?api-version=..." + extra query.
  std::string Url(std::initializer_list<std::string_view> segments,
                  std::string_view extra_query = {}) const;
  // A nextLink checked to point at this vault (tokens must not leak to another host).
  std::string PageUrl(const std::string& next_link) const;

  // Sends and returns any response.
  std::unique_ptr<RawResponse> SendRaw(HttpMethod method, const std::string& url, std::string body,
                                       const core::Context& context) const;
  // Sends and throws RequestFailedException unless the status is one of `ok`.
  std::unique_ptr<RawResponse> Send(HttpMethod method, const std::string& url, std::string body,
                                    const core::Context& context,
                                    std::initializer_list<HttpStatusCode> ok = {
                                        HttpStatusCode::Ok}) const;

 private:
  std::string vault_url_;
  std::string api_version_;
  std::shared_ptr<const core::credentials::TokenCredential> credential_;
  KeyClientOptions options_;
  std::shared_ptr<coffre::_detail::HttpPipeline> pipeline_;
};

// Checks a key or vault URL and returns its origin (https://host[:port]); throws
// std::invalid_argument otherwise.
std::string VaultOrigin(const std::string& url);

}  // namespace coffre::keys::_detail
