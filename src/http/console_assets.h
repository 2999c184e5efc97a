// The web console's static files (console/ in the source tree, compiled into the binary by
// cmake/embed_console.cmake), served on the HTTPS listener under /console/. They carry no data
// and need no token: the page signs in and calls the same REST APIs (data plane and admin API)
// as any client, with the bearer token it holds in memory, so the console adds no authority.
// Every answer has a strict Content-Security-Policy (scripts and styles from the console's own
// files only, no inline code), X-Frame-Options: DENY, and HTML is never cached.
#pragma once

#include <span>
#include <string_view>

#include "http/api_request.h"
#include "http/request_target.h"

namespace coffre::http {

inline constexpr std::string_view kConsolePathSegment = "console";

struct ConsoleAsset {
  std::string_view path;  // relative to console/, e.g. "index.html", "js/app.js"
  std::string_view bytes;
};

// Every embedded file (generated: console_assets_data.cc).
std::span<const ConsoleAsset> ConsoleAssets();

// The answer to a request whose first path segment is kConsolePathSegment.
ApiResponse ConsoleResponse(const ApiRequest& request, const RequestTarget& target);

// The Content-Security-Policy of the console's pages reached through `host` (the Host header):
// API calls may go to this origin and to the vault hosts beside it on the same port.
std::string ConsoleContentSecurityPolicy(std::string_view host);

}  // namespace coffre::http
