#include "coffre/core/curl_transport.h"

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "coffre/core/exception.h"

namespace coffre::core::http {
namespace {

// A misbehaving server must not make the client buffer without bound.
constexpr size_t kMaxResponseBody = 64 * 1024 * 1024;

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What the callbacks fill in while a transfer runs.
struct Transfer {
  const Context* context = nullptr;
  int major = 1;
  int minor = 1;
  int status = 0;
  std::string reason;
  CaseInsensitiveMap headers;
  std::vector<uint8_t> body;
  bool body_too_large = false;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response starts (after a 100 Continue, for instance): forget the previous one.
    t->headers.clear();
    t->reason.clear();
    if (line.size() >= 8 && line[6] == '.') {
      t->major = line[5] - '0';
      t->minor = line[7] - '0';
    } else if (line.size() >= 6) {
      t->major = line[5] - '0';
      t->minor = 0;
    }
    size_t sp = line.find(' ');
    if (sp != std::string_view::npos) {
      size_t sp2 = line.find(' ', sp + 1);
      if (sp2 != std::string_view::npos) t->reason = std::string(line.substr(sp2 + 1));
    }
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return n;
  std::string name(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  auto it = t->headers.find(name);
  if (it == t->headers.end()) {
    t->headers.emplace(std::move(name), std::string(value));
  } else {
    it->second += ", ";
    it->second += value;
  }
  return n;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->body.size() + n > kMaxResponseBody) {
    t->body_too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (t->body.capacity() < t->body.size() + n) {
    // Grown by hand so the outgrown buffer is wiped: bodies may carry secret values.
    std::vector<uint8_t> larger;
    larger.reserve(std::max({t->body.capacity() * 2, t->body.size() + n, size_t{16384}}));
    larger.assign(t->body.begin(), t->body.end());
    OPENSSL_cleanse(t->body.data(), t->body.size());
    t->body.swap(larger);
  }
  t->body.insert(t->body.end(), reinterpret_cast<uint8_t*>(data),
                 reinterpret_cast<uint8_t*>(data) + n);
  return n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->context != nullptr && t->context->IsCancelled() ? 1 : 0;
}

// Failures that the same request cannot get past by trying again.
bool IsRetriable(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_FUNCTION_NOT_FOUND:
      return false;
    default:
      return true;
  }
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void Add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    list = next;
  }
};

}  // namespace

struct CurlTransport::Impl {
  TransportOptions options;
  std::string ca_file;
  std::string ca_path;
  std::mutex mutex;
  std::vector<CURL*> idle;

  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!idle.empty()) {
        CURL* handle = idle.back();
        idle.pop_back();
        return handle;
      }
    }
    CURL* handle = curl_easy_init();
    if (handle == nullptr) throw TransportException("curl_easy_init failed", false);
    return handle;
  }

  // Handles go back with their open connection so the next request can reuse it.
  void Release(CURL* handle) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (static_cast<int32_t>(idle.size()) < std::max<int32_t>(options.MaxIdleConnections, 0)) {
        idle.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }

  ~Impl() {
    for (CURL* handle : idle) curl_easy_cleanup(handle);
  }
};

CurlTransport::CurlTransport(TransportOptions options) : impl_(std::make_unique<Impl>()) {
  GlobalInit();
  impl_->options = std::move(options);
  impl_->ca_file = impl_->options.CaFile;
  if (impl_->ca_file.empty()) impl_->ca_file = EnvOrEmpty("CURL_CA_BUNDLE");
  if (impl_->ca_file.empty()) impl_->ca_file = EnvOrEmpty("SSL_CERT_FILE");
  impl_->ca_path = impl_->options.CaPath;
  if (impl_->ca_path.empty() && impl_->ca_file.empty()) impl_->ca_path = EnvOrEmpty("SSL_CERT_DIR");
}

CurlTransport::~CurlTransport() = default;

std::unique_ptr<RawResponse> CurlTransport::Send(const Request& request, const Context& context) {
  context.ThrowIfCancelled();
  CURL* curl = impl_->Acquire();
  curl_easy_reset(curl);  // keeps the connection cache, drops every option

  Transfer transfer;
  transfer.context = &context;
  char error[CURL_ERROR_SIZE] = {0};
  const TransportOptions& o = impl_->options;

  auto timeout = o.RequestTimeout;
  DateTime deadline = context.GetDeadline();
  if (deadline != DateTime::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::system_clock::now());
    timeout = std::max(std::chrono::milliseconds(1), std::min(timeout, left));
  }

  curl_easy_setopt(curl, CURLOPT_URL, request.GetUrl().c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
  if (!impl_->ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, impl_->ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_PROXY_CAINFO, impl_->ca_file.c_str());
  }
  if (!impl_->ca_path.empty()) curl_easy_setopt(curl, CURLOPT_CAPATH, impl_->ca_path.c_str());
  if (o.HttpProxy.HasValue()) curl_easy_setopt(curl, CURLOPT_PROXY, o.HttpProxy.Value().c_str());
  curl_easy_setopt(curl, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.ConnectionTimeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);

  const std::string& body = request.GetBody();
  switch (request.GetMethod()) {
    case HttpMethod::Get:
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
      break;
    case HttpMethod::Head:
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
      break;
    case HttpMethod::Post:
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      break;
    case HttpMethod::Put:
    case HttpMethod::Patch:
    case HttpMethod::Delete: {
      // libcurl copies string options (but not POSTFIELDS, which `body` keeps alive).
      std::string method(HttpMethodToString(request.GetMethod()));
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
      if (!body.empty() || request.GetMethod() != HttpMethod::Delete) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      }
      break;
    }
  }

  HeaderList headers;
  for (const auto& [name, value] : request.GetHeaders()) {
    headers.Add(value.empty() ? name + ";" : name + ": " + value);
  }
  // No "Expect: 100-continue" round trip for larger bodies.
  headers.Add("Expect:");
  if (!request.GetHeader("content-type").HasValue() &&
      (request.GetMethod() == HttpMethod::Post || request.GetMethod() == HttpMethod::Put ||
       request.GetMethod() == HttpMethod::Patch)) {
    // Otherwise curl labels POSTFIELDS as a form.
    headers.Add("Content-Type:");
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    // A handle whose transfer failed may hold a half-used connection: drop it.
    curl_easy_cleanup(curl);
    if (code == CURLE_ABORTED_BY_CALLBACK) {
      throw OperationCancelledException("The request was cancelled.");
    }
    std::string message = "HTTP request to " + request.GetUrl() + " failed: ";
    message += curl_easy_strerror(code);
    if (transfer.body_too_large) message += " (response body too large)";
    if (error[0] != '\0') message += std::string(" (") + error + ")";
    throw TransportException(message, IsRetriable(code));
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  impl_->Release(curl);

  auto response = std::make_unique<RawResponse>(transfer.major, transfer.minor,
                                                static_cast<HttpStatusCode>(status),
                                                std::move(transfer.reason));
  for (auto& [name, value] : transfer.headers) response->SetHeader(name, std::move(value));
  response->SetBody(std::move(transfer.body));
  return response;
}

}  // namespace coffre::core::http
