#include "http/server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <optional>
#include <thread>

#include "audit/audit_log.h"
#include "common/strings.h"
#include "crypto/random.h"

namespace coffre::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Client-secret checks waiting for the sign-in pool; more are answered 429 at once.
constexpr int kMaxQueuedSignIns = 64;

// The only CONNECT targets the proxy accepts: NAME.vault.azure.net:443. It never connects
// anywhere; it terminates TLS itself and serves the vault in the tunnel.
bool IsVaultProxyTarget(std::string_view target) {
  std::string t = AsciiLower(target);
  constexpr std::string_view kSuffix = ".vault.azure.net:443";
  if (t.size() <= kSuffix.size() || !t.ends_with(kSuffix)) return false;
  std::string_view label = std::string_view(t).substr(0, t.size() - kSuffix.size());
  return label.size() <= 63 && std::all_of(label.begin(), label.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-';
         });
}

bool IsSafeHeaderValue(std::string_view v) {
  return v.size() <= 256 &&
         std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

// Lingering close (see Session::Linger): at most this long, this many bytes, and this long
// without a byte.
constexpr std::chrono::seconds kLingerTime{10};
constexpr size_t kLingerBytes = 16 * 1024 * 1024;
constexpr std::chrono::seconds kLingerIdle{2};
constexpr size_t kLingerChunk = 64 * 1024;

std::string_view TrimSpaces(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

struct Refusal {
  int status;
  std::string code;
  std::string message;
};

// The parser reads a body as chunked only when the last transfer coding is "chunked", and a
// request with any other coding as having no body at all. Only plain chunked is served: other
// codings are 501 (RFC 9112 6.1), a list that does not end in chunked cannot be framed (400).
std::optional<Refusal> CheckTransferEncoding(const bhttp::request<bhttp::string_body>& message) {
  auto [first, last] = message.equal_range(bhttp::field::transfer_encoding);
  if (first == last) return std::nullopt;
  std::string codings;
  for (auto it = first; it != last; ++it) {
    if (!codings.empty()) codings += ',';
    codings += std::string(it->value());
  }
  std::vector<std::string_view> tokens;
  std::string_view rest = codings;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view token = TrimSpaces(rest.substr(0, comma));
    if (!token.empty()) tokens.push_back(token);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  if (tokens.size() == 1 && beast::iequals(tokens[0], "chunked")) return std::nullopt;
  const bool chunked_before_last =
      std::any_of(tokens.begin(), tokens.empty() ? tokens.end() : tokens.end() - 1,
                  [](std::string_view t) { return beast::iequals(t, "chunked"); });
  if (!tokens.empty() && beast::iequals(tokens.back(), "chunked") && !chunked_before_last) {
    return Refusal{501, "NotImplemented",
                   "The only transfer coding the server supports is chunked, alone."};
  }
  return Refusal{400, "BadRequest",
                 "The request body cannot be framed: Transfer-Encoding must end with chunked, "
                 "applied once."};
}

ApiResponse AuditFailureResponse() {
  return ErrorResponse(Status::Internal("The request could not be recorded in the audit log."));
}

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof(buffer), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

}  // namespace

struct ServerState {
  ServerState(ServerOptions opts, const Router& r)
      : options(std::move(opts)),
        router(r),
        io_threads(options.io_threads > 0
                       ? options.io_threads
                       : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
        ioc(io_threads),
        fast_pool(options.worker_threads > 0 ? options.worker_threads
                                             : std::max(4, 2 * io_threads + 2)),
        slow_pool(std::max(2, io_threads)),
        sign_in_threads(std::max(1, io_threads / 2)),
        sign_in_pool(sign_in_threads),
        signals(ioc, SIGINT, SIGTERM) {}

  ServerOptions options;
  const Router& router;
  int io_threads;
  asio::io_context ioc;
  asio::thread_pool fast_pool;
  asio::thread_pool slow_pool;
  int sign_in_threads;
  asio::thread_pool sign_in_pool;  // client-secret checks only, at a lower CPU priority
  asio::signal_set signals;
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls;  // swapped when the certificate changes; guarded

  std::shared_ptr<ssl::context> CurrentTls() {
    std::lock_guard lock(tls_mutex);
    return tls;
  }
  std::vector<std::unique_ptr<tcp::acceptor>> https_acceptors;
  std::vector<std::unique_ptr<tcp::acceptor>> http_acceptors;
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  std::vector<std::shared_ptr<std::function<void(boost::system::error_code)>>> periodic_tasks;
  uint16_t https_port = 0;
  uint16_t http_port = 0;

  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};
  std::atomic<int> sign_ins_queued{0};
  // Keeps the I/O threads running while requests are on the worker pools: once draining has
  // closed the acceptors and timers, their pending writes may be the only work left.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stop_requested = false;

  Status MakeTlsContext(const std::string& cert_chain_pem, const SecureString& key_pem);
  Result<uint16_t> Listen(std::vector<std::unique_ptr<tcp::acceptor>>& acceptors,
                          const std::vector<std::string>& addresses, uint16_t port);
  void Accept(tcp::acceptor& acceptor, bool secure);
  void RequestStop() {
    std::lock_guard lock(stop_mutex);
    stop_requested = true;
    stop_cv.notify_all();
  }
};

namespace {

template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kSecure = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(ServerState& server, Stream stream, std::string client_address)
      : server_(server), stream_(std::move(stream)), client_address_(std::move(client_address)) {}

  void Start() {
    if constexpr (kSecure) {
      beast::get_lowest_layer(stream_).expires_after(server_.options.request_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec)
                                  return;  // Bad or truncated handshakes just close the connection.
                                self->Read();
                              });
    } else {
      Read();
    }
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    // The first request on a connection gets the request timeout; later ones may idle longer.
    beast::get_lowest_layer(stream_).expires_after(requests_ == 0 ? server_.options.request_timeout
                                                                  : server_.options.idle_timeout);
    // The header first: a client that sent "Expect: 100-continue" waits for an answer before
    // it sends the body.
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    auto& message = parser_->get();
    if (auto refused = CheckTransferEncoding(message)) {
      return WriteError(refused->status, refused->code, refused->message);
    }
    auto expect = message.find(bhttp::field::expect);
    // HTTP/1.0 clients know no interim responses: their expectations are ignored (RFC 9110).
    if (expect == message.end() || message.version() < 11) return ReadBody();
    if (!beast::iequals(TrimSpaces(expect->value()), "100-continue")) {
      return WriteError(417, "ExpectationFailed",
                        "The only expectation the server supports is 100-continue.");
    }
    // Nothing to wait for: no body, or the client already started sending it.
    if (parser_->is_done() || buffer_.size() != 0) return ReadBody();

    // The client holds its body back until it hears from us. A request that would be refused
    // whatever its body says (unknown vault, missing or bad token) gets that answer now, with
    // no 100 Continue; the rest get 100 Continue and their body is read.
    auto request = NewApiRequest(message);
    const auto started = Clock::now();
    Route route = Router::RouteOf(*request);
    asio::post(server_.fast_pool, [self = this->shared_from_this(), request,
                                   route = std::move(route), started]() mutable {
      std::optional<ApiResponse> early;
      try {
        early = self->server_.router.Precheck(*request, route);
      } catch (const std::exception&) {
        early.reset();  // let the full request run and report the failure
      }
      asio::post(self->stream_.get_executor(), [self, request, early = std::move(early),
                                                started]() mutable {
        if (!early) return self->SendContinue();
        self->keep_alive_ = false;
        self->linger_ = true;
        early->close_connection = true;
        self->server_.in_flight.fetch_add(1);
        request->request_id = crypto::RandomUuid();
        auto elapsed =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
        self->AuditThenWrite(std::move(request), std::move(*early), elapsed.count() / 1000.0);
      });
    });
  }

  void SendContinue() {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(stream_, asio::buffer(kContinue),
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        self->ReadBody();
                      });
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRead({});  // no body, or all of it arrived with the header
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return WriteError(413, "RequestTooLarge",
                        "The request body is larger than the limit of " +
                            std::to_string(server_.options.max_body_bytes) + " bytes.");
    }
    if (ec == bhttp::error::header_limit) {
      return WriteError(431, "RequestHeaderFieldsTooLarge",
                        "The request headers are larger than the limit of " +
                            std::to_string(server_.options.max_header_bytes) + " bytes.");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return WriteError(400, "BadRequest", "The request is not valid HTTP/1.1.");
    }
    return Close();
  }

  std::shared_ptr<ApiRequest> NewApiRequest(const bhttp::request<bhttp::string_body>& message) {
    auto request = std::make_shared<ApiRequest>();
    request->method = std::string(message.method_string());
    request->target = std::string(message.target());
    request->host = std::string(message[bhttp::field::host]);
    request->secure = kSecure;
    request->client_address = client_address_;
    for (std::string_view name : kForwardedHeaders) {
      auto it = message.find(name);
      if (it != message.end())
        request->headers.emplace(std::string(name), std::string(it->value()));
    }
    return request;
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    ++requests_;
    auto& message = parser_->get();
    if constexpr (!kSecure) {
      if (message.method() == bhttp::verb::connect) return Connect(std::string(message.target()));
    }

    auto request = NewApiRequest(message);
    request->body = std::move(message.body());
    keep_alive_ = message.keep_alive();

    server_.in_flight.fetch_add(1);
    request->request_id = crypto::RandomUuid();
    const auto started = Clock::now();
    Route route = Router::RouteOf(*request);
    if (route.kind == WorkKind::kCompute && server_.options.compute_on_io_threads) {
      return Process(std::move(request), route, started);
    }
    if (route.kind == WorkKind::kSignIn) {
      // Past a bounded queue, sign-ins are refused at once rather than waited for.
      if (server_.sign_ins_queued.fetch_add(1) >= kMaxQueuedSignIns) {
        server_.sign_ins_queued.fetch_sub(1);
        ApiResponse busy =
            JsonResponse(429, R"({"error":"temporarily_unavailable","error_description":)"
                              R"("Too many sign-in requests are waiting. Retry later."})");
        busy.headers.emplace_back("Retry-After", "1");
        busy.audit.operation = "ClientCredentialsToken";
        return AuditThenWrite(std::move(request), std::move(busy), 0);
      }
      asio::post(server_.sign_in_pool,
                 [self = this->shared_from_this(), request, route = std::move(route), started] {
                   self->server_.sign_ins_queued.fetch_sub(1);
                   self->Process(request, route, started);
                 });
      return;
    }
    auto& pool = route.kind == WorkKind::kSlow ? server_.slow_pool : server_.fast_pool;
    asio::post(pool, [self = this->shared_from_this(), request, route = std::move(route), started] {
      self->Process(request, route, started);
    });
  }

  void Process(std::shared_ptr<ApiRequest> request, const Route& route, Clock::time_point started) {
    ApiResponse response;
    if (audit::AuditLog* log = server_.options.audit_log; log != nullptr && !log->Health().ok()) {
      // Once the log cannot be written, nothing runs: a request that ran could not be recorded.
      response = AuditFailureResponse();
    } else {
      try {
        response = server_.router.Handle(*request, route);
      } catch (const std::exception&) {
        response = ErrorResponse(Status::Internal("The server failed to process the request."));
      }
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    spdlog::debug("{} {} {} {:.1f}ms", request->method,
                  std::string_view(request->target).substr(0, request->target.find('?')),
                  response.status, elapsed.count() / 1000.0);
    AuditThenWrite(std::move(request), std::move(response), elapsed.count() / 1000.0);
  }

  // Records the request, then sends the response once the audit line is on disk. The pool thread
  // does not wait for that: the audit log's writer completes the request, so one disk sync
  // answers every request it covers. If the line cannot be written the response becomes a 500
  // (no unaudited success).
  void AuditThenWrite(std::shared_ptr<ApiRequest> request, ApiResponse response,
                      double latency_ms) {
    audit::AuditLog* log = server_.options.audit_log;
    if (log == nullptr || response.audit.skip) {
      return asio::post(stream_.get_executor(),
                        [self = this->shared_from_this(), request = std::move(request),
                         response = std::move(response)]() mutable {
                          self->Write(std::move(response), request.get());
                        });
    }
    const AuditInfo& info = response.audit;
    audit::AuditRecord record{.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count(),
                              .request_id = request->request_id,
                              .caller_object_id = info.caller_object_id,
                              .caller_app_id = info.caller_app_id,
                              .client_address = request->client_address,
                              .vault = info.vault,
                              .operation = info.operation,
                              .key_name = info.key_name,
                              .key_version = info.key_version,
                              .status = response.status,
                              .latency_ms = latency_ms};
    // std::function needs a copyable callable, so the response travels behind a shared_ptr.
    auto pending = std::make_shared<ApiResponse>(std::move(response));
    log->AppendAsync(record, [self = this->shared_from_this(), request = std::move(request),
                              pending](Status logged) {
      if (!logged.ok()) {
        spdlog::error("audit log: {}", logged.message());
        if (pending->sensitive) SecureWipe(pending->body.data(), pending->body.size());
        *pending = AuditFailureResponse();
      }
      asio::post(self->stream_.get_executor(),
                 [self, request, pending] { self->Write(std::move(*pending), request.get()); });
    });
  }

  void WriteError(int status, std::string code, std::string message) {
    ApiResponse response = ErrorResponse(Status(ErrorKind::kBadRequest, code, message));
    response.status = status;
    response.close_connection = true;
    keep_alive_ = false;
    linger_ = true;
    server_.in_flight.fetch_add(1);
    Write(std::move(response), nullptr);
  }

  void Write(ApiResponse api, const ApiRequest* request) {
    auto response = std::make_shared<bhttp::response<bhttp::string_body>>();
    response->version(11);
    response->result(static_cast<unsigned>(api.status));
    for (auto& [name, value] : api.headers) response->set(name, value);
    response->set(bhttp::field::date, HttpDate());
    response->set(bhttp::field::cache_control, "no-cache");
    response->set(bhttp::field::pragma, "no-cache");
    response->set(bhttp::field::expires, "-1");
    response->set("X-Content-Type-Options", "nosniff");
    response->set("x-ms-request-id", request != nullptr && !request->request_id.empty()
                                         ? request->request_id
                                         : crypto::RandomUuid());
    response->set("x-ms-keyvault-service-version", "coffre-0.1.0");
    if constexpr (kSecure) {
      response->set(bhttp::field::strict_transport_security, "max-age=31536000;includeSubDomains");
    }
    if (request != nullptr) {
      if (const std::string* id = request->Header("x-ms-client-request-id");
          id != nullptr && IsSafeHeaderValue(*id)) {
        response->set("x-ms-client-request-id", *id);
      }
    }
    response->body() = std::move(api.body);
    bool keep_alive = keep_alive_ && !api.close_connection && !server_.draining.load();
    response->keep_alive(keep_alive);
    response->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(server_.options.request_timeout);
    bhttp::async_write(stream_, *response,
                       [self = this->shared_from_this(), response, keep_alive,
                        sensitive = api.sensitive](beast::error_code ec, size_t) {
                         if (sensitive) {
                           SecureWipe(response->body().data(), response->body().size());
                         }
                         self->server_.in_flight.fetch_sub(1);
                         if (ec) return self->Close();
                         if (!keep_alive) return self->linger_ ? self->Linger() : self->Close();
                         self->Read();
                       });
  }

  // After an early answer (413, 401 before the body, a framing error) the client may still be
  // sending: closing now would reset the connection and destroy the answer before the client
  // reads it. So, like nginx's lingering close, read and drop what still comes, bounded in bytes
  // and time, then close.
  void Linger() {
    linger_ = false;
    linger_deadline_ = Clock::now() + kLingerTime;
    linger_bytes_ = buffer_.size();
    buffer_.consume(buffer_.size());
    LingerRead();
  }

  void LingerRead() {
    const auto now = Clock::now();
    if (linger_bytes_ >= kLingerBytes || now >= linger_deadline_) return Close();
    beast::get_lowest_layer(stream_).expires_after(
        std::min<Clock::duration>(kLingerIdle, linger_deadline_ - now));
    stream_.async_read_some(buffer_.prepare(kLingerChunk),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->linger_bytes_ += n;  // never committed: dropped
                              self->LingerRead();
                            });
  }

  void Close() {
    if constexpr (kSecure) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_)
            .socket()
            .shutdown(tcp::socket::shutdown_both, ignored);
      });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  // CONNECT NAME.vault.azure.net:443 on the plain listener: answer 200, then speak TLS with the
  // dev certificate on the same socket and serve the vault inside the tunnel.
  void Connect(std::string target);

  ServerState& server_;
  Stream stream_;
  std::string client_address_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = false;
  bool linger_ = false;  // read what the client still sends before closing
  Clock::time_point linger_deadline_{};
  size_t linger_bytes_ = 0;
  uint64_t requests_ = 0;
};

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

