#include "audit/audit_query.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

namespace coffre::audit {
namespace {

namespace fs = std::filesystem;

class AuditQueryTest : public ::testing::Test {
 protected:
  static constexpr int64_t kStart = 1795880000000;  // 2026-11-28T15:33:20Z

  void SetUp() override {
    char pattern[] = "/tmp/coffre-audit-query-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Lines 1..n, one second apart, over two files (rotated every ~1 KB).
  void Write(int n) {
    SecureBytes key(32, 7);
    auto log = AuditLog::Open(dir_, 1024, AuditChain{key, {}});
    ASSERT_TRUE(log.ok()) << log.status().message();
    for (int i = 1; i <= n; ++i) {
      AuditRecord r;
      r.time_ms = kStart + (i - 1) * 1000;
      r.request_id = "req-" + std::to_string(i);
      r.caller_object_id = i % 2 ? "alice" : "bob";
      r.vault = i % 3 ? "dev" : "payments";
      r.operation = i % 4 ? "GetKey" : "CreateKey";
      r.status = i % 5 ? 200 : 403;
      r.latency_ms = i;
      ASSERT_TRUE((*log)->Append(r).ok());
    }
    key_ = key;
  }

  static std::vector<int64_t> Seqs(const AuditPage& page) {
    std::vector<int64_t> seqs;
    for (const auto& line : page.lines) {
      seqs.push_back(boost::json::parse(line).as_object().at("seq").as_int64());
    }
    return seqs;
  }

  std::string dir_;
  SecureBytes key_;
};

TEST_F(AuditQueryTest, ParsesTheLineTime) {
  EXPECT_EQ(ParseAuditTime("1970-01-01T00:00:01.250Z"), 1250);
  EXPECT_EQ(ParseAuditTime("2026-11-28T15:33:20.000Z"), 1795880000000);
  EXPECT_FALSE(ParseAuditTime("2026-11-29 13:33:20.000Z"));
  EXPECT_FALSE(ParseAuditTime("2026-11-29T13:33:20Z"));
  EXPECT_FALSE(ParseAuditTime(""));
}

TEST_F(AuditQueryTest, NewestMatchingLinesOldestFirst) {
  Write(30);
  ASSERT_GT(AuditFiles(dir_).size(), 1u);
  AuditFilter filter;
  filter.top = 5;
  auto page = ReadAudit(dir_, filter);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Seqs(*page), (std::vector<int64_t>{26, 27, 28, 29, 30}));
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->last_seq, 30);
  EXPECT_EQ(page->lines[0].find("\"mac\""), std::string::npos);

  filter = {};
  filter.vault = "PAYMENTS";
  filter.operation = "createkey";
  page = ReadAudit(dir_, filter);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Seqs(*page), (std::vector<int64_t>{12, 24}));
  EXPECT_FALSE(page->more);

  filter = {};
  filter.status = 4;  // 4xx
  filter.caller = "alice";
  EXPECT_EQ(Seqs(*ReadAudit(dir_, filter)), (std::vector<int64_t>{5, 15, 25}));

  filter = {};
  filter.since_ms = kStart + 9000;   // seq 10 on
  filter.until_ms = kStart + 12000;  // up to seq 12
  EXPECT_EQ(Seqs(*ReadAudit(dir_, filter)), (std::vector<int64_t>{10, 11, 12}));

  filter = {};
  filter.after_seq = 27;
  EXPECT_EQ(Seqs(*ReadAudit(dir_, filter)), (std::vector<int64_t>{28, 29, 30}));
}

TEST_F(AuditQueryTest, SkipsAHalfWrittenLastLine) {
  Write(3);
  std::ofstream(AuditFiles(dir_).back(), std::ios::app) << "{\"seq\":4,\"ti";
  auto page = ReadAudit(dir_, {});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Seqs(*page), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(AuditQueryTest, SummarizesPerOperation) {
  Write(20);
  AuditFilter filter;
  filter.since_ms = kStart;
  auto summary = SummarizeAudit(dir_, filter, 10, kStart + 20000);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->buckets, 2u);
  const OperationSummary& create = summary->operations.at("CreateKey");  // 4, 8, 12, 16, 20
  EXPECT_EQ(create.count, 5);
  EXPECT_EQ(create.errors, 1);  // 403 on multiples of 5: only 20 is also a CreateKey
  EXPECT_EQ(create.per_bucket, (std::vector<int64_t>{2, 3}));
  EXPECT_DOUBLE_EQ(create.mean_latency_ms, 12.0);
  EXPECT_DOUBLE_EQ(create.p95_latency_ms, 20.0);
  EXPECT_EQ(summary->operations.at("GetKey").count, 15);
}

TEST_F(AuditQueryTest, VerifiesTheDirectory) {
  Write(10);
  AuditSource source{dir_, key_, {}};
  VerifyResult ok = VerifyAuditDirectory(source);
  EXPECT_TRUE(ok.ok) << ok.problem;
  EXPECT_EQ(ok.lines, 10);
  // An edited line is found.
  std::string file = AuditFiles(dir_).front();
  std::ifstream in(file);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  all.replace(all.find("GetKey"), 6, "PutKey");
  std::ofstream(file, std::ios::trunc) << all;
  VerifyResult bad = VerifyAuditDirectory(source);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.problem.find(":1:"), std::string::npos) << bad.problem;
}

}  // namespace
}  // namespace coffre::audit
