// Process-wide metrics for Prometheus (GET /metrics on the loopback HTTP port), and the text
// exposition writer that renders them.
//
// The hot path pays relaxed atomic increments only: no lock, no allocation once an operation's
// series exists. Series are found in a fixed open-addressed table whose slots are claimed with a
// compare-and-swap, so the first request of a new operation never blocks another.
//
// Metric names are part of Coffre's interface (dashboards draw from them): docs/production.md
// lists them; rename none.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coffre::metrics {

// Latency bucket bounds, in seconds.
inline constexpr double kLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
// Group size bucket bounds (audit lines per disk sync).
inline constexpr double kGroupSizeBuckets[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

class Histogram {
 public:
  static constexpr size_t kMaxBuckets = 16;
  explicit Histogram(std::span<const double> bounds) : bounds_(bounds) {}

  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::span<const double> bounds_;
  std::array<std::atomic<uint64_t>, kMaxBuckets + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

enum class Cache { kKeyVersions, kSecretVersions, kAccessPolicies, kRoleAssignments, kCount };

// What the server counts. One instance per process: Global().
class Registry {
 public:
  static constexpr size_t kOperations = 128;  // distinct operation names; more count as "Other"

  // A request answered: its operation (audit name; empty: "Other"), HTTP status and handling
  // time.
  void RecordRequest(std::string_view operation, int status, double seconds);
  void RecordAuditGroup(size_t lines, double seconds) {
    audit_group_lines_.Observe(static_cast<double>(lines));
    audit_group_seconds_.Observe(seconds);
  }
  void RecordStoreWrite(double seconds) { store_write_seconds_.Observe(seconds); }
  void RecordCacheLookup(Cache cache, bool hit) {
    cache_lookups_[static_cast<size_t>(cache)][hit ? 1 : 0].fetch_add(1, std::memory_order_relaxed);
  }
  void ConnectionOpened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }

  // Appends every metric above in the text exposition format.
  void Render(class ExpositionWriter& out) const;

  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

 private:
  struct Series {
    std::atomic<const std::string*> name{nullptr};
    std::array<std::atomic<uint64_t>, 500> by_status{};  // status 100..599
    Histogram latency{kLatencyBuckets};
  };
  Series& SeriesOf(std::string_view operation);

  std::array<Series, kOperations + 1> series_;  // the last: "Other" (table full)
  Histogram audit_group_lines_{kGroupSizeBuckets};
  Histogram audit_group_seconds_{kLatencyBuckets};
  Histogram store_write_seconds_{kLatencyBuckets};
  std::array<std::array<std::atomic<uint64_t>, 2>, static_cast<size_t>(Cache::kCount)>
      cache_lookups_{};
  std::atomic<int64_t> open_connections_{0};
};

Registry& Global();

// The Prometheus text exposition format (version 0.0.4): HELP and TYPE once per metric, then
// its samples; label values escaped.
class ExpositionWriter {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const Labels& labels, double value);
  void Histograms(std::string_view name, const Labels& labels,
                  const metrics::Histogram::Snapshot& snapshot, std::span<const double> bounds);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// The process's resident set size in bytes (from /proc/self/statm), 0 if unknown.
uint64_t ResidentBytes();

}  // namespace coffre::metrics
