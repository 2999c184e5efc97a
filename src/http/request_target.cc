#include "http/request_target.h"

namespace coffre::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits "a=1&b=2" into decoded fields; the first occurrence of a name wins.
std::optional<auth::FieldMap> ParseFields(std::string_view text, bool plus_as_space) {
  auth::FieldMap fields;
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), plus_as_space);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1),
                               plus_as_space);
    if (!name || !value) return std::nullopt;
    fields.emplace(std::move(*name), std::move(*value));
  }
  return fields;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::optional<RequestTarget> ParseRequestTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') return std::nullopt;
  RequestTarget result;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    if (size_t hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
    auto fields = ParseFields(query, false);
    if (!fields) return std::nullopt;
    result.query = std::move(*fields);
  }
  if (path == "/") return result;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    auto segment = PercentDecode(path.substr(0, slash), false);
    if (!segment) return std::nullopt;
    result.segments.push_back(std::move(*segment));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return result;
}

std::optional<auth::FieldMap> ParseFormBody(std::string_view body) {
  return ParseFields(body, true);
}

}  // namespace coffre::http
