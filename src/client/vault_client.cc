#include "client/vault_client.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "client/challenge.h"
#include "client/encoding.h"
#include "client/url.h"

namespace coffre::_detail {

std::string VaultOrigin(const std::string& url) {
  auto parsed = ParseUrl(url);
  if (!parsed) throw std::invalid_argument("Not a valid URL: " + url);
  if (parsed->scheme != "https") {
    // Bearer tokens never go over plain HTTP.
    throw std::invalid_argument("The vault URL must use https: " + url);
  }
  return parsed->Origin();
}

std::shared_ptr<HttpPipeline> MakeVaultPipeline(
    const std::string& vault_url,
    std::shared_ptr<const core::credentials::TokenCredential> credential,
    const core::ClientOptions& options, bool verify_challenge_resource) {
  if (!credential) throw std::invalid_argument("A credential is required.");
  auto auth = std::make_unique<BearerChallengePolicy>(std::move(credential), vault_url,
                                                      verify_challenge_resource);
  return std::make_shared<HttpPipeline>(options, std::move(auth));
}

VaultClient::VaultClient(const std::string& vault_url,
                         std::shared_ptr<const core::credentials::TokenCredential> credential,
                         const core::ClientOptions& options, std::string api_version,
                         bool verify_challenge_resource)
    : vault_url_(VaultOrigin(vault_url)),
      api_version_(std::move(api_version)),
      credential_(credential),
      pipeline_(MakeVaultPipeline(vault_url_, std::move(credential), options,
                                  verify_challenge_resource)) {
  if (auto parsed = ParseUrl(vault_url); parsed && !parsed->path.empty() && parsed->path != "/") {
    throw std::invalid_argument("The vault URL must not have a path: " + vault_url);
  }
}

std::string VaultClient::Url(std::initializer_list<std::string_view> segments,
                             std::string_view extra_query) const {
  std::string url = vault_url_;
  for (std::string_view segment : segments) {
    url += '/';
    url += PercentEncode(segment);
  }
  url += "?api-version=" + PercentEncode(api_version_);
  if (!extra_query.empty()) {
    url += '&';
    url += extra_query;
  }
  return url;
}

std::string VaultClient::PageUrl(const std::string& next_link) const {
  auto link = ParseUrl(next_link);
  auto vault = ParseUrl(vault_url_);
  if (!link || !vault || !SameOrigin(*link, *vault)) {
    throw std::invalid_argument("The next page link does not point at this vault: " + next_link);
  }
  // .NET, JS and Go follow nextLink verbatim; add the api-version if the service left it out.
  if (link->query.find("api-version=") == std::string::npos) {
    return next_link + (link->query.empty() ? "?" : "&") +
           "api-version=" + PercentEncode(api_version_);
  }
  return next_link;
}

std::unique_ptr<RawResponse> VaultClient::SendRaw(HttpMethod method, const std::string& url,
                                                  std::string body, const core::Context& context,
                                                  BodyKind kind) const {
  core::http::Request request(method, url, std::move(body));
  if (!request.GetBody().empty()) request.SetHeader("Content-Type", "application/json");
  if (kind == BodyKind::Plain) return pipeline_->Send(request, context);
  // The request owns the only copy of the body (the challenge probe is sent without one).
  struct Wipe {
    core::http::Request& request;
    ~Wipe() {
      // The string object itself is not const: wiping it in place is well defined.
      const std::string& body = request.GetBody();
      OPENSSL_cleanse(const_cast<char*>(body.data()), body.size());
    }
  } wipe{request};
  return pipeline_->Send(request, context);
}

std::unique_ptr<RawResponse> VaultClient::Send(HttpMethod method, const std::string& url,
                                               std::string body, const core::Context& context,
                                               std::initializer_list<HttpStatusCode> ok,
                                               BodyKind kind) const {
  auto response = SendRaw(method, url, std::move(body), context, kind);
  if (std::find(ok.begin(), ok.end(), response->GetStatusCode()) == ok.end()) {
    throw core::RequestFailedException(std::move(response));
  }
  return response;
}

}  // namespace coffre::_detail
