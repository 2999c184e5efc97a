#include "client/json_util.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "client/encoding.h"

namespace coffre::_detail {

std::optional<json::object> ParseObject(std::string_view text) {
  if (text.empty()) return std::nullopt;
  json::parse_options options;
  options.max_depth = 64;
  json::error_code ec;
  json::value value = json::parse(text, ec, json::storage_ptr(), options);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

ErrorBody ParseErrorBody(std::string_view body) {
  ErrorBody out;
  auto o = ParseObject(body);
  if (!o) return out;
  if (const json::object* error = GetObject(*o, "error")) {
    out.code = GetString(*error, "code").value_or("");
    out.message = GetString(*error, "message").value_or("");
  } else if (auto code = GetString(*o, "error")) {
    out.code = *code;
    out.message = GetString(*o, "error_description").value_or("");
  }
  return out;
}

std::optional<std::string> GetString(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().get_string());
}

std::optional<bool> GetBool(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_bool()) return std::nullopt;
  return it->value().get_bool();
}

std::optional<int64_t> GetInt(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end()) return std::nullopt;
  const json::value& v = it->value();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    std::string_view s = v.get_string();
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return n;
  }
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> GetBytes(const json::object& o, std::string_view name) {
  auto s = GetString(o, name);
  if (!s) return std::nullopt;
  return Base64UrlDecode(*s);
}

const json::object* GetObject(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_object()) return nullptr;
  return &it->value().get_object();
}

const json::array* GetArray(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_array()) return nullptr;
  return &it->value().get_array();
}

}  // namespace coffre::_detail
