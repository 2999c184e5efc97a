// What every Key Vault data-plane client shares (keys, secrets): the vault origin, the
// api-version, the pipeline (challenge, retries, transport) and request/URL helpers.
#pragma once

#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "client/pipeline.h"
#include "coffre/core/client_options.h"
#include "coffre/core/credentials.h"
#include "coffre/core/exception.h"

namespace coffre::_detail {

using core::http::HttpMethod;
using core::http::HttpStatusCode;

// Checks a key, secret or vault URL and returns its origin (https://host[:port]); throws
// std::invalid_argument otherwise.
std::string VaultOrigin(const std::string& url);

// The pipeline of a Key Vault client: bearer challenge, retries, transport.
std::shared_ptr<HttpPipeline> MakeVaultPipeline(
    const std::string& vault_url,
    std::shared_ptr<const core::credentials::TokenCredential> credential,
    const core::ClientOptions& options, bool verify_challenge_resource);

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

// Whether a request body holds secret material the client must wipe once it has been sent.
enum class BodyKind { Plain, Sensitive };

class VaultClient {
 public:
  VaultClient(const std::string& vault_url,
              std::shared_ptr<const core::credentials::TokenCredential> credential,
              const core::ClientOptions& options, std::string api_version,
              bool verify_challenge_resource);
  virtual ~VaultClient() = default;

  const std::string& vault_url() const { return vault_url_; }
  const std::string& api_version() const { return api_version_; }
  const std::shared_ptr<HttpPipeline>& pipeline() const { return pipeline_; }
  const std::shared_ptr<const core::credentials::TokenCredential>& credential() const {
    return credential_;
  }

  // vault_url + "/" + percent-encoded segments (a trailing "" gives a trailing slash) +
  // "?api-version=..." + extra query.
  std::string Url(std::initializer_list<std::string_view> segments,
                  std::string_view extra_query = {}) const;
  // A nextLink checked to point at this vault (tokens must not leak to another host).
  std::string PageUrl(const std::string& next_link) const;

  // Sends and returns any response. A Sensitive body is wiped from memory once sent.
  std::unique_ptr<RawResponse> SendRaw(HttpMethod method, const std::string& url, std::string body,
                                       const core::Context& context,
                                       BodyKind kind = BodyKind::Plain) const;
  // Sends and throws RequestFailedException unless the status is one of `ok`.
  std::unique_ptr<RawResponse> Send(HttpMethod method, const std::string& url, std::string body,
                                    const core::Context& context,
                                    std::initializer_list<HttpStatusCode> ok = {HttpStatusCode::Ok},
                                    BodyKind kind = BodyKind::Plain) const;

 private:
  std::string vault_url_;
  std::string api_version_;
  std::shared_ptr<const core::credentials::TokenCredential> credential_;
  std::shared_ptr<HttpPipeline> pipeline_;
};

}  // namespace coffre::_detail
