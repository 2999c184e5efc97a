// Per-credential token cache: one token per (tenant, scopes), refreshed before it expires.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "coffre/core/credentials.h"

namespace coffre::identity::_detail {

class TokenCache {
 public:
  using Fetch = std::function<core::credentials::AccessToken()>;
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  explicit TokenCache(Clock clock = {});

  // Returns the cached token while it stays valid for at least `context.MinimumExpiration`;
  // otherwise calls `fetch` (one fetch at a time per cache) and caches its result. If the fetch
  // fails while the cached token has not yet expired, the cached token is returned.
  core::credentials::AccessToken Get(const core::credentials::TokenRequestContext& context,
                                     const std::string& tenant, const Fetch& fetch);

 private:
  Clock clock_;
  std::mutex mutex_;
  std::map<std::string, core::credentials::AccessToken> tokens_;
};

}  // namespace coffre::identity::_detail
