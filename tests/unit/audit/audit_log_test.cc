#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/base64url.h"
#include "crypto/digest.h"

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

// ---- the keyed chain and its anchor

class KeyedAuditLogTest : public AuditLogTest {
 protected:
  SecureBytes Key(uint8_t fill = 7) const { return SecureBytes(32, fill); }

  // Writes `count` lines with the chain key; the store's head is kept in head_.
  void WriteKeyed(int count, int first = 0) {
    AuditChain chain;
    chain.key = Key();
    chain.record_head = [this](const std::string& head) {
      std::lock_guard lock(head_mutex_);
      head_ = head;
    };
    auto log = AuditLog::Open(dir_, AuditLog::kDefaultRotateBytes, std::move(chain));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = first; i < first + count; ++i) ASSERT_TRUE((*log)->Append(Record(i)).ok());
  }
  VerifyResult Verify(const SecureBytes& key) {
    VerifyOptions options;
    options.key = key;
    std::lock_guard lock(head_mutex_);
    options.head = head_;
    return VerifyAuditFiles(Files(), options);
  }

  // What a forger without the key does after editing line `index`: recompute that line's
  // unkeyed hash and every later line's prev and hash.
  static std::vector<std::string> Rechain(std::vector<std::string> lines, size_t index) {
    auto sha = [](std::string_view text) { return HexEncode(crypto::Sha256(AsBytes(text))); };
    for (size_t i = index; i < lines.size(); ++i) {
      std::string& line = lines[i];
      size_t at = line.rfind(",\"");
      std::string body = line.substr(0, at) + "}";
      if (i > index) {
        size_t prev = body.find("\"prev\":\"") + 8;
        body.replace(prev, 64, sha(lines[i - 1]));
      }
      line = body.substr(0, body.size() - 1) + ",\"hash\":\"" + sha(body) + "\"}";
    }
    return lines;
  }

  std::mutex head_mutex_;
  std::string head_;
};

TEST_F(KeyedAuditLogTest, LinesCarryAMacAndVerifyOnlyWithTheKey) {
  WriteKeyed(5);
  WriteKeyed(5, 5);  // a restart continues the keyed chain
  auto lines = Lines(Files()[0]);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_NE(lines[0].find(",\"mac\":\""), std::string::npos);
  EXPECT_EQ(lines[0].find("\"hash\""), std::string::npos);
  auto result = Verify(Key());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.lines, 10);
  EXPECT_EQ(result.unkeyed_lines, 0);
  EXPECT_EQ(result.anchored_seq, 10);
  EXPECT_FALSE(Verify(Key(8)).ok);         // another key
  EXPECT_FALSE(Verify(SecureBytes()).ok);  // no key
}

// Editing a line and recomputing every later hash passed the unkeyed chain; the keyed one
// refuses it.
TEST_F(KeyedAuditLogTest, AnEditWithRecomputedHashesIsDetected) {
  WriteKeyed(10);
  std::string file = Files()[0];
  auto lines = Lines(file);
  std::string edited = lines[4];
  edited.replace(edited.find("\"status\":200"), 12, "\"status\":404");
  lines[4] = edited;
  Rewrite(file, Rechain(lines, 4));
  auto result = Verify(Key());
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.problem.find(":5:"), std::string::npos) << result.problem;
  // The whole log rewritten unkeyed: consistent by itself, but not the head the store recorded.
  Rewrite(file, Rechain(Lines(file), 0));
  EXPECT_TRUE(VerifyAuditFiles(Files()).ok);  // a valid unkeyed chain...
  result = Verify(Key());
  EXPECT_FALSE(result.ok);  // ...which the anchored head refuses
}

// Dropping the last lines leaves a valid chain; the head kept in the store shows the loss.
TEST_F(KeyedAuditLogTest, TruncationOfTheLastLinesIsDetected) {
  WriteKeyed(10);
  std::string file = Files()[0];
  auto lines = Lines(file);
  lines.resize(7);
  Rewrite(file, lines);
  VerifyOptions no_anchor;
  no_anchor.key = Key();
  EXPECT_TRUE(VerifyAuditFiles(Files(), no_anchor).ok);  // no anchor given
  auto result = Verify(Key());
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.problem.find("removed from the end"), std::string::npos) << result.problem;
  // Moving the head back to line 7 needs the key: the head names its own MAC.
  std::string head_for_7 = AuditHeadText(Key(9), 7, "00");
  {
    std::lock_guard lock(head_mutex_);
    head_ = head_for_7;
  }
  EXPECT_FALSE(Verify(Key()).ok);
}

// A log written before keyed chains stays verifiable; its lines are reported as unkeyed, and
// the keyed lines continue its chain.
TEST_F(KeyedAuditLogTest, OldUnkeyedLinesStayVerifiableAndAreReported) {
  Write(4);
  WriteKeyed(3, 4);
  auto result = Verify(Key());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.lines, 7);
  EXPECT_EQ(result.unkeyed_lines, 4);
  // An unkeyed line after keyed ones is a rewrite.
  std::string file = Files()[0];
  Rewrite(file, Rechain(Lines(file), 5));
  result = Verify(Key());
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.problem.find(":6:"), std::string::npos) << result.problem;
}

}  // namespace
}  // namespace coffre::audit
