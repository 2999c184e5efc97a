#include "cli/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "cli/server_probe.h"
#include "coffre/core/curl_transport.h"
#include "coffre/identity/identity.h"

namespace coffre::cli {
namespace {

constexpr const char* kNoServer =
    "No server given: pass --server https://HOST:PORT, set COFFRE_SERVER (dev.env does) or run "
    "`coffre login`.";

std::string HomeDir() {
  std::string home = GetEnv("HOME");
  if (!home.empty()) return home;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  throw Failure("Cannot tell the home directory: HOME is not set.");
}

std::string ConfigDir() {
  // The XDG spec ignores relative values.
  std::string xdg = GetEnv("XDG_CONFIG_HOME");
  if (xdg.empty() || xdg[0] != '/') xdg = HomeDir() + "/.config";
  return xdg + "/coffre";
}

// Creates `dir` and missing parents; new directories get 0700 (they may hold credentials).
void MakeDirectories(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string part = dir.substr(0, slash);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      throw Failure("Cannot create " + part + ": " + std::strerror(errno));
    }
    if (slash == std::string::npos) break;
  }
}

std::string StringField(const json::object& o, const char* name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
}

}  // namespace

// ---- credentials file ----------------------------------------------------------------------

std::string CredentialsPath() { return ConfigDir() + "/credentials.json"; }

std::optional<LoginConfig> LoadLoginConfig() {
  const std::string path = CredentialsPath();
  if (access(path.c_str(), F_OK) != 0) return std::nullopt;
  std::string text = ReadFileOrThrow(path);
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    throw Failure("The credentials file " + path +
                  " is damaged: run `coffre logout` and `coffre login` again.");
  }
  const json::object& o = parsed.get_object();
  LoginConfig config;
  config.server = StringField(o, "server");
  config.admin_token = StringField(o, "adminToken");
  config.client_id = StringField(o, "clientId");
  config.client_secret = StringField(o, "clientSecret");
  config.tenant = StringField(o, "tenant");
  config.ca_file = StringField(o, "caFile");
  return config;
}

void SaveLoginConfig(const LoginConfig& config) {
  json::object o;
  o["server"] = config.server;
  if (!config.admin_token.empty()) o["adminToken"] = config.admin_token;
  if (!config.client_id.empty()) {
    o["clientId"] = config.client_id;
    o["clientSecret"] = config.client_secret;
    o["tenant"] = config.tenant.empty() ? "adfs" : config.tenant;
  }
  if (!config.ca_file.empty()) o["caFile"] = config.ca_file;
  const std::string text = PrettyJson(o) + "\n";

  const std::string dir = ConfigDir();
  MakeDirectories(dir);
  // The directory may predate us with looser permissions; it is ours, so tighten it.
  if (chmod(dir.c_str(), 0700) != 0) {
    throw Failure("Cannot restrict " + dir + ": " + std::strerror(errno));
  }
  // mkstemp creates the file 0600, so the secret is never readable by others, and the rename
  // makes the new content appear all at once.
  std::string temp = dir + "/.credentials.json.XXXXXX";
  int fd = mkstemp(temp.data());
  if (fd < 0) throw Failure("Cannot write in " + dir + ": " + std::strerror(errno));
  bool ok = fchmod(fd, 0600) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  int saved_errno = errno;
  ok = close(fd) == 0 && ok;
  const std::string path = CredentialsPath();
  if (!ok || rename(temp.c_str(), path.c_str()) != 0) {
    if (ok) saved_errno = errno;
    unlink(temp.c_str());
    throw Failure("Cannot write " + path + ": " + std::strerror(saved_errno));
  }
  if (int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY); dir_fd >= 0) {
    fsync(dir_fd);  // makes the rename durable
    close(dir_fd);
  }
}