template <>
void PlainSession::Connect(std::string target) {
  if (!IsVaultProxyTarget(target) || buffer_.size() != 0 || server_.draining.load()) {
    return WriteError(403, "Forbidden",
                      "This proxy only tunnels to NAME.vault.azure.net:443, served locally.");
  }
  auto reply = std::make_shared<std::string>("HTTP/1.1 200 Connection Established\r\n\r\n");
  stream_.expires_after(server_.options.request_timeout);
  asio::async_write(stream_, asio::buffer(*reply),
                    [self = shared_from_this(), reply](beast::error_code ec, size_t) {
                      if (ec) return;
                      auto tunnel = std::make_shared<TlsSession>(
                          self->server_,
                          beast::ssl_stream<beast::tcp_stream>(std::move(self->stream_),
                                                               *self->server_.CurrentTls()),
                          self->client_address_);
                      tunnel->Start();
                    });
}

}  // namespace

Status ServerState::MakeTlsContext(const std::string& cert_chain_pem, const SecureString& key_pem) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  // TLS 1.2: forward secrecy (ECDHE) and AEAD only; no CBC, no SHA-1 MACs, no static RSA or DHE.
  // TLS 1.3 suites (all AEAD with forward secrecy) keep OpenSSL's defaults.
  if (SSL_CTX_set_cipher_list(context->native_handle(), kTls12Ciphers) != 1) {
    return Status::Internal("The TLS cipher suites could not be set.");
  }
  SSL_CTX_set_options(context->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  beast::error_code ec;
  context->use_certificate_chain(asio::buffer(cert_chain_pem.data(), cert_chain_pem.size()), ec);
  if (ec) return Status::Internal("The TLS certificate could not be loaded.");
  context->use_private_key(asio::buffer(key_pem.data(), key_pem.size()), ssl::context::pem, ec);
  if (ec) return Status::Internal("The TLS private key could not be loaded.");
  std::lock_guard lock(tls_mutex);
  tls = std::move(context);
  return Status::Ok();
}

