#include "http/request_target.h"

namespace coffre::http {
namespace {

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
