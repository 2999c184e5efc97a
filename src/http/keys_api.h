// The Key Vault keys API: /keys, /keys/{name}[/{version}|/create|/versions|...], /deletedkeys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/api_request.h"
#include "service/crypto_service.h"
#include "service/key_service.h"

namespace coffre::http {

// What the router has already worked out about an authenticated data-plane request.
struct VaultRequest {
  const ApiRequest& http;
  const store::VaultRecord& vault;
  std::vector<std::string> segments;  // decoded path segments, e.g. {"keys", "k1", ""}
  std::string base_url;               // "https://host[:port]" as the client addressed us
  std::string api_version;
  std::string skip_token;             // $skiptoken, if any
  std::string max_results;            // maxresults, if any (unparsed)
};

struct KeysApi {
  service::KeyService& keys;
  service::CryptoService& crypto;
};

// nullopt when the path is not a keys route (the router answers 404).
std::optional<ApiResponse> HandleKeysRequest(const KeysApi& api, const VaultRequest& request);

}  // namespace coffre::http
