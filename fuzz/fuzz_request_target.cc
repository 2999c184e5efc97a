// Request-target and form parsing (http/request_target.h, common/percent_encoding.h) and the
// router's string helpers: nothing crashes; what parses re-encodes to a target that parses back to
// the same thing.
#include <cstdint>
#include <string>

#include "auth/token_authority.h"
#include "common/percent_encoding.h"
#include "fuzz/fuzz_common.h"
#include "http/request_target.h"
#include "http/router.h"

namespace {

using coffre::AsChars;
using coffre::ByteSpan;

// Percent-encodes everything but unreserved characters.
std::string Encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

void CheckNoNul(std::string_view text) {
  COFFRE_FUZZ_CHECK(text.find('\0') == std::string_view::npos, text);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = AsChars(ByteSpan(data, size));

  if (auto target = coffre::http::ParseRequestTarget(text)) {
    COFFRE_FUZZ_CHECK(text.front() == '/', text);
    // Re-encode and parse again: same segments, same query.
    std::string rebuilt;
    for (const auto& segment : target->segments) {
      CheckNoNul(segment);
      rebuilt += "/" + Encode(segment);
    }
    if (rebuilt.empty()) rebuilt = "/";
    std::string query;
    for (const auto& [name, value] : target->query) {
      CheckNoNul(name);
      CheckNoNul(value);
      if (name.empty() && value.empty()) continue;  // "&=&" pairs carry nothing
      query += (query.empty() ? "" : "&") + Encode(name) + "=" + Encode(value);
    }
    if (!query.empty()) rebuilt += "?" + query;
    auto again = coffre::http::ParseRequestTarget(rebuilt);
    COFFRE_FUZZ_CHECK(again.has_value(), rebuilt);
    COFFRE_FUZZ_CHECK(again->segments == target->segments, rebuilt);
    for (const auto& [name, value] : again->query) {
      auto it = target->query.find(name);
      COFFRE_FUZZ_CHECK(it != target->query.end() && it->second == value, rebuilt);
    }
  }

  if (auto form = coffre::http::ParseFormBody(text)) {
    for (const auto& [name, value] : *form) {
      CheckNoNul(name);
      CheckNoNul(value);
    }
  }
  for (bool plus : {false, true}) {
    if (auto decoded = coffre::PercentDecode(text, plus)) {
      CheckNoNul(*decoded);
      COFFRE_FUZZ_CHECK(decoded->size() <= text.size(), text);
      auto again = coffre::PercentDecode(Encode(*decoded), plus);
      COFFRE_FUZZ_CHECK(again && *again == *decoded, text);
    }
  }

  // The router's string-level helpers take raw header and target text.
  coffre::http::ApiRequest request;
  request.method = "POST";
  request.target = std::string(text);
  (void)coffre::http::Router::RouteOf(request);
  std::string vault = coffre::http::VaultNameFromHost(text);
  COFFRE_FUZZ_CHECK(vault.find('.') == std::string::npos, vault);
  (void)coffre::http::IsSupportedApiVersion(text);
  std::string resource = coffre::auth::ResourceForHost(text);
  COFFRE_FUZZ_CHECK(resource.rfind("https://", 0) == 0, resource);
  (void)coffre::auth::AudienceFromScope(text);
  return 0;
}
