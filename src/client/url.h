// Just enough URL parsing for vault URLs, key ids, nextLinks and identity endpoints.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace coffre::_detail {

struct Url {
  std::string scheme;  // lower case
  std::string host;    // lower case; IPv6 literals keep their brackets
  int port = 0;        // explicit, else the scheme's default (443 / 80)
  bool explicit_port = false;
  std::string path;   // "" or starting with '/'
  std::string query;  // without the '?'

  // "scheme://host" plus ":port" when it is not the scheme's default.
  std::string Origin() const;
};

// Absolute http(s) URLs only; no user info. nullopt when malformed.
std::optional<Url> ParseUrl(std::string_view text);

// Same scheme, host and (effective) port.
bool SameOrigin(const Url& a, const Url& b);

// An object identifier https://host[:port]/{collection}/{name}[/{version}] split up, where the
// collection (compared case-insensitively) is `live` ("keys") or `deleted` ("deletedkeys").
struct VaultObjectId {
  std::string vault_url;  // scheme://host[:port]
  std::string name;
  std::string version;
};
std::optional<VaultObjectId> ParseVaultObjectId(std::string_view id, std::string_view live,
                                                std::string_view deleted);

}  // namespace coffre::_detail
