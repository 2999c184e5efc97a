// Server: the HTTPS listener (Key Vault data plane and sign-in endpoints) and the plain-HTTP
// listener (health, managed-identity tokens, the CONNECT proxy for *.vault.azure.net), on
// Beast/Asio with one I/O thread per core. Requests that may block (store writes, key
// generation) are handled on worker pools so they never stall the I/O threads; the rest run
// where they were read.
//
// Beast and Asio stay inside server.cc; this header is cheap to include.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "coffre/status.h"
#include "common/bytes.h"
#include "http/router.h"

namespace coffre::audit {
class AuditLog;
}

namespace coffre::http {

struct ServerOptions {
  std::vector<std::string> bind_addresses = {"127.0.0.1", "::1"};
  uint16_t https_port = 8443;  // 0: pick a free port (the same one on every address)
  uint16_t http_port = 8080;   // 0: pick a free port; the plain listener is always loopback
  int io_threads = 0;          // 0: one per core
  std::string cert_chain_pem;  // server certificate (then intermediates)
  SecureString private_key_pem;
  size_t max_body_bytes = 1024 * 1024;
  size_t max_header_bytes = 32 * 1024;
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds idle_timeout{120};
  std::chrono::seconds drain_timeout{10};
  // Reads and cryptography (WorkKind::kCompute) run on the I/O thread that read the
  // request, saving two thread hand-offs. Off when the store's reads wait on the network
  // (PostgreSQL): then they go to the worker pool like writes, so an I/O thread never idles.
  bool compute_on_io_threads = true;
  // Threads for requests that may block on the store (0: 2 per I/O thread + 2).
  int worker_threads = 0;
  // Every request but health checks is recorded here before its response is sent; a request
  // that cannot be recorded fails with 500. Null: no audit log.
  audit::AuditLog* audit_log = nullptr;
  // --dev: makes a certificate (chain PEM, key PEM) for a TLS server name NAME.localhost that the
  // current certificate does not cover, so that a mistyped vault name gets Key Vault's 404
  // after authentication instead of a TLS hostname error. Made ones are kept (a bounded number).
  // Null: the one certificate for every name.
  std::function<Result<std::pair<std::string, SecureString>>(const std::string& server_name)>
      mint_certificate;
};

struct ServerState;  // Beast/Asio state, defined in server.cc

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener and starts the threads; once it returns OK, requests are accepted.
  Status Start();
  // Blocks until SIGINT/SIGTERM or Stop(); then stops accepting, lets in-flight requests finish
  // (up to drain_timeout) and joins every thread.
  void Wait();
  void Stop();

  uint16_t https_port() const;
  uint16_t http_port() const;

  // Replaces the TLS certificate for new connections (existing ones keep theirs).
  Status SetCertificate(const std::string& cert_chain_pem, const SecureString& private_key_pem);

  // Runs `task` on a worker thread now and then every `period` until the server stops.
  void RunPeriodically(std::chrono::seconds period, std::function<void()> task);

 private:
  std::unique_ptr<ServerState> impl_;
};

}  // namespace coffre::http
