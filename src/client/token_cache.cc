#include "client/token_cache.h"

namespace coffre::identity::_detail {

TokenCache::TokenCache(Clock clock)
    : clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {}

core::credentials::AccessToken TokenCache::Get(
    const core::credentials::TokenRequestContext& context, const std::string& tenant,
    const Fetch& fetch) {
  std::string key = tenant;
  for (const auto& scope : context.Scopes) key += "\n" + scope;
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = clock_();
  auto it = tokens_.find(key);
  if (it != tokens_.end()) {
    // Compare as "time left" so a huge MinimumExpiration (force refresh) cannot overflow.
    auto left = it->second.ExpiresOn - now;
    if (left > context.MinimumExpiration) return it->second;
  }
  try {
    core::credentials::AccessToken token = fetch();
    tokens_[key] = token;
    return token;
  } catch (const core::credentials::AuthenticationException&) {
    if (it != tokens_.end() && it->second.ExpiresOn > now) return it->second;
    throw;
  }
}

}  // namespace coffre::identity::_detail
