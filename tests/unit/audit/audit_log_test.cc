#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

namespace coffre::audit {
namespace {

namespace fs = std::filesystem;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/coffre-audit-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static AuditRecord Record(int i) {
    AuditRecord r;
    r.time_ms = 1795880000000 + i;
    r.request_id = "req-" + std::to_string(i);
    r.caller_object_id = "oid";
    r.vault = "dev";
    r.operation = "GetKey";
    r.key_name = "k" + std::to_string(i);
    r.status = 200;
    r.latency_ms = 1.5;
    return r;
  }

  std::vector<std::string> Files() const {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir_)) files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    return files;
  }

  std::vector<std::string> Lines(const std::string& file) const {
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  void Rewrite(const std::string& file, const std::vector<std::string>& lines) const {
    std::ofstream out(file, std::ios::trunc);
    for (const auto& line : lines) out << line << "\n";
  }

  void Write(int count, int first = 0, size_t rotate = AuditLog::kDefaultRotateBytes) {
    auto log = AuditLog::Open(dir_, rotate);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = first; i < first + count; ++i) ASSERT_TRUE((*log)->Append(Record(i)).ok());
  }

  std::string dir_;
};

TEST_F(AuditLogTest, ChainVerifiesAndContinuesAcrossRestarts) {
  Write(5);
  Write(5, 5);  // a restart continues the chain
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  auto lines = Lines(files[0]);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_NE(lines[0].find("\"seq\":1,"), std::string::npos);
  EXPECT_NE(lines[9].find("\"seq\":10,"), std::string::npos);
  auto result = VerifyAuditFiles(files);
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.lines, 10);
  struct stat st {};
  ASSERT_EQ(::stat(files[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuditLogTest, ChainSurvivesRotation) {
  Write(40, 0, /*rotate=*/2000);
  Write(10, 40, /*rotate=*/2000);
  auto files = Files();
  ASSERT_GT(files.size(), 3u);
  auto result = VerifyAuditFiles(files);
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.lines, 50);
  // A later segment alone verifies from its first line when partial chains are allowed.
  EXPECT_TRUE(VerifyAuditFiles({files[1], files[2]}, true).ok);
  EXPECT_FALSE(VerifyAuditFiles({files[1], files[2]}, false).ok);
  // Leaving out a middle file breaks the chain.
  EXPECT_FALSE(VerifyAuditFiles({files[0], files[2]}).ok);
}

TEST_F(AuditLogTest, DetectsEditDeleteSwapInsert) {
  Write(6);
  std::string file = Files()[0];
  const auto original = Lines(file);

  auto edited = original;
  size_t at = edited[2].find("GetKey");
  edited[2].replace(at, 6, "PutKey");
  Rewrite(file, edited);
  auto r = VerifyAuditFiles({file});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find(":3:"), std::string::npos) << r.problem;

  auto last_edited = original;
  last_edited[5].replace(last_edited[5].find("\"status\":200"), 12, "\"status\":500");
  Rewrite(file, last_edited);
  EXPECT_FALSE(VerifyAuditFiles({file}).ok);

  auto dropped = original;
  dropped.erase(dropped.begin() + 3);
  Rewrite(file, dropped);
  r = VerifyAuditFiles({file});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find(":4:"), std::string::npos) << r.problem;

  auto swapped = original;
  std::swap(swapped[1], swapped[2]);
  Rewrite(file, swapped);
  EXPECT_FALSE(VerifyAuditFiles({file}).ok);

  auto inserted = original;
  inserted.insert(inserted.begin() + 2, original[1]);
  Rewrite(file, inserted);
  EXPECT_FALSE(VerifyAuditFiles({file}).ok);

  Rewrite(file, original);
  EXPECT_TRUE(VerifyAuditFiles({file}).ok);
}

TEST_F(AuditLogTest, ConcurrentAppendsAreAllRecordedInOneChain) {
  {
    auto log = AuditLog::Open(dir_);
    ASSERT_TRUE(log.ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) EXPECT_TRUE((*log)->Append(Record(t * 1000 + i)).ok());
      });
    }
    for (auto& th : threads) th.join();
  }
  auto result = VerifyAuditFiles(Files());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.lines, 400);
}

TEST_F(AuditLogTest, DropsAnUnacknowledgedPartialLineOnOpen) {
  Write(3);
  std::string file = Files()[0];
  {
    std::ofstream out(file, std::ios::app);
    out << "{\"seq\":4,\"prev\":\"half a li";
  }
  Write(2, 3);
  auto result = VerifyAuditFiles(Files());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.lines, 5);
}

TEST_F(AuditLogTest, RefusesToStartOnADamagedLastLine) {
  Write(3);
  std::string file = Files()[0];
  auto lines = Lines(file);
  lines.back().replace(lines.back().find("GetKey"), 6, "XetKey");
  Rewrite(file, lines);
  EXPECT_FALSE(AuditLog::Open(dir_).ok());
}

TEST_F(AuditLogTest, AppendFailsWhenTheLogCannotBeWritten) {
  // Rotation needs a new file; with the directory gone it cannot be created, and from then on
  // every append must fail rather than pretend the line is on disk.
  auto log = AuditLog::Open(dir_, /*rotate_bytes=*/300);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append(Record(1)).ok());
  fs::remove_all(dir_);
  EXPECT_FALSE((*log)->Append(Record(2)).ok());
  EXPECT_FALSE((*log)->Append(Record(3)).ok());
}

TEST_F(AuditLogTest, AsyncAppendsCompleteOnceTheirLineIsOnDisk) {
  std::mutex mutex;
  std::vector<int> completed;
  std::vector<int64_t> lines_on_disk;
  {
    auto log = AuditLog::Open(dir_);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 20; ++i) {
      (*log)->AppendAsync(Record(i), [&, i](Status status) {
        EXPECT_TRUE(status.ok()) << status.ToString();
        // When the completion runs, the line (and every line before it) is in the file.
        auto result = VerifyAuditFiles(Files());
        std::lock_guard lock(mutex);
        completed.push_back(i);
        lines_on_disk.push_back(result.lines);
      });
    }
  }  // closing the log completes everything queued
  ASSERT_EQ(completed.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(completed[i], i);  // in order of appending
    EXPECT_GE(lines_on_disk[i], i + 1);
  }
}

TEST_F(AuditLogTest, AsyncAppendsReportAFailedWrite) {
  auto log = AuditLog::Open(dir_, /*rotate_bytes=*/300);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append(Record(1)).ok());
  fs::remove_all(dir_);
  for (int i = 2; i < 4; ++i) {
    std::promise<Status> done;
    (*log)->AppendAsync(Record(i), [&done](Status status) { done.set_value(std::move(status)); });
    EXPECT_FALSE(done.get_future().get().ok());
  }
}

}  // namespace
}  // namespace coffre::audit
