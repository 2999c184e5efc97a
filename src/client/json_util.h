// JSON helpers of the client implementation (Boost.JSON stays out of the public headers).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffre::_detail {

namespace json = boost::json;

// The Key Vault error envelope {"error":{"code","message","innererror":{...}}}; OAuth errors
// {"error":"...","error_description":"..."} are understood as well. Missing parts stay empty.
struct ErrorBody {
  std::string code;
  std::string message;
};
ErrorBody ParseErrorBody(std::string_view body);

// Parses a JSON object; nullopt when `text` is not one.
std::optional<json::object> ParseObject(std::string_view text);

std::optional<std::string> GetString(const json::object& o, std::string_view name);
std::optional<bool> GetBool(const json::object& o, std::string_view name);
// Integers; numeric strings ("1700000000") and integral doubles are accepted too, because
// identity endpoints differ in how they send expires_on / expires_in.
std::optional<int64_t> GetInt(const json::object& o, std::string_view name);
// A base64url (or base64) string property, decoded; nullopt if absent or not decodable.
std::optional<std::vector<uint8_t>> GetBytes(const json::object& o, std::string_view name);
const json::object* GetObject(const json::object& o, std::string_view name);
const json::array* GetArray(const json::object& o, std::string_view name);

}  // namespace coffre::_detail
