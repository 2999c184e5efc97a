#include "common/metrics.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <functional>

namespace coffre::metrics {
namespace {

constexpr std::string_view kOther = "Other";

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

const char* const kCacheNames[] = {"key_versions", "secret_versions", "access_policies",
                                   "role_assignments"};

}  // namespace

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // Read apart from the buckets: a scrape racing a request may see them one apart; +Inf is
  // reported as the bucket total so that the histogram stays consistent with itself.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

Registry::Registry() = default;

Registry::~Registry() {
  for (auto& series : series_) delete series.name.load();
}

Registry::Series& Registry::SeriesOf(std::string_view operation) {
  if (operation.empty()) operation = kOther;
  const size_t start = std::hash<std::string_view>{}(operation) % kOperations;
  for (size_t probe = 0; probe < kOperations; ++probe) {
    Series& series = series_[(start + probe) % kOperations];
    const std::string* name = series.name.load(std::memory_order_acquire);
    if (name == nullptr) {
      auto* mine = new std::string(operation);
      if (series.name.compare_exchange_strong(name, mine, std::memory_order_acq_rel)) {
        return series;
      }
      delete mine;  // another thread claimed the slot first; `name` is its claim
    }
    if (*name == operation) return series;
  }
  return series_[kOperations];
}

void Registry::RecordRequest(std::string_view operation, int status, double seconds) {
  // Admin operations are named after their path ("Admin GET /v1/vaults/NAME"): one series per
  // method, so that vault and principal names do not become label values.
  if (operation.starts_with("Admin ")) {
    operation = operation.substr(0, operation.find(' ', 6));
  }
  Series& series = SeriesOf(operation);
  if (status >= 100 && status <= 599) {
    series.by_status[static_cast<size_t>(status - 100)].fetch_add(1, std::memory_order_relaxed);
  }
  series.latency.Observe(seconds);
}

void Registry::Render(ExpositionWriter& out) const {
  out.Family("coffre_requests_total", "counter",
             "Requests answered, by operation and HTTP status.");
  for (size_t i = 0; i <= kOperations; ++i) {
    const std::string* name = series_[i].name.load(std::memory_order_acquire);
    std::string_view operation = i == kOperations ? kOther : name ? *name : std::string_view();
    if (operation.empty()) continue;
    for (size_t s = 0; s < series_[i].by_status.size(); ++s) {
      uint64_t n = series_[i].by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string status = std::to_string(s + 100);
      out.Sample("coffre_requests_total", {{"operation", operation}, {"status", status}},
                 static_cast<double>(n));
    }
  }
  out.Family("coffre_request_duration_seconds", "histogram",
             "Time to handle a request, by operation (up to its audit line being queued).");
  for (size_t i = 0; i <= kOperations; ++i) {
    const std::string* name = series_[i].name.load(std::memory_order_acquire);
    std::string_view operation = i == kOperations ? kOther : name ? *name : std::string_view();
    if (operation.empty()) continue;
    auto snapshot = series_[i].latency.Read();
    if (snapshot.count == 0) continue;
    out.Histograms("coffre_request_duration_seconds", {{"operation", operation}}, snapshot,
                   series_[i].latency.bounds());
  }
  out.Family("coffre_audit_group_lines", "histogram",
             "Audit lines written by one group commit (one disk sync).");
  out.Histograms("coffre_audit_group_lines", {}, audit_group_lines_.Read(),
                 audit_group_lines_.bounds());
  out.Family("coffre_audit_group_commit_seconds", "histogram",
             "Time to write and sync one audit group.");
  out.Histograms("coffre_audit_group_commit_seconds", {}, audit_group_seconds_.Read(),
                 audit_group_seconds_.bounds());
  out.Family("coffre_store_write_seconds", "histogram",
             "Time of a store write transaction, commit included.");
  out.Histograms("coffre_store_write_seconds", {}, store_write_seconds_.Read(),
                 store_write_seconds_.bounds());
  out.Family("coffre_cache_lookups_total", "counter",
             "Lookups in the server's caches, by cache and result (hit or miss).");
  for (size_t c = 0; c < cache_lookups_.size(); ++c) {
    out.Sample("coffre_cache_lookups_total", {{"cache", kCacheNames[c]}, {"result", "hit"}},
               static_cast<double>(cache_lookups_[c][1].load(std::memory_order_relaxed)));
    out.Sample("coffre_cache_lookups_total", {{"cache", kCacheNames[c]}, {"result", "miss"}},
               static_cast<double>(cache_lookups_[c][0].load(std::memory_order_relaxed)));
  }
  out.Family("coffre_open_connections", "gauge", "Client connections open now.");
  out.Sample("coffre_open_connections", {},
             static_cast<double>(open_connections_.load(std::memory_order_relaxed)));
  out.Family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out.Sample("process_resident_memory_bytes", {}, static_cast<double>(ResidentBytes()));
}

Registry& Global() {
  static Registry registry;
  return registry;
}

void ExpositionWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += help;  // our own words: no backslash or newline to escape
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void ExpositionWriter::Sample(std::string_view name, const Labels& labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_ += ',';
      text_ += labels[i].first;
      text_ += "=\"";
      text_ += EscapeLabelValue(labels[i].second);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
  text_ += FormatValue(value);
  text_ += '\n';
}

void ExpositionWriter::Histograms(std::string_view name, const Labels& labels,
                                  const metrics::Histogram::Snapshot& snapshot,
                                  std::span<const double> bounds) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i <= bounds.size(); ++i) {
    Labels with_le = labels;
    const std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
    with_le.emplace_back("le", le);
    Sample(bucket, with_le, static_cast<double>(snapshot.cumulative[i]));
  }
  Sample(std::string(name) + "_sum", labels, snapshot.sum);
  Sample(std::string(name) + "_count", labels, static_cast<double>(snapshot.count));
}

uint64_t ResidentBytes() {
  FILE* file = std::fopen("/proc/self/statm", "r");
  if (file == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  int read = std::fscanf(file, "%llu %llu", &size, &resident);
  std::fclose(file);
  if (read != 2) return 0;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace coffre::metrics
