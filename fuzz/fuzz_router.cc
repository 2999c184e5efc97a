// The request router (http::Router::Handle) over real objects: SQLite store, barrier, token
// authority, identity endpoints, access checks, vault "dev". One input is up to four requests,
// so a key created by one is there for the next; the vault is emptied after every input.
//
// Input format (text; seeds in fuzz/corpus/router are readable):
//   METHOD TARGET\n            request line ("GET /keys?api-version=7.4")
//   name: value\n               headers, any number; "host" sets the Host header (default
//                               dev.localhost:8443), "x-fuzz-insecure" marks the request as
//                               plain HTTP; "$TOKEN" in a value becomes a valid bearer token
//   \n
//   body                        everything up to "\n---\n", which starts the next request.
//
// Properties: every answer has a known status, JSON bodies are valid JSON, 401s carry the
// challenge, and no request makes the server fail (5xx).
//
// Two deliberately slow operations are not sent, or they would eat the time budget: RSA key
// generation (create/rotate in an input that mentions RSA; 0.1-5 s each) and the client
// credentials endpoint (PBKDF2 with 200,000 iterations per request). The unit and integration
// tests cover both.
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_common.h"
#include "http/request_target.h"
#include "http/router.h"

namespace {

using coffre::AsChars;
using coffre::ByteSpan;
namespace fz = coffre::fuzz;
namespace http = coffre::http;

constexpr size_t kMaxRequests = 4;
constexpr std::string_view kSeparator = "\n---\n";

fz::World* world = nullptr;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string ExpandToken(std::string_view value) {
  std::string out;
  size_t at;
  while ((at = value.find("$TOKEN")) != std::string_view::npos) {
    out.append(value.substr(0, at));
    out += world->token();
    value.remove_prefix(at + 6);
  }
  out.append(value);
  return out;
}

http::ApiRequest ParseRequest(std::string_view text) {
  http::ApiRequest request;
  request.host = fz::kHost;
  request.client_address = "127.0.0.1";
  request.request_id = "00000000-0000-4000-8000-000000000000";
  auto next_line = [&text]() {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    return line;
  };
  std::string_view line = next_line();
  size_t space = line.find(' ');
  request.method = std::string(line.substr(0, space));
  if (space != std::string_view::npos) request.target = std::string(Trim(line.substr(space + 1)));
  while (!text.empty()) {
    line = next_line();
    if (Trim(line).empty()) break;
    size_t colon = line.find(':');
    std::string name = Lower(Trim(line.substr(0, colon)));
    std::string value =
        ExpandToken(colon == std::string_view::npos ? "" : Trim(line.substr(colon + 1)));
    if (name == "host") {
      request.host = value;
    } else if (name == "x-fuzz-insecure") {
      request.secure = false;
    } else {
      request.headers.emplace(std::move(name), std::move(value));  // first one wins
    }
  }
  request.body = std::string(text);
  return request;
}

const std::string* FindHeader(const http::ApiResponse& response, std::string_view name) {
  for (const auto& [n, v] : response.headers) {
    if (Lower(n) == name) return &v;
  }
  return nullptr;
}

void Check(const http::ApiRequest& request, const http::ApiResponse& response) {
  std::string what = request.method + " " + request.target + " -> " +
                     std::to_string(response.status) + " " + response.body.substr(0, 512);
  constexpr int kKnown[] = {200, 204, 400, 401, 403, 404, 405, 409, 413, 500, 501, 503};
  bool known = false;
  for (int status : kKnown) known = known || response.status == status;
  COFFRE_FUZZ_CHECK(known, what);
  COFFRE_FUZZ_CHECK(response.status < 500, what);
  const std::string* type = FindHeader(response, "content-type");
  if (type && type->find("json") != std::string::npos && !response.body.empty()) {
    COFFRE_FUZZ_CHECK(fz::IsValidJson(response.body), what);
  }
  if (response.status == 401 && type && type->find("json") != std::string::npos &&
      response.body.find("Unauthorized") != std::string::npos) {
    COFFRE_FUZZ_CHECK(FindHeader(response, "www-authenticate") != nullptr, what);
  }
}

// Empties vault dev (keys, deleted keys) so every input starts from the same state.
void ClearVault() {
  for (int round = 0; round < 100; ++round) {
    std::vector<std::string> names;
    coffre::service::PageRequest page;
    auto active = world->keys->ListKeys(world->vault(), page);
    auto deleted = world->keys->ListDeletedKeys(world->vault(), page);
    COFFRE_FUZZ_CHECK(active.ok() && deleted.ok(), "listing failed");
    for (const auto& item : active->items) names.push_back(item.name);
    for (const auto& item : deleted->items) names.push_back(item.item.name);
    if (names.empty()) return;
    for (const auto& name : names) COFFRE_FUZZ_CHECK(fz::RemoveKey(*world, name), name);
  }
  fz::Fail("vault dev does not empty");
}

// The slow requests described at the top (judged on the decoded path, as the router sees it).
bool Skipped(const http::ApiRequest& request, bool mentions_rsa) {
  auto target = http::ParseRequestTarget(request.target);
  if (!target) return false;
  for (const auto& segment : target->segments) {
    std::string lower = Lower(segment);
    if (lower == "oauth2") return true;
    if (mentions_rsa && (lower == "create" || lower == "rotate")) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world = new fz::World(fz::ScratchDir("router"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = AsChars(ByteSpan(data, size));
  const bool mentions_rsa = Lower(input).find("rsa") != std::string::npos;
  for (size_t i = 0; i < kMaxRequests && !input.empty(); ++i) {
    size_t end = input.find(kSeparator);
    http::ApiRequest request = ParseRequest(input.substr(0, end));
    input =
        end == std::string_view::npos ? std::string_view{} : input.substr(end + kSeparator.size());
    const http::Route route = http::Router::RouteOf(request);
    if (Skipped(request, mentions_rsa)) continue;
    Check(request, world->router->Handle(request, route));
  }
  ClearVault();
  return 0;
}