Result<uint16_t> ServerState::Listen(std::vector<std::unique_ptr<tcp::acceptor>>& acceptors,
                                     const std::vector<std::string>& addresses, uint16_t port) {
  for (const auto& text : addresses) {
    beast::error_code ec;
    auto address = asio::ip::make_address(text, ec);
    if (ec) return Status::BadParameter("Not an IP address: " + text);
    auto acceptor = std::make_unique<tcp::acceptor>(ioc);
    tcp::endpoint endpoint(address, port);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && address.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("Cannot listen on " + text + " port " + std::to_string(port) +
                                 ": " + ec.message());
    }
    // With port 0 the first address picks the port and the others follow it.
    if (port == 0) port = acceptor->local_endpoint().port();
    acceptors.push_back(std::move(acceptor));
  }
  return port;
}

void ServerState::Accept(tcp::acceptor& acceptor, bool secure) {
  acceptor.async_accept(asio::make_strand(ioc), [this, &acceptor, secure](beast::error_code ec,
                                                                          tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto remote = socket.remote_endpoint(ignored);
      std::string client = ignored ? std::string() : remote.address().to_string();
      if (secure) {
        std::make_shared<TlsSession>(
            *this, beast::ssl_stream<beast::tcp_stream>(std::move(socket), *CurrentTls()), client)
            ->Start();
      } else {
        std::make_shared<PlainSession>(*this, beast::tcp_stream(std::move(socket)), client)
            ->Start();
      }
    }
    Accept(acceptor, secure);
  });
}

