#include "client/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

#include "client/encoding.h"

namespace coffre::_detail {

std::string Url::Origin() const {
  std::string out = scheme + "://" + host;
  bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

std::optional<Url> ParseUrl(std::string_view text) {
  Url url;
  size_t colon = text.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  url.scheme = AsciiLower(text.substr(0, colon));
  if (url.scheme != "https" && url.scheme != "http") return std::nullopt;
  std::string_view rest = text.substr(colon + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else if (size_t c = authority.rfind(':'); c != std::string_view::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  if (host.empty()) return std::nullopt;
  bool host_ok = std::all_of(host.begin(), host.end(), [](unsigned char ch) {
    return std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch == '[' || ch == ']' ||
           ch == ':';
  });
  if (!host_ok) return std::nullopt;
  url.host = AsciiLower(host);
  url.port = url.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    int value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value < 1 || value > 65535) {
      return std::nullopt;
    }
    url.port = value;
    url.explicit_port = true;
  }
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t q = rest.find('?');
  url.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) url.query = std::string(rest.substr(q + 1));
  return url;
}

bool SameOrigin(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

std::optional<VaultObjectId> ParseVaultObjectId(std::string_view id, std::string_view live,
                                                std::string_view deleted) {
  auto url = ParseUrl(id);
  if (!url) return std::nullopt;
  std::vector<std::string> segments;
  std::string_view path = url->path;
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    size_t slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  if (segments.size() < 2 || segments.size() > 3 || segments[1].empty()) return std::nullopt;
  std::string collection = AsciiLower(segments[0]);
  if (collection != live && collection != deleted) return std::nullopt;
  VaultObjectId parts;
  parts.vault_url = url->Origin();
  parts.name = segments[1];
  if (segments.size() == 3) parts.version = segments[2];
  return parts;
}

}  // namespace coffre::_detail