bool RemoveLoginConfig() {
  const std::string path = CredentialsPath();
  if (unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw Failure("Cannot remove " + path + ": " + std::strerror(errno));
}

// ---- server URL ----------------------------------------------------------------------------

std::string ServerUrl::Origin() const { return scheme + "://" + HostPort(); }

std::string ServerUrl::HostPort() const { return port.empty() ? host : host + ":" + port; }

bool ServerUrl::IsIpLiteral() const {
  if (!host.empty() && host[0] == '[') return true;
  return host.find_first_not_of("0123456789.") == std::string::npos;
}

std::optional<ServerUrl> ParseServerUrl(const std::string& text) {
  const std::string prefix = "https://";
  if (AsciiLower(text.substr(0, prefix.size())) != prefix) return std::nullopt;
  std::string rest = text.substr(prefix.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string::npos) return std::nullopt;
  ServerUrl url;
  url.scheme = "https";
  size_t colon = rest.rfind(':');
  if (rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return std::nullopt;
    colon = close + 1 < rest.size() && rest[close + 1] == ':' ? close + 1 : std::string::npos;
    if (colon == std::string::npos && close + 1 != rest.size()) return std::nullopt;
  }
  url.host = AsciiLower(rest.substr(0, colon));
  if (colon != std::string::npos) {
    url.port = rest.substr(colon + 1);
    if (url.port.empty() || url.port.size() > 5 ||
        url.port.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    if (url.port == "443") url.port.clear();
  }
  if (url.host.empty()) return std::nullopt;
  return url;
}

const ServerUrl& Target::RequireServer() const {
  if (!server) throw UsageError(kNoServer);
  return *server;
}

Target ResolveTarget(const GlobalOptions& global) {
  std::optional<LoginConfig> login = LoadLoginConfig();
  std::string server_text = global.server;
  std::string source = "--server";
  if (server_text.empty()) {
    server_text = GetEnv("COFFRE_SERVER");
    source = "COFFRE_SERVER";
  }
  if (server_text.empty() && login) {
    server_text = login->server;
    source = CredentialsPath();
  }
  Target target;
  if (!server_text.empty()) {
    target.server = ParseServerUrl(server_text);
    if (!target.server) {
      throw UsageError("The server in " + source + " must be an https URL such as " +
                       "https://localhost:8443, not '" + server_text + "'.");
    }
    auto login_server = login ? ParseServerUrl(login->server) : std::nullopt;
    if (login_server && login_server->Origin() == target.server->Origin()) target.login = login;
  }

  target.admin_token = global.admin_token;
  if (target.admin_token.empty()) target.admin_token = GetEnv("COFFRE_ADMIN_TOKEN");
  if (target.admin_token.empty() && target.login) target.admin_token = target.login->admin_token;

  if (!global.ca_file.empty()) {
    if (access(global.ca_file.c_str(), R_OK) != 0) {
      throw UsageError("--ca-file " + global.ca_file + ": " + std::strerror(errno));
    }
    target.transport.CaFile = global.ca_file;
  } else if (GetEnv("CURL_CA_BUNDLE").empty() && GetEnv("SSL_CERT_FILE").empty() && target.login &&
             !target.login->ca_file.empty()) {
    // Without a CA in the environment, the bundle that verified the server at login does.
    target.transport.CaFile = target.login->ca_file;
  }
  return target;
}

// ---- is a local server running? -------------------------------------------------------------

namespace {

// Connects to `address` within `budget`: true if it accepted, false if refused or silent.
bool Accepts(const sockaddr* address, socklen_t length, std::chrono::milliseconds budget) {
  int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool accepted = false;
  if (::connect(fd, address, length) == 0) {
    accepted = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(budget.count())) == 1) {
      int error = 0;
      socklen_t size = sizeof(error);
      accepted = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0;
    }
  }
  ::close(fd);
  return accepted;
}

}  // namespace

void RequireLocalServerListening(const ServerUrl& server) {
  const std::string& host = server.host;
  const bool local = host == "localhost" || host.ends_with(".localhost") ||
                     host.starts_with("127.") || host == "[::1]";
  if (!local) return;
  int port = server.port.empty() ? 443 : std::atoi(server.port.c_str());
  if (port <= 0 || port > 65535) return;
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(static_cast<uint16_t>(port));
  v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (host.starts_with("127.") && ::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) != 1) return;
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(static_cast<uint16_t>(port));
  v6.sin6_addr = in6addr_loopback;
  const auto budget = std::chrono::milliseconds(900);
  if (!host.starts_with("127.") &&
      Accepts(reinterpret_cast<const sockaddr*>(&v6), sizeof(v6), budget)) {
    return;
  }
  if (host != "[::1]" && Accepts(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4), budget)) {
    return;
  }
  throw Failure("No Coffre server answers at " + server.HostPort() +
                ". Is it running? Start it with `make run` (or `coffre server --dev`) and "
                "source the dev.env it writes; or point --server / COFFRE_SERVER at it.");
}

