// The Store conformance suite, whole-store checks: ScanKeyVersions (every version of every key,
// active and soft-deleted, page by page) and CheckConsistency (references between rows, and
// what each backend can say about its own integrity), against deliberately damaged databases.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_support.h"

namespace coffre::store::storetest {
namespace {

class StoreCheckConformanceTest : public StoreTest {
 protected:
  // Every version the scan yields, `limit` at a time, as "vault/name/sequence[ deleted]".
  std::vector<std::string> ScanAll(int limit) {
    std::vector<std::string> seen;
    std::string cursor;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = store_->maintenance().ScanKeyVersions(cursor, limit);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(page->items.size(), static_cast<size_t>(limit));
      for (const StoredKeyVersion& item : page->items) {
        seen.push_back(item.record.vault + "/" + item.record.name + "/" +
                       std::to_string(item.record.sequence) + (item.deleted ? " deleted" : ""));
      }
      if (page->next_cursor.empty()) break;
      cursor = page->next_cursor;
    }
    return seen;
  }

  std::vector<std::string> Problems() {
    auto problems = store_->maintenance().CheckConsistency();
    EXPECT_TRUE(problems.ok()) << problems.status().ToString();
    return problems.ok() ? *problems : std::vector<std::string>{"check failed"};
  }

  static bool Mentions(const std::vector<std::string>& problems, const std::string& text) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  }

  // Inserts a version row naming a vault and key that do not exist, bypassing the foreign keys.
  void InsertOrphanVersion() {
    if (postgres()) {
      RawExec(
          "SET session_replication_role = replica; "
          "INSERT INTO key_versions VALUES ('ghost', 'k', 'v1', 1, 'EC', convert_to('[]', 'UTF8'), "
          "true, NULL, NULL, 0, 0, convert_to('[]', 'UTF8'), '\\x00'::bytea, '\\x00'::bytea); "
          "SET session_replication_role = DEFAULT");
    } else {
      // A raw SQLite connection does not enforce foreign keys.
      RawExec(
          "INSERT INTO key_versions VALUES ('ghost', 'k', 'v1', 1, 'EC', '[]', 1, NULL, NULL, 0, "
          "0, '[]', X'00', X'00')");
    }
  }

