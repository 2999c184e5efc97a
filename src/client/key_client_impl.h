// The state behind KeyClient, shared with its pages, operations and cryptography clients.
#pragma once

#include <memory>
#include <string>

#include "client/vault_client.h"
#include "coffre/core/credentials.h"
#include "coffre/keys/key_client_options.h"

namespace coffre::keys::_detail {

using coffre::_detail::ParseResponse;
using coffre::_detail::VaultOrigin;
using core::http::HttpMethod;
using core::http::HttpStatusCode;
using core::http::RawResponse;

// The pipeline of a Key Vault client: bearer challenge, retries, transport.
std::shared_ptr<coffre::_detail::HttpPipeline> MakeVaultPipeline(
    const std::string& vault_url,
    std::shared_ptr<const core::credentials::TokenCredential> credential,
    const KeyClientOptions& options);

class KeyClientImpl : public coffre::_detail::VaultClient {
 public:
  KeyClientImpl(const std::string& vault_url,
                std::shared_ptr<const core::credentials::TokenCredential> credential,
                const KeyClientOptions& options);

  const KeyClientOptions& options() const { return options_; }

 private:
  KeyClientOptions options_;
};

}  // namespace coffre::keys::_detail