// ---- admin API -----------------------------------------------------------------------------

namespace {

// The admin API gives times as Unix seconds; the CLI prints ISO 8601 everywhere, as it does
// for keys and secrets.
void IsoTimes(json::value& value) {
  if (value.is_array()) {
    for (auto& item : value.get_array()) IsoTimes(item);
    return;
  }
  if (!value.is_object()) return;
  for (auto& member : value.get_object()) {
    json::value& field = member.value();
    if ((member.key() == "created" || member.key() == "updated") && field.is_int64()) {
      field = FormatTime(field.get_int64());
    } else {
      IsoTimes(field);
    }
  }
}

}  // namespace

AdminClient::AdminClient(const Target& target) : server_(target.RequireServer()) {
  token_ = target.admin_token;
  if (token_.empty()) {
    throw UsageError(
        "No admin token given: pass --admin-token, set COFFRE_ADMIN_TOKEN (dev.env does) or run "
        "`coffre login --admin-token TOKEN`.");
  }
  RequireLocalServerListening(server_);
  transport_ = std::make_shared<core::http::CurlTransport>(target.transport);
}

json::value AdminClient::Get(const std::string& path) const {
  return Send(core::http::HttpMethod::Get, path, nullptr);
}

json::value AdminClient::Post(const std::string& path, const json::value& body) const {
  return Send(core::http::HttpMethod::Post, path, &body);
}

json::value AdminClient::Put(const std::string& path, const json::value& body) const {
  return Send(core::http::HttpMethod::Put, path, &body);
}

json::value AdminClient::Patch(const std::string& path, const json::value& body) const {
  return Send(core::http::HttpMethod::Patch, path, &body);
}

void AdminClient::Delete(const std::string& path) const {
  Send(core::http::HttpMethod::Delete, path, nullptr);
}

json::value AdminClient::Send(core::http::HttpMethod method, const std::string& path,
                              const json::value* body) const {
  core::http::Request request(method, server_.Origin() + "/coffre-admin/v1/" + path,
                              body != nullptr ? json::serialize(*body) : std::string());
  request.SetHeader("Authorization", "Bearer " + token_);
  request.SetHeader("Accept", "application/json");
  request.SetHeader("User-Agent", "coffre-cli");
  if (body != nullptr) request.SetHeader("Content-Type", "application/json");
  std::unique_ptr<core::http::RawResponse> response;
  try {
    response = transport_->Send(request, core::Context());
  } catch (const core::http::TransportException& e) {
    throw Failure("Cannot reach " + server_.Origin() + ": " + e.what());
  }
  const int status = static_cast<int>(response->GetStatusCode());
  const std::string_view text = response->GetBodyAsString();
  boost::system::error_code ec;
  json::value parsed = text.empty() ? json::value() : json::parse(text, ec);
  if (status >= 400) {
    std::string code, message;
    if (!ec && parsed.is_object()) {
      if (auto it = parsed.get_object().find("error");
          it != parsed.get_object().end() && it->value().is_object()) {
        code = StringField(it->value().get_object(), "code");
        message = StringField(it->value().get_object(), "message");
      }
    }
    if (message.empty()) {
      message =
          "The server answered " + std::to_string(status) + " " + response->GetReasonPhrase() + ".";
    }
    if (status == 401) {
      message +=
          " Check --admin-token, COFFRE_ADMIN_TOKEN or `coffre login` (the server keeps "
          "its token in DATA_DIR/admin.token).";
    }
    throw ServiceError(code, message);
  }
  if (ec) throw Failure("The server's answer to " + path + " is not JSON.");
  IsoTimes(parsed);
  return parsed;
}

// ---- data-plane credential -----------------------------------------------------------------

std::shared_ptr<const core::credentials::TokenCredential> MakeCredential(const Target& target) {
  if (target.login && !target.login->client_id.empty()) {
    identity::ClientSecretCredentialOptions options;
    options.Transport = target.transport;
    options.AuthorityHost = target.server->Origin();
    return std::make_shared<identity::ClientSecretCredential>(
        target.login->tenant.empty() ? "adfs" : target.login->tenant, target.login->client_id,
        target.login->client_secret, options);
  }
  identity::DefaultAzureCredentialOptions options;
  options.Transport = target.transport;
  return std::make_shared<identity::DefaultAzureCredential>(options);
}

}  // namespace coffre::cli