  // Three keys in two vaults, one soft-deleted, one with a policy and an event, one restored.
  void Populate() {
    PutVault("a");
    PutVault("b");
    Add("a", "k2", VersionId(1));
    Add("a", "k2", VersionId(2));
    Add("a", "K1", VersionId(3));
    for (int i = 4; i <= 6; ++i) Add("b", "x", VersionId(i));
    ASSERT_TRUE(store_->PutRotationPolicy(MakePolicy("a", "k2")).ok());
    KeyEventRecord event{"a", "k2", VersionId(2), "NearExpiry", 5};
    ASSERT_TRUE(store_->RecordKeyEvent(event).ok());
    ASSERT_TRUE(store_->DeleteKey("b", "x", 100, 200).ok());
    std::vector<KeyVersionRecord> restored = {MakeVersion("b", "r", VersionId(7)),
                                              MakeVersion("b", "r", VersionId(8))};
    ASSERT_TRUE(store_->RestoreKey(restored, std::nullopt).ok());
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreCheckConformanceTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

// ---- ScanKeyVersions

TEST_P(StoreCheckConformanceTest, ScanOfAnEmptyStoreIsEmpty) {
  auto page = store_->maintenance().ScanKeyVersions("", 10);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->items.empty());
  EXPECT_TRUE(page->next_cursor.empty());
}

TEST_P(StoreCheckConformanceTest, ScanYieldsEveryVersionActiveAndDeletedInOrder) {
  Populate();
  const std::vector<std::string> want = {"a/K1/1",        "a/k2/1",       "a/k2/2",
                                         "b/r/1",         "b/r/2",        "b/x/1 deleted",
                                         "b/x/2 deleted", "b/x/3 deleted"};
  for (int limit : {1, 2, 3, 7, 8, 100}) {
    EXPECT_EQ(ScanAll(limit), want) << "limit " << limit;
  }
}

TEST_P(StoreCheckConformanceTest, ScanReturnsWholeRecords) {
  PutVault("a");
  KeyVersionRecord r = MakeVersion("a", "Key", VersionId(1));
  r.public_key = {1, 2, 3};
  r.sealed_private_key = {9, 8, 7, 0, 6};
  r.not_before = 10;
  ASSERT_TRUE(store_->AddKeyVersion(r).ok());
  auto page = store_->maintenance().ScanKeyVersions("", 10);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  const KeyVersionRecord& got = page->items[0].record;
  EXPECT_FALSE(page->items[0].deleted);
  EXPECT_EQ(got.vault, "a");
  EXPECT_EQ(got.name, "Key");
  EXPECT_EQ(got.version, VersionId(1));
  EXPECT_EQ(got.sequence, 1);
  EXPECT_EQ(got.key_type, r.key_type);
  EXPECT_EQ(got.key_ops, r.key_ops);
  EXPECT_EQ(got.tags, r.tags);
  EXPECT_EQ(got.not_before, r.not_before);
  EXPECT_EQ(got.public_key, r.public_key);
  EXPECT_EQ(got.sealed_private_key, r.sealed_private_key);
}

TEST_P(StoreCheckConformanceTest, ScanSeesAKeyDeletedWithDatesOfZero) {
  PutVault("a");
  Add("a", "k", VersionId(1));
  ASSERT_TRUE(store_->DeleteKey("a", "k", 0, 0).ok());
  EXPECT_EQ(ScanAll(10), std::vector<std::string>{"a/k/1 deleted"});
}

TEST_P(StoreCheckConformanceTest, ScanRefusesMalformedCursorsAndLimits) {
  for (const char* cursor : {"junk", "a/1", "A/k/1", "a/K/1", "a/k/x", "a/k/-1", "a/k/"}) {
    EXPECT_EQ(store_->maintenance().ScanKeyVersions(cursor, 10).status().kind(),
              ErrorKind::kBadRequest)
        << cursor;
  }
  EXPECT_EQ(store_->maintenance().ScanKeyVersions("", 0).status().kind(), ErrorKind::kBadRequest);
}

TEST_P(StoreCheckConformanceTest, ScanCursorsSurviveKeyNamesWithSlashes) {
  // Key names never hold '/' on the wire, but the cursor must not depend on that.
  PutVault("a");
  Add("a", "x/y", VersionId(1));
  Add("a", "x/y", VersionId(2));
  Add("a", "z", VersionId(3));
  EXPECT_EQ(ScanAll(1), (std::vector<std::string>{"a/x/y/1", "a/x/y/2", "a/z/1"}));
}

// ---- CheckConsistency

TEST_P(StoreCheckConformanceTest, SoundStoresHaveNoProblems) {
  EXPECT_EQ(Problems(), std::vector<std::string>{});
  Populate();
  ASSERT_TRUE(store_->PurgeKey("b", "x").ok());
  EXPECT_EQ(Problems(), std::vector<std::string>{});
}

TEST_P(StoreCheckConformanceTest, FindsAKeyWithoutVersions) {
  Populate();
  RawExec("DELETE FROM key_versions WHERE vault = 'a' AND name_key = 'k1'");
  auto problems = Problems();
  EXPECT_TRUE(Mentions(problems, "key a/K1 has no versions")) << ::testing::PrintToString(problems);
}

TEST_P(StoreCheckConformanceTest, FindsAMissingLatestVersion) {
  Populate();
  RawExec("DELETE FROM key_versions WHERE vault = 'b' AND name_key = 'x' AND sequence = 3");
  auto problems = Problems();
  EXPECT_TRUE(Mentions(problems,
                       "key b/x: next sequence 4 does not follow its latest version's "
                       "sequence 2"))
      << ::testing::PrintToString(problems);
}

TEST_P(StoreCheckConformanceTest, FindsAMissingEarlierVersion) {
  Populate();
  RawExec("DELETE FROM key_versions WHERE vault = 'b' AND name_key = 'x' AND sequence = 2");
  auto problems = Problems();
  EXPECT_TRUE(Mentions(problems,
                       "key b/x has 2 versions with sequences 1 to 3: versions are "
                       "missing"))
      << ::testing::PrintToString(problems);
}

TEST_P(StoreCheckConformanceTest, FindsASequenceThatWouldBeReused) {
  Populate();
  RawExec("UPDATE keys SET next_sequence = 2 WHERE vault = 'a' AND name_key = 'k2'");
  auto problems = Problems();
  EXPECT_TRUE(Mentions(problems, "key a/k2: next sequence 2 does not follow"))
      << ::testing::PrintToString(problems);
}

TEST_P(StoreCheckConformanceTest, FindsVersionsOfUnknownKeysAndVaults) {
  Populate();
  InsertOrphanVersion();
  auto problems = Problems();
  EXPECT_TRUE(Mentions(problems, "version ghost/k/v1 belongs to no key"))
      << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "key ghost/k has versions in vault ghost, which does not exist"))
      << ::testing::PrintToString(problems);
  if (!postgres()) {
    EXPECT_TRUE(Mentions(problems, "of table key_versions refers to a missing row of table keys"))
        << ::testing::PrintToString(problems);
  }
}

