// Console logging: the level and line format of the server's log (--log-level, --log-format),
// and the request log, one line per request at info level.
//
// The request log carries what an operator needs to follow traffic and nothing a caller could
// have put a secret in: the method, the path with only api-version kept from the query string,
// the status, the time taken, the vault, the operation and the caller's object id and app id.
// Never a header, a body, a token or a query value other than api-version.
#pragma once

#include <string>
#include <string_view>

#include "coffre/status.h"

namespace coffre {

enum class LogFormat { kText, kJson };

// Sets the level ("trace", "debug", "info", "warn", "error" or "off") and the format ("text" or
// "json") of every log line, the request log's included. Lines carry ISO 8601 UTC times. Call
// before any thread logs.
Status ConfigureLogging(std::string_view level, std::string_view format);

struct RequestLogEntry {
  std::string_view method;
  std::string_view target;  // as sent; LoggedPath() trims it
  int status = 0;
  double ms = 0;
  std::string_view vault;
  std::string_view operation;
  std::string_view caller_object_id;
  std::string_view caller_app_id;
};

// Logs `entry` at info level (nothing below that level, so the cost is one check).
void LogRequest(const RequestLogEntry& entry);

// The path of a request target with only `api-version` kept from its query string (other query
// values may carry secrets, e.g. a resource or client id typed in the wrong place), printable
// ASCII only and at most 512 characters.
std::string LoggedPath(std::string_view target);

// The request log line's text, after the time and level ("GET /keys/k?api-version=7.5 200
// 1.2ms vault=dev op=GetKey caller=OID app=APPID"), and its JSON fields (without braces).
std::string RequestLogText(const RequestLogEntry& entry);
std::string RequestLogJsonFields(const RequestLogEntry& entry);

// `value` as a JSON string literal, quotes included.
std::string JsonQuoted(std::string_view value);

}  // namespace coffre
