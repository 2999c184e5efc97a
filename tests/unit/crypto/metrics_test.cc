#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace coffre::metrics {
namespace {

std::string Rendered(const Registry& registry) {
  ExpositionWriter out;
  registry.Render(out);
  return out.text();
}

TEST(MetricsTest, RequestsByOperationAndStatus) {
  Registry registry;
  registry.RecordRequest("GetKey", 200, 0.002);
  registry.RecordRequest("GetKey", 200, 0.02);
  registry.RecordRequest("GetKey", 404, 0.0001);
  registry.RecordRequest("", 401, 0.0001);
  registry.RecordRequest("Admin DELETE /v1/vaults/payments", 204, 0.001);
  const std::string text = Rendered(registry);
  EXPECT_NE(text.find("# TYPE coffre_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("coffre_requests_total{operation=\"GetKey\",status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("coffre_requests_total{operation=\"GetKey\",status=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("coffre_requests_total{operation=\"Other\",status=\"401\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("coffre_requests_total{operation=\"Admin DELETE\",status=\"204\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(text.find("payments"), std::string::npos);
  // Cumulative buckets: 0.0001 <= 0.0005; 0.002 <= 0.0025; 0.02 <= 0.025.
  EXPECT_NE(text.find("coffre_request_duration_seconds_bucket{operation=\"GetKey\",le=\"0.0005\"} "
                      "1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("coffre_request_duration_seconds_bucket{operation=\"GetKey\",le=\"0.0025\"} "
                      "2\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("coffre_request_duration_seconds_bucket{operation=\"GetKey\",le=\"+Inf\"} 3\n"),
      std::string::npos);
  EXPECT_NE(text.find("coffre_request_duration_seconds_count{operation=\"GetKey\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("coffre_request_duration_seconds_sum{operation=\"GetKey\"} 0.0221\n"),
            std::string::npos);
}

TEST(MetricsTest, FullTableCountsAsOther) {
  Registry registry;
  for (size_t i = 0; i < Registry::kOperations + 10; ++i) {
    registry.RecordRequest("op" + std::to_string(i), 200, 0.001);
  }
  const std::string text = Rendered(registry);
  EXPECT_NE(text.find("coffre_requests_total{operation=\"Other\",status=\"200\"} 10\n"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, ConcurrentFirstUsesMakeOneSeries) {
  Registry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry] {
      for (int i = 0; i < 1000; ++i) registry.RecordRequest("Op" + std::to_string(i % 8), 200, 0);
    });
  }
  for (auto& t : threads) t.join();
  const std::string text = Rendered(registry);
  for (int i = 0; i < 8; ++i) {
    EXPECT_NE(text.find("coffre_requests_total{operation=\"Op" + std::to_string(i) +
                        "\",status=\"200\"} 500\n"),
              std::string::npos)
        << text;
  }
}

TEST(MetricsTest, CachesAuditStoreAndGauges) {
  Registry registry;
  registry.RecordCacheLookup(Cache::kKeyVersions, true);
  registry.RecordCacheLookup(Cache::kKeyVersions, true);
  registry.RecordCacheLookup(Cache::kKeyVersions, false);
  registry.RecordAuditGroup(3, 0.004);
  registry.RecordStoreWrite(0.3);
  registry.ConnectionOpened();
  const std::string text = Rendered(registry);
  EXPECT_NE(text.find("coffre_cache_lookups_total{cache=\"key_versions\",result=\"hit\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("coffre_cache_lookups_total{cache=\"key_versions\",result=\"miss\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("coffre_audit_group_lines_bucket{le=\"4\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("coffre_audit_group_lines_bucket{le=\"2\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("coffre_audit_group_commit_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(text.find("coffre_store_write_seconds_bucket{le=\"0.25\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("coffre_store_write_seconds_bucket{le=\"0.5\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("coffre_open_connections 1\n"), std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_GT(ResidentBytes(), 0u);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  ExpositionWriter out;
  out.Sample("m", {{"vault", "a\"b\\c\nd"}}, 1.5);
  EXPECT_EQ(out.text(), "m{vault=\"a\\\"b\\\\c\\nd\"} 1.5\n");
}

}  // namespace
}  // namespace coffre::metrics
