// Where the CLI's requests go and with which credentials: the server (--server, $COFFRE_SERVER or
// the `coffre login` file), the admin token, the CA bundle, the credentials file itself, and the
// admin API client. Every request goes through the coffre::keys client library's transport.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cli/cli.h"
#include "coffre/core/client_options.h"
#include "coffre/core/credentials.h"
#include "coffre/core/http.h"

namespace coffre::cli {

// What `coffre login` stores in $XDG_CONFIG_HOME/coffre/credentials.json.
struct LoginConfig {
  std::string server;  // origin, "https://localhost:8443"
  std::string admin_token;
  std::string client_id;
  std::string client_secret;
  std::string tenant;   // "adfs" unless given
  std::string ca_file;  // absolute path of the CA bundle seen at login, if any
};

// $XDG_CONFIG_HOME/coffre/credentials.json, else $HOME/.config/coffre/credentials.json.
std::string CredentialsPath();
std::optional<LoginConfig> LoadLoginConfig();
// Writes the file atomically: directory 0700, file 0600, never readable by others in between.
void SaveLoginConfig(const LoginConfig& config);
// False when there was no file.
bool RemoveLoginConfig();

struct ServerUrl {
  std::string scheme;  // "https"
  std::string host;    // lower case; IPv6 literals keep their brackets
  std::string port;    // empty: the scheme's default
  std::string Origin() const;
  std::string HostPort() const;  // "localhost:8443"
  bool IsIpLiteral() const;
};
// https URLs with nothing but an optional "/" after the authority; nullopt otherwise.
std::optional<ServerUrl> ParseServerUrl(const std::string& text);

// The server and credentials a command works with.
struct Target {
  std::optional<ServerUrl> server;  // unset: no --server, $COFFRE_SERVER or login
  std::string admin_token;
  core::TransportOptions transport;
  // The login file when it belongs to `server` (or no other server was named).
  std::optional<LoginConfig> login;

  // The server or a usage error saying how to name one.
  const ServerUrl& RequireServer() const;
};

Target ResolveTarget(const GlobalOptions& global);

// JSON calls to /coffre-admin/v1/... with the admin token.
class AdminClient {
 public:
  // Usage error (exit 2) without a server or an admin token.
  explicit AdminClient(const Target& target);

  json::value Get(const std::string& path) const;
  json::value Post(const std::string& path, const json::value& body) const;
  json::value Put(const std::string& path, const json::value& body) const;
  json::value Patch(const std::string& path, const json::value& body) const;
  void Delete(const std::string& path) const;

  const ServerUrl& server() const { return server_; }

 private:
  json::value Send(core::http::HttpMethod method, const std::string& path,
                   const json::value* body) const;

  ServerUrl server_;
  std::string token_;
  std::shared_ptr<core::http::HttpTransport> transport_;
};

// The credential for the data plane: the `coffre login` principal (client secret against the
// server's ADFS endpoint) when there is one for this server, else DefaultAzureCredential
// (environment, then managed identity: what dev.env sets up).
std::shared_ptr<const core::credentials::TokenCredential> MakeCredential(const Target& target);

}  // namespace coffre::cli
