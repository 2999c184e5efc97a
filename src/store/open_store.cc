// OpenStore: picks the backend a store URL names.
#include <string>
#include <string_view>

#include "store/store.h"

namespace coffre::store {
namespace {

// True for "scheme://...", scheme as in RFC 3986 (a letter, then letters, digits, + - .).
bool HasUrlScheme(std::string_view url) {
  size_t colon = url.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = url[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool other = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!letter && (i == 0 || !other)) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(const std::string& url) {
  std::string_view view(url);
  if (view.starts_with("postgresql://") || view.starts_with("postgres://")) {
    return OpenPostgresStore(url);
  }
  if (view.starts_with("sqlite:")) view.remove_prefix(std::string_view("sqlite:").size());
  if (view.empty()) return Status::BadParameter("store URL names no SQLite file");
  // Never echo the URL: it may hold a password.
  if (HasUrlScheme(view)) return Status::BadParameter("unsupported store URL scheme");
  return OpenSqliteStore(std::string(view));
}

}  // namespace coffre::store
