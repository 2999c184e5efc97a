#include "common/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>

namespace coffre {
namespace {

constexpr std::string_view kRequestLoggerName = "request";
constexpr size_t kMaxLoggedPath = 512;
constexpr size_t kMaxLoggedField = 128;

std::atomic<LogFormat> g_format{LogFormat::kText};
// Set once by ConfigureLogging, before the server's threads start; read without a lock.
std::shared_ptr<spdlog::logger> g_request_logger;

std::string Printable(std::string_view value, size_t limit) {
  std::string out;
  out.reserve(std::min(value.size(), limit));
  for (unsigned char c : value.substr(0, limit)) {
    out += (c >= 0x21 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

void AppendIsoTime(std::chrono::system_clock::time_point time, spdlog::memory_buf_t& dest) {
  const auto since_epoch = time.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  int n = std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, static_cast<int>(millis));
  dest.append(buffer, buffer + n);
}

void Append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// One JSON object a line: {"time":...,"level":...,"msg":...}; the request log's lines carry
// their fields instead of "msg".
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    Append(dest, "{\"time\":\"");
    AppendIsoTime(msg.time, dest);
    Append(dest, "\",\"level\":\"");
    auto level = spdlog::level::to_string_view(msg.level);
    Append(dest, std::string_view(level.data(), level.size()));
    Append(dest, "\",");
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (std::string_view(msg.logger_name.data(), msg.logger_name.size()) == kRequestLoggerName) {
      Append(dest, "\"log\":\"request\",");
      Append(dest, payload);
    } else {
      Append(dest, "\"msg\":");
      Append(dest, JsonQuoted(payload));
    }
    Append(dest, "}\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::string JsonQuoted(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

Status ConfigureLogging(std::string_view level_name, std::string_view format) {
  spdlog::level::level_enum level = spdlog::level::from_str(std::string(level_name));
  // from_str answers "off" for any name it does not know.
  if (level == spdlog::level::off && level_name != "off") {
    return Status::BadParameter("Unknown log level '" + std::string(level_name) +
                                "': use trace, debug, info, warn, error or off.");
  }
  if (format != "text" && format != "json") {
    return Status::BadParameter("Unknown log format '" + std::string(format) +
                                "': use text or json.");
  }
  const LogFormat chosen = format == "json" ? LogFormat::kJson : LogFormat::kText;
  auto main_logger = spdlog::default_logger();
  if (chosen == LogFormat::kJson) {
    main_logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    main_logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
  }
  main_logger->set_level(level);
  // The request log writes to the same sinks, so its lines interleave with the others in order.
  auto request_logger = std::make_shared<spdlog::logger>(
      std::string(kRequestLoggerName), main_logger->sinks().begin(), main_logger->sinks().end());
  request_logger->set_level(level);
  g_format.store(chosen, std::memory_order_relaxed);
  g_request_logger = std::move(request_logger);
  return Status::Ok();
}

std::string LoggedPath(std::string_view target) {
  const size_t question = target.find('?');
  std::string out = Printable(target.substr(0, question), kMaxLoggedPath);
  if (question == std::string_view::npos) return out;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.starts_with("api-version=")) {
      out += "?" + Printable(pair, 64);
      break;
    }
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return out;
}

std::string RequestLogText(const RequestLogEntry& e) {
  char ms[32];
  std::snprintf(ms, sizeof(ms), "%.1fms", e.ms);
  std::string line = Printable(e.method, 16) + " " + LoggedPath(e.target) + " " +
                     std::to_string(e.status) + " " + ms;
  auto field = [&line](const char* name, std::string_view value) {
    if (!value.empty()) line += std::string(" ") + name + "=" + Printable(value, kMaxLoggedField);
  };
  field("vault", e.vault);
  field("op", e.operation);
  field("caller", e.caller_object_id);
  field("app", e.caller_app_id);
  return line;
}

std::string RequestLogJsonFields(const RequestLogEntry& e) {
  char ms[32];
  std::snprintf(ms, sizeof(ms), "%.3f", e.ms);
  std::string out = "\"method\":" + JsonQuoted(Printable(e.method, 16)) +
                    ",\"path\":" + JsonQuoted(LoggedPath(e.target)) +
                    ",\"status\":" + std::to_string(e.status) + ",\"ms\":" + ms;
  auto field = [&out](const char* name, std::string_view value) {
    if (!value.empty()) {
      out += std::string(",\"") + name + "\":" + JsonQuoted(Printable(value, kMaxLoggedField));
    }
  };
  field("vault", e.vault);
  field("operation", e.operation);
  field("caller", e.caller_object_id);
  field("app", e.caller_app_id);
  return out;
}

void LogRequest(const RequestLogEntry& entry) {
  spdlog::logger* logger = g_request_logger.get();
  if (logger == nullptr || !logger->should_log(spdlog::level::info)) return;
  if (g_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    logger->info(RequestLogJsonFields(entry));
  } else {
    logger->info(RequestLogText(entry));
  }
}

}  // namespace coffre
