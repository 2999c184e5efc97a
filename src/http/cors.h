// Cross-origin calls from the web console. The console is one page (say https://localhost:8443/
// console/) while each vault is its own origin (https://payments.localhost:8443), so its calls
// to the data plane are cross-origin and the browser asks first (a CORS preflight). Only the
// origins of this server are answered: the same parent domain and port as the host called
// (ResourceForHost), so no other web page can use a browser to reach the API. CORS grants no
// authority: the console sends a bearer token it holds, never cookies, and every call is
// authenticated and checked as any other.
#pragma once

#include <optional>
#include <string>

#include "http/api_request.h"

namespace coffre::http {

// An OPTIONS request with Origin and Access-Control-Request-Method.
bool IsCorsPreflight(const ApiRequest& request);
// The request's Origin if it is one of this server's own origins (see above).
std::optional<std::string> AllowedOrigin(const ApiRequest& request);
// 204; with the Access-Control-Allow-* headers when the origin is allowed.
ApiResponse CorsPreflightResponse(const ApiRequest& request);
// Access-Control-Allow-Origin (and Vary: Origin) on an answer to an allowed origin.
void AddCorsHeaders(const ApiRequest& request, ApiResponse& response);

}  // namespace coffre::http