namespace {

// Runs every thread of `pool` at nice +10: password hashing that anyone can ask for then yields
// the cores to the I/O threads and the other pools when they compete.
void LowerPriority(asio::thread_pool& pool, int threads) {
  std::latch all_ran(threads);
  for (int i = 0; i < threads; ++i) {
    asio::post(pool, [&all_ran] {
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
      all_ran.arrive_and_wait();  // one task per thread
    });
  }
  all_ran.wait();
}

}  // namespace

Server::Server(ServerOptions options, const Router& router)
    : impl_(std::make_unique<ServerState>(std::move(options), router)) {
  LowerPriority(impl_->sign_in_pool, impl_->sign_in_threads);
}

Server::~Server() {
  Stop();
  Wait();
}

Status Server::Start() {
  ServerState& s = *impl_;
  COFFRE_RETURN_IF_ERROR(s.MakeTlsContext(s.options.cert_chain_pem, s.options.private_key_pem));
  COFFRE_ASSIGN_OR_RETURN(
      s.https_port, s.Listen(s.https_acceptors, s.options.bind_addresses, s.options.https_port));
  // The plain listener serves tokens and the proxy: loopback only, whatever --bind says.
  COFFRE_ASSIGN_OR_RETURN(s.http_port,
                          s.Listen(s.http_acceptors, {"127.0.0.1", "::1"}, s.options.http_port));
  for (auto& acceptor : s.https_acceptors) s.Accept(*acceptor, true);
  for (auto& acceptor : s.http_acceptors) s.Accept(*acceptor, false);
  s.signals.async_wait([&s](beast::error_code ec, int) {
    if (!ec) s.RequestStop();
  });
  s.work.emplace(s.ioc.get_executor());
  for (int i = 0; i < s.io_threads; ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
  return Status::Ok();
}

void Server::Stop() { impl_->RequestStop(); }

void Server::Wait() {
  ServerState& s = *impl_;
  if (s.threads.empty()) return;
  {
    std::unique_lock lock(s.stop_mutex);
    s.stop_cv.wait(lock, [&s] { return s.stop_requested; });
  }
  s.draining.store(true);
  asio::post(s.ioc, [&s] {
    beast::error_code ignored;
    for (auto& a : s.https_acceptors) a->close(ignored);
    for (auto& a : s.http_acceptors) a->close(ignored);
    for (auto& t : s.timers) t->cancel();
    s.signals.cancel(ignored);
  });
  // Let requests already being handled finish and their responses go out.
  auto deadline = Clock::now() + s.options.drain_timeout;
  while (s.in_flight.load() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.fast_pool.join();
  s.slow_pool.join();
  s.sign_in_pool.join();
}

Status Server::SetCertificate(const std::string& cert_chain_pem,
                              const SecureString& private_key_pem) {
  // The SSL objects of open connections hold their own reference to the old context.
  return impl_->MakeTlsContext(cert_chain_pem, private_key_pem);
}

uint16_t Server::https_port() const { return impl_->https_port; }
uint16_t Server::http_port() const { return impl_->http_port; }

void Server::RunPeriodically(std::chrono::seconds period, std::function<void()> task) {
  ServerState& s = *impl_;
  auto timer = std::make_unique<asio::steady_timer>(s.ioc);
  auto* raw = timer.get();
  s.timers.push_back(std::move(timer));
  auto shared_task = std::make_shared<std::function<void()>>(std::move(task));
  auto tick = std::make_shared<std::function<void(beast::error_code)>>();
  *tick = [&s, raw, period, shared_task, weak = std::weak_ptr(tick)](beast::error_code ec) {
    if (ec || s.draining.load()) return;
    asio::post(s.fast_pool, [shared_task] {
      try {
        (*shared_task)();
      } catch (const std::exception& e) {
        spdlog::error("background task failed: {}", e.what());
      }
    });
    raw->expires_after(period);
    if (auto next = weak.lock()) raw->async_wait(*next);
  };
  s.periodic_tasks.push_back(tick);  // owns the callback as long as the server lives
  raw->expires_after(std::chrono::seconds(0));
  raw->async_wait(*tick);
}

}  // namespace coffre::http