TEST_P(StoreCheckConformanceTest, FindsAKeyFiledUnderAnotherName) {
  Populate();
  RawExec("UPDATE keys SET name = 'Other' WHERE vault = 'a' AND name_key = 'k2'");
  auto problems = Problems();
  EXPECT_TRUE(Mentions(problems, "key a/Other is filed under the name k2"))
      << ::testing::PrintToString(problems);
}

TEST_P(StoreCheckConformanceTest, FindsPoliciesAndEventsOfUnknownKeys) {
  Populate();
  if (postgres()) {
    RawExec(
        "SET session_replication_role = replica; "
        "DELETE FROM keys WHERE vault = 'a' AND name_key = 'k2'; "
        "SET session_replication_role = DEFAULT");
  } else {
    RawExec("DELETE FROM keys WHERE vault = 'a' AND name_key = 'k2'");
  }
  auto problems = Problems();
  EXPECT_TRUE(Mentions(problems, "rotation policy of a/k2 belongs to no key"))
      << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "event NearExpiry of a/k2/"))
      << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "version a/k2/" + VersionId(1) + " belongs to no key"))
      << ::testing::PrintToString(problems);
}

TEST_P(StoreCheckConformanceTest, CapsTheProblemsOfOneKind) {
  PutVault("a");
  for (int i = 0; i < 105; ++i) Add("a", "k" + std::to_string(1000 + i), VersionId(i + 1));
  RawExec("DELETE FROM key_versions");
  auto problems = Problems();
  EXPECT_EQ(problems.size(), 101u);
  EXPECT_EQ(problems.back(), "(more problems of this kind not shown)");
}

TEST_P(StoreCheckConformanceTest, FindsAnInvalidatedConstraintInPostgres) {
  if (!postgres()) GTEST_SKIP() << "PostgreSQL catalog check";
  Populate();
  RawExec(
      "ALTER TABLE key_versions DROP CONSTRAINT key_versions_vault_name_key_fkey; "
      "ALTER TABLE key_versions ADD CONSTRAINT key_versions_vault_name_key_fkey FOREIGN KEY "
      "(vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE NOT VALID");
  auto problems = Problems();
  EXPECT_TRUE(Mentions(problems, "constraint key_versions_vault_name_key_fkey of table "))
      << ::testing::PrintToString(problems);
}

TEST_P(StoreCheckConformanceTest, DamagedSqliteFileDoesNotPassUnnoticed) {
  if (postgres()) GTEST_SKIP() << "SQLite file damage";
  Populate();
  for (int i = 0; i < 50; ++i) Add("a", "filler" + std::to_string(i), VersionId(100 + i));
  store_.reset();  // the last connection checkpoints the WAL into the file
  const std::string path = db_->url().substr(std::string("sqlite:").size());
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const off_t size = ::lseek(fd, 0, SEEK_END);
  ASSERT_GT(size, 3 * 4096);
  // Scribble over every page but the first (the header and the schema).
  std::vector<char> garbage(4096, '\x5a');
  for (off_t at = 4096; at + 4096 <= size; at += 4096) {
    ASSERT_EQ(::pwrite(fd, garbage.data(), garbage.size(), at), 4096);
  }
  ::close(fd);
  auto opened = db_->Open();
  if (!opened.ok()) return;  // refused at open: noticed
  store_ = std::move(opened).value();
  auto problems = store_->maintenance().CheckConsistency();
  EXPECT_TRUE(!problems.ok() || !problems->empty());
}

}  // namespace
}  // namespace coffre::store::storetest
