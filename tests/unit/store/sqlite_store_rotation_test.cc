// Tests for the SQLite Store's rotation support: the stale-sequence precondition of
// AddKeyVersion, RestoreKey, rotation policies, once-only key events and schema migration #2.
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"

namespace coffre::store {
namespace {

using ::testing::Test;

std::string VersionId(int n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%032x", n);
  return buf;
}

KeyVersionRecord MakeVersion(std::string vault, std::string name, std::string version) {
  KeyVersionRecord r;
  r.vault = std::move(vault);
  r.name = std::move(name);
  r.version = std::move(version);
  r.key_type = "EC";
  r.key_ops = {"sign", "verify"};
  r.created = 1000;
  r.updated = 1000;
  r.tags = {{"env", "test"}};
  r.public_key = {0x30, 0x00, 0x01};
  r.sealed_private_key = {0x01, 0xff, 0x00, 0x7f};
  return r;
}

RotationPolicyRecord MakePolicy(std::string vault, std::string name) {
  RotationPolicyRecord p;
  p.vault = std::move(vault);
  p.name = std::move(name);
  p.actions = {{"Rotate", "timeAfterCreate", "P90D"}, {"Notify", "timeBeforeExpiry", "P30D"}};
  p.expiry_time = "P2Y";
  p.created = 500;
  p.updated = 500;
  return p;
}

void ExpectSamePolicy(const RotationPolicyRecord& got, const RotationPolicyRecord& want) {
  EXPECT_EQ(got.vault, want.vault);
  EXPECT_EQ(got.name, want.name);
  ASSERT_EQ(got.actions.size(), want.actions.size());
  for (size_t i = 0; i < got.actions.size(); ++i) {
    EXPECT_EQ(got.actions[i].action, want.actions[i].action) << i;
    EXPECT_EQ(got.actions[i].trigger, want.actions[i].trigger) << i;
    EXPECT_EQ(got.actions[i].duration, want.actions[i].duration) << i;
  }
  EXPECT_EQ(got.expiry_time, want.expiry_time);
  EXPECT_EQ(got.created, want.created);
  EXPECT_EQ(got.updated, want.updated);
}

// Schema migration #1 as released: a database created by the previous build.
constexpr const char kSchemaV1[] = R"sql(
CREATE TABLE vaults (
  name TEXT PRIMARY KEY,
  retention_days INTEGER NOT NULL,
  purge_protection INTEGER NOT NULL,
  created INTEGER NOT NULL
) STRICT;

CREATE TABLE keys (
  vault TEXT NOT NULL REFERENCES vaults (name),
  name_key TEXT NOT NULL,
  name TEXT NOT NULL,
  deleted_date INTEGER,
  scheduled_purge_date INTEGER,
  next_sequence INTEGER NOT NULL,
  PRIMARY KEY (vault, name_key),
  CHECK ((deleted_date IS NULL) = (scheduled_purge_date IS NULL))
) STRICT;
CREATE INDEX keys_by_purge_date ON keys (scheduled_purge_date) WHERE deleted_date IS NOT NULL;

CREATE TABLE key_versions (
  vault TEXT NOT NULL,
  name_key TEXT NOT NULL,
  version TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  key_type TEXT NOT NULL,
  key_ops TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  not_before INTEGER,
  expires INTEGER,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  tags TEXT NOT NULL,
  public_key BLOB NOT NULL,
  sealed_private_key BLOB NOT NULL,
  PRIMARY KEY (vault, name_key, version),
  UNIQUE (vault, name_key, sequence),
  FOREIGN KEY (vault, name_key) REFERENCES keys (vault, name_key) ON DELETE CASCADE
) STRICT;

CREATE TABLE principals (
  name_key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  client_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
  object_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
)sql";

class SqliteStoreRotationTest : public Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/coffre.db";
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    store_.reset();
    auto opened = OpenSqliteStore(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  void PutVault(const std::string& name) {
    VaultRecord v;
    v.name = name;
    v.created = 1;
    ASSERT_TRUE(store_->PutVault(v).ok());
  }

  // Adds a version and returns its sequence (0 on failure, which the caller's checks catch).
  int64_t Add(const std::string& vault, const std::string& name, const std::string& version) {
    KeyVersionRecord r = MakeVersion(vault, name, version);
    Status s = store_->AddKeyVersion(r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return s.ok() ? r.sequence : 0;
  }

  // Runs raw SQL against the database file, bypassing the store.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  // First column of the first row of a raw query; -1 on any failure.
  int64_t RawInt(const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return -1;
    }
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  int64_t Latest(const std::string& vault, const std::string& name) {
    auto latest = store_->GetKeyVersion(vault, name, "");
    EXPECT_TRUE(latest.ok()) << latest.status().ToString();
    return latest.ok() ? latest->sequence : 0;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

// ---- AddKeyVersion with an expected latest sequence

TEST_F(SqliteStoreRotationTest, ExpectedSequenceAddsOnlyOnMatch) {
  PutVault("v");
  EXPECT_EQ(Add("v", "k", VersionId(1)), 1);

  KeyVersionRecord r = MakeVersion("V", "K", VersionId(2));
  ASSERT_TRUE(store_->AddKeyVersion(r, 1).ok());
  EXPECT_EQ(r.sequence, 2);
  EXPECT_EQ(r.name, "k");
  EXPECT_EQ(r.vault, "v");

  for (int64_t expected : {int64_t{1}, int64_t{0}, int64_t{3}, int64_t{-1}}) {
    KeyVersionRecord stale = MakeVersion("v", "k", VersionId(3));
    Status s = store_->AddKeyVersion(stale, expected);
    EXPECT_EQ(s.kind(), ErrorKind::kConflict) << expected;
    EXPECT_EQ(s.inner_code(), "stale") << expected;
    EXPECT_EQ(stale.sequence, 0);  // the record is left alone on failure
  }
  // Nothing was written and no sequence was consumed.
  EXPECT_EQ(Latest("v", "k"), 2);
  EXPECT_EQ(store_->GetKeyVersion("v", "k", VersionId(3)).status().kind(), ErrorKind::kNotFound);
  KeyVersionRecord next = MakeVersion("v", "k", VersionId(3));
  ASSERT_TRUE(store_->AddKeyVersion(next, 2).ok());
  EXPECT_EQ(next.sequence, 3);

  // Without an expectation, as before.
  EXPECT_EQ(Add("v", "k", VersionId(4)), 4);

  // A matching expectation still reports a duplicate version id.
  KeyVersionRecord dup = MakeVersion("v", "k", VersionId(4));
  EXPECT_EQ(store_->AddKeyVersion(dup, 4).inner_code(), "version-exists");
}

TEST_F(SqliteStoreRotationTest, ExpectedSequenceOnMissingOrDeletedKey) {
  PutVault("v");
  // A key that does not exist has no latest version to match: stale, and nothing created.
  KeyVersionRecord r = MakeVersion("v", "new", VersionId(1));
  Status s = store_->AddKeyVersion(r, 0);
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
  EXPECT_EQ(s.inner_code(), "stale");
  s = store_->AddKeyVersion(r, 1);
  EXPECT_EQ(s.inner_code(), "stale");
  EXPECT_EQ(store_->GetKeyVersion("v", "new", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM keys"), 0);

  // Deleted keys keep their own inner code, whatever the expectation.
  Add("v", "k", VersionId(1));
  ASSERT_TRUE(store_->DeleteKey("v", "k", 10, 20).ok());
  for (int64_t expected : {int64_t{1}, int64_t{7}}) {
    KeyVersionRecord d = MakeVersion("v", "k", VersionId(2));
    s = store_->AddKeyVersion(d, expected);
    EXPECT_EQ(s.kind(), ErrorKind::kConflict);
    EXPECT_EQ(s.inner_code(), "deleted");
  }

  // A missing vault is still kNotFound.
  KeyVersionRecord nowhere = MakeVersion("nowhere", "k", VersionId(1));
  EXPECT_EQ(store_->AddKeyVersion(nowhere, 1).kind(), ErrorKind::kNotFound);
}

// Several callers decide to rotate on the same snapshot: exactly one rotation lands per round.
void RaceRounds(const std::vector<Store*>& stores, int threads, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    auto latest = stores[0]->GetKeyVersion("v", "k", "");
    ASSERT_TRUE(latest.ok());
    const int64_t expected = latest->sequence;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::atomic<int> won{0};
    std::atomic<int> stale{0};
    std::atomic<int> other{0};
    std::vector<std::thread> racers;
    for (int t = 0; t < threads; ++t) {
      racers.emplace_back([&, t] {
        Store* store = stores[static_cast<size_t>(t) % stores.size()];
        KeyVersionRecord r = MakeVersion("v", "k", VersionId(10000 + round * 100 + t));
        ready++;
        while (!go.load()) std::this_thread::yield();
        Status s = store->AddKeyVersion(r, expected);
        if (s.ok() && r.sequence == expected + 1) {
          won++;
        } else if (s.kind() == ErrorKind::kConflict && s.inner_code() == "stale") {
          stale++;
        } else {
          other++;
        }
      });
    }
    while (ready.load() < threads) std::this_thread::yield();
    go = true;
    for (auto& racer : racers) racer.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(stale.load(), threads - 1) << "round " << round;
    EXPECT_EQ(other.load(), 0) << "round " << round;
    auto after = stores[0]->GetKeyVersion("v", "k", "");
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->sequence, expected + 1);
  }
}

TEST_F(SqliteStoreRotationTest, RacingRotationsWithSameExpectationExactlyOneWins) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  RaceRounds({store_.get()}, 8, 10);
  auto versions = store_->ListKeyVersions("v", "k", "", 100);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 11u);
}

TEST_F(SqliteStoreRotationTest, RacingRotationsAcrossTwoStoresOnOneFile) {
  // Two writers on the same file (as two processes would be): the check must be inside the
  // write transaction, not just under the in-process mutex.
  auto second = OpenSqliteStore(path_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  PutVault("v");
  Add("v", "k", VersionId(1));
  RaceRounds({store_.get(), second->get()}, 6, 10);
  auto versions = (*second)->ListKeyVersions("v", "k", "", 100);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 11u);
}

// ---- RestoreKey

TEST_F(SqliteStoreRotationTest, RestoreRoundTripsEveryVersionAndThePolicy) {
  PutVault("v");
  std::vector<KeyVersionRecord> backup;
  // Version ids deliberately out of lexical order; the list order decides the sequences.
  const std::vector<std::string> ids = {"FF" + VersionId(1).substr(2), VersionId(7),
                                        "AB" + VersionId(3).substr(2)};
  for (size_t i = 0; i < ids.size(); ++i) {
    KeyVersionRecord r = MakeVersion("V", "Restored", ids[i]);
    r.sequence = 99;  // ignored: sequences follow the list order
    r.key_type = i == 0 ? "RSA" : "EC-HSM";
    r.key_ops = {"op" + std::to_string(i)};
    r.enabled = i != 1;
    r.not_before = i == 2 ? std::optional<int64_t>(40) : std::nullopt;
    r.expires = i == 0 ? std::optional<int64_t>(9000) : std::nullopt;
    r.created = 100 + static_cast<int64_t>(i);
    r.updated = 200 + static_cast<int64_t>(i);
    r.tags = {{"i", std::to_string(i)}, {"quote\"", "new\nline"}};
    r.public_key = Bytes{0x30, static_cast<uint8_t>(i)};
    r.sealed_private_key = Bytes(64 + i, static_cast<uint8_t>(0xa0 + i));
    backup.push_back(std::move(r));
  }
  backup[1].name = "RESTORED";  // names compare case-insensitively
  const std::vector<KeyVersionRecord> original = backup;
  RotationPolicyRecord policy = MakePolicy("v", "restored");
  policy.created = 70;
  policy.updated = 80;

  ASSERT_TRUE(store_->RestoreKey(backup, policy).ok());

  // The records now hold what GetKeyVersion returns.
  ASSERT_EQ(backup.size(), 3u);
  for (size_t i = 0; i < backup.size(); ++i) {
    EXPECT_EQ(backup[i].vault, "v");
    EXPECT_EQ(backup[i].name, "Restored");
    EXPECT_EQ(backup[i].sequence, static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(backup[0].version, "ff" + VersionId(1).substr(2));
  EXPECT_EQ(backup[2].version, "ab" + VersionId(3).substr(2));

  auto listed = store_->ListKeyVersions("v", "restored", "", 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->items.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const KeyVersionRecord& got = listed->items[i];
    const KeyVersionRecord& want = original[i];
    EXPECT_EQ(got.vault, "v");
    EXPECT_EQ(got.name, "Restored");
    EXPECT_EQ(got.version, backup[i].version);
    EXPECT_EQ(got.sequence, static_cast<int64_t>(i + 1));
    EXPECT_EQ(got.key_type, want.key_type);
    EXPECT_EQ(got.key_ops, want.key_ops);
    EXPECT_EQ(got.enabled, want.enabled);
    EXPECT_EQ(got.not_before, want.not_before);
    EXPECT_EQ(got.expires, want.expires);
    EXPECT_EQ(got.created, want.created);
    EXPECT_EQ(got.updated, want.updated);
    EXPECT_EQ(got.tags, want.tags);
    EXPECT_EQ(got.public_key, want.public_key);
    EXPECT_EQ(got.sealed_private_key, want.sealed_private_key);
  }
  auto latest = store_->GetKeyVersion("v", "RESTORED", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, "ab" + VersionId(3).substr(2));
  EXPECT_EQ(latest->sequence, 3);
  auto by_id = store_->GetKeyVersion("v", "restored", VersionId(7));
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->sequence, 2);

  auto got_policy = store_->GetRotationPolicy("v", "restored");
  ASSERT_TRUE(got_policy.ok()) << got_policy.status().ToString();
  ASSERT_TRUE(got_policy->has_value());
  RotationPolicyRecord want_policy = policy;
  want_policy.name = "Restored";
  ExpectSamePolicy(**got_policy, want_policy);

  // Sequences continue after the restored ones, and the restored latest is the expectation.
  KeyVersionRecord next = MakeVersion("v", "restored", VersionId(8));
  ASSERT_TRUE(store_->AddKeyVersion(next, 3).ok());
  EXPECT_EQ(next.sequence, 4);
}

TEST_F(SqliteStoreRotationTest, RestoreWithoutPolicyStoresNone) {
  PutVault("v");
  std::vector<KeyVersionRecord> backup = {MakeVersion("v", "k", VersionId(1))};
  ASSERT_TRUE(store_->RestoreKey(backup, std::nullopt).ok());
  EXPECT_EQ(backup[0].sequence, 1);
  auto policy = store_->GetRotationPolicy("v", "k");
  ASSERT_TRUE(policy.ok());
  EXPECT_FALSE(policy->has_value());
  EXPECT_EQ(Add("v", "k", VersionId(2)), 2);
}

TEST_F(SqliteStoreRotationTest, RestoreConflictsWithActiveAndDeletedNames) {
  PutVault("v");
  Add("v", "Active", VersionId(1));
  Add("v", "Deleted", VersionId(1));
  ASSERT_TRUE(store_->DeleteKey("v", "deleted", 1, 2).ok());

  for (const char* name : {"ACTIVE", "deleted"}) {
    std::vector<KeyVersionRecord> backup = {MakeVersion("v", name, VersionId(5)),
                                            MakeVersion("v", name, VersionId(6))};
    Status s = store_->RestoreKey(backup, MakePolicy("v", name));
    EXPECT_EQ(s.kind(), ErrorKind::kConflict) << name;
    EXPECT_EQ(s.inner_code(), "exists") << name;
    EXPECT_EQ(backup[0].sequence, 0);
  }
  // Both keys are untouched.
  auto active = store_->ListKeyVersions("v", "active", "", 10);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->items.size(), 1u);
  EXPECT_EQ(active->items[0].version, VersionId(1));
  auto policy = store_->GetRotationPolicy("v", "active");
  ASSERT_TRUE(policy.ok());
  EXPECT_FALSE(policy->has_value());
  auto deleted = store_->GetDeletedKey("v", "deleted");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->latest.version, VersionId(1));
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM key_versions"), 2);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM rotation_policies"), 0);

  // Once purged, the name is free for a restore.
  ASSERT_TRUE(store_->PurgeKey("v", "deleted").ok());
  std::vector<KeyVersionRecord> backup = {MakeVersion("v", "deleted", VersionId(5))};
  EXPECT_TRUE(store_->RestoreKey(backup, std::nullopt).ok());
}

TEST_F(SqliteStoreRotationTest, RestoreIntoMissingVaultIsNotFound) {
  std::vector<KeyVersionRecord> backup = {MakeVersion("nowhere", "k", VersionId(1))};
  EXPECT_EQ(store_->RestoreKey(backup, MakePolicy("nowhere", "k")).kind(), ErrorKind::kNotFound);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM keys"), 0);
}

TEST_F(SqliteStoreRotationTest, RestoreRejectsMalformedBackups) {
  PutVault("v");
  PutVault("w");
  std::vector<KeyVersionRecord> empty;
  EXPECT_EQ(store_->RestoreKey(empty, std::nullopt).kind(), ErrorKind::kBadRequest);

  std::vector<KeyVersionRecord> two_names = {MakeVersion("v", "a", VersionId(1)),
                                             MakeVersion("v", "b", VersionId(2))};
  EXPECT_EQ(store_->RestoreKey(two_names, std::nullopt).kind(), ErrorKind::kBadRequest);
  std::vector<KeyVersionRecord> two_vaults = {MakeVersion("v", "a", VersionId(1)),
                                              MakeVersion("w", "a", VersionId(2))};
  EXPECT_EQ(store_->RestoreKey(two_vaults, std::nullopt).kind(), ErrorKind::kBadRequest);
  std::vector<KeyVersionRecord> no_version = {MakeVersion("v", "a", "")};
  EXPECT_EQ(store_->RestoreKey(no_version, std::nullopt).kind(), ErrorKind::kBadRequest);
  std::vector<KeyVersionRecord> other_policy = {MakeVersion("v", "a", VersionId(1))};
  EXPECT_EQ(store_->RestoreKey(other_policy, MakePolicy("v", "b")).kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM keys"), 0);
}

TEST_F(SqliteStoreRotationTest, FailedRestoreWritesNothing) {
  PutVault("v");
  // The duplicate (differing only in case) is found after the key row and two versions have
  // been written in the transaction: all of it must roll back.
  std::vector<KeyVersionRecord> backup = {MakeVersion("v", "Half", "aa" + VersionId(1).substr(2)),
                                          MakeVersion("v", "half", VersionId(2)),
                                          MakeVersion("v", "half", "AA" + VersionId(1).substr(2))};
  Status s = store_->RestoreKey(backup, MakePolicy("v", "half"));
  EXPECT_EQ(s.kind(), ErrorKind::kBadRequest) << s.ToString();
  EXPECT_EQ(backup[0].sequence, 0);
  EXPECT_EQ(backup[0].version, "aa" + VersionId(1).substr(2));

  EXPECT_EQ(store_->GetKeyVersion("v", "half", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetDeletedKey("v", "half").status().kind(), ErrorKind::kNotFound);
  auto keys = store_->ListKeys("v", "", 10);
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->items.empty());
  auto policies = store_->ListRotationPolicies();
  ASSERT_TRUE(policies.ok());
  EXPECT_TRUE(policies->empty());
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM keys"), 0);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM key_versions"), 0);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM rotation_policies"), 0);

  // The name is free: a correct restore succeeds and starts at sequence 1.
  backup.pop_back();
  ASSERT_TRUE(store_->RestoreKey(backup, std::nullopt).ok());
  EXPECT_EQ(backup[0].sequence, 1);
  EXPECT_EQ(backup[1].sequence, 2);
  EXPECT_EQ(Latest("v", "half"), 2);
}

// ---- rotation policies

TEST_F(SqliteStoreRotationTest, PolicyPutGetReplaceKeepsCreated) {
  PutVault("v");
  Add("v", "MyKey", VersionId(1));

  auto none = store_->GetRotationPolicy("v", "mykey");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());

  RotationPolicyRecord policy = MakePolicy("V", "MYKEY");
  policy.actions.push_back({"odd \"quote\"\n", "\xff\xfe", ""});
  auto stored = store_->PutRotationPolicy(policy);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  RotationPolicyRecord want = policy;
  want.vault = "v";
  want.name = "MyKey";  // the key's display name
  ExpectSamePolicy(*stored, want);
  auto got = store_->GetRotationPolicy("V", "MYKEY");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  ExpectSamePolicy(**got, want);

  RotationPolicyRecord replacement = MakePolicy("v", "mykey");
  replacement.actions = {{"Notify", "timeBeforeExpiry", "P7D"}};
  replacement.expiry_time.reset();
  replacement.created = 9999;  // ignored on replace
  replacement.updated = 900;
  stored = store_->PutRotationPolicy(replacement);
  ASSERT_TRUE(stored.ok());
  want = replacement;
  want.name = "MyKey";
  want.created = 500;
  ExpectSamePolicy(*stored, want);
  got = store_->GetRotationPolicy("v", "mykey");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  ExpectSamePolicy(**got, want);

  // No actions at all is a valid policy.
  replacement.actions.clear();
  stored = store_->PutRotationPolicy(replacement);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->actions.empty());

  EXPECT_EQ(store_->PutRotationPolicy(MakePolicy("v", "missing")).status().kind(),
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->PutRotationPolicy(MakePolicy("w", "mykey")).status().kind(),
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetRotationPolicy("v", "missing").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetRotationPolicy("w", "mykey").status().kind(), ErrorKind::kNotFound);
}

TEST_F(SqliteStoreRotationTest, PolicyFollowsSoftDeleteRecoverAndPurge) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  ASSERT_TRUE(store_->PutRotationPolicy(MakePolicy("v", "k")).ok());

  ASSERT_TRUE(store_->DeleteKey("v", "k", 10, 20).ok());
  EXPECT_EQ(store_->GetRotationPolicy("v", "k").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->PutRotationPolicy(MakePolicy("v", "k")).status().kind(), ErrorKind::kNotFound);
  auto listed = store_->ListRotationPolicies();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  ASSERT_TRUE(store_->RecoverKey("v", "k").ok());
  auto got = store_->GetRotationPolicy("v", "k");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  ExpectSamePolicy(**got, MakePolicy("v", "k"));

  ASSERT_TRUE(store_->DeleteKey("v", "k", 30, 40).ok());
  ASSERT_TRUE(store_->PurgeKey("v", "k").ok());
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM rotation_policies"), 0);
  // A new key of the same name starts without a policy.
  Add("v", "k", VersionId(2));
  got = store_->GetRotationPolicy("v", "k");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST_F(SqliteStoreRotationTest, ListPoliciesCoversActiveKeysOfAllVaultsInOrder) {
  PutVault("b");
  PutVault("a");
  for (const auto& [vault, name] :
       std::vector<std::pair<std::string, std::string>>{{"b", "Zed"},
                                                        {"a", "mid"},
                                                        {"b", "alpha"},
                                                        {"a", "Gone"},
                                                        {"a", "NoPolicy"},
                                                        {"a", "Beta"}}) {
    Add(vault, name, VersionId(1));
    if (name != "NoPolicy") {
      ASSERT_TRUE(store_->PutRotationPolicy(MakePolicy(vault, name)).ok());
    }
  }
  ASSERT_TRUE(store_->DeleteKey("a", "gone", 1, 2).ok());

  auto listed = store_->ListRotationPolicies();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::string> seen;
  for (const RotationPolicyRecord& p : *listed) seen.push_back(p.vault + "/" + p.name);
  EXPECT_EQ(seen, (std::vector<std::string>{"a/Beta", "a/mid", "b/alpha", "b/Zed"}));
  ASSERT_FALSE(listed->empty());
  ExpectSamePolicy(listed->front(), MakePolicy("a", "Beta"));
}

TEST_F(SqliteStoreRotationTest, CorruptPolicyIsInternalError) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  ASSERT_TRUE(store_->PutRotationPolicy(MakePolicy("v", "k")).ok());
  store_.reset();
  RawExec("UPDATE rotation_policies SET actions = '[{\"action\":\"Rotate\"}]'");
  Reopen();
  EXPECT_EQ(store_->GetRotationPolicy("v", "k").status().kind(), ErrorKind::kInternal);
  EXPECT_EQ(store_->ListRotationPolicies().status().kind(), ErrorKind::kInternal);
}

// ---- key events

TEST_F(SqliteStoreRotationTest, EventsAreRecordedOnceAndListedInOrder) {
  PutVault("v");
  Add("v", "MyKey", VersionId(1));
  Add("v", "MyKey", VersionId(2));

  auto event = [](std::string name, std::string version, std::string kind, int64_t time) {
    return KeyEventRecord{"V", std::move(name), std::move(version), std::move(kind), time};
  };
  auto added = store_->RecordKeyEvent(event("mykey", VersionId(2), "NearExpiry", 10));
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_TRUE(*added);
  // Same key, version and kind (names and version ids case-insensitive): not again.
  added = store_->RecordKeyEvent(event("MYKEY", VersionId(2), "NearExpiry", 20));
  ASSERT_TRUE(added.ok());
  EXPECT_FALSE(*added);
  added = store_->RecordKeyEvent(event("mykey", VersionId(1), "NearExpiry", 30));
  ASSERT_TRUE(added.ok());
  EXPECT_TRUE(*added);
  added = store_->RecordKeyEvent(event("mykey", VersionId(2), "Rotated", 5));
  ASSERT_TRUE(added.ok());
  EXPECT_TRUE(*added);
  added = store_->RecordKeyEvent(event("mykey", "AB" + VersionId(1).substr(2), "X", 1));
  ASSERT_TRUE(added.ok());
  EXPECT_TRUE(*added);
  added = store_->RecordKeyEvent(event("mykey", "ab" + VersionId(1).substr(2), "X", 2));
  ASSERT_TRUE(added.ok());
  EXPECT_FALSE(*added);

  auto listed = store_->ListKeyEvents("v", "MYKEY");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 4u);
  // Insertion order, not time order; the first time is kept.
  EXPECT_EQ((*listed)[0].version, VersionId(2));
  EXPECT_EQ((*listed)[0].kind, "NearExpiry");
  EXPECT_EQ((*listed)[0].time, 10);
  EXPECT_EQ((*listed)[1].version, VersionId(1));
  EXPECT_EQ((*listed)[2].kind, "Rotated");
  EXPECT_EQ((*listed)[2].time, 5);
  EXPECT_EQ((*listed)[3].version, "ab" + VersionId(1).substr(2));
  for (const KeyEventRecord& e : *listed) {
    EXPECT_EQ(e.vault, "v");
    EXPECT_EQ(e.name, "MyKey");
  }

  EXPECT_EQ(store_->RecordKeyEvent(event("missing", VersionId(1), "X", 1)).status().kind(),
            ErrorKind::kNotFound);
  auto none = store_->ListKeyEvents("v", "missing");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteStoreRotationTest, EventsSurviveSoftDeleteAndGoWithPurge) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  KeyEventRecord e{"v", "k", VersionId(1), "NearExpiry", 1};
  ASSERT_TRUE(store_->RecordKeyEvent(e).ok());

  ASSERT_TRUE(store_->DeleteKey("v", "k", 10, 20).ok());
  EXPECT_EQ(store_->RecordKeyEvent(e).status().kind(), ErrorKind::kNotFound);
  ASSERT_TRUE(store_->RecoverKey("v", "k").ok());
  auto again = store_->RecordKeyEvent(e);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);  // kept across delete + recover

  ASSERT_TRUE(store_->DeleteKey("v", "k", 30, 40).ok());
  ASSERT_TRUE(store_->PurgeKey("v", "k").ok());
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM key_events"), 0);
  Add("v", "k", VersionId(1));
  auto listed = store_->ListKeyEvents("v", "k");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  auto fresh = store_->RecordKeyEvent(e);
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(*fresh);  // a new key of the same name is notified afresh
}

TEST_F(SqliteStoreRotationTest, PurgeExpiredKeysRemovesPoliciesAndEvents) {
  PutVault("v");
  for (const char* name : {"expired", "later", "active"}) {
    Add("v", name, VersionId(1));
    ASSERT_TRUE(store_->PutRotationPolicy(MakePolicy("v", name)).ok());
    ASSERT_TRUE(store_->RecordKeyEvent({"v", name, VersionId(1), "NearExpiry", 1}).ok());
  }
  ASSERT_TRUE(store_->DeleteKey("v", "expired", 1, 100).ok());
  ASSERT_TRUE(store_->DeleteKey("v", "later", 1, 300).ok());

  auto purged = store_->PurgeExpiredKeys(200);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM rotation_policies WHERE name_key = 'expired'"), 0);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM key_events WHERE name_key = 'expired'"), 0);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM rotation_policies"), 2);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM key_events"), 2);

  ASSERT_TRUE(store_->RecoverKey("v", "later").ok());
  auto policy = store_->GetRotationPolicy("v", "later");
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(policy->has_value());
  auto events = store_->ListKeyEvents("v", "later");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
}

// ---- schema

TEST_F(SqliteStoreRotationTest, FreshDatabaseIsAtSchemaVersionTwoWithStrictTables) {
  PutVault("v");
  EXPECT_EQ(RawInt("PRAGMA user_version"), 2);
  for (const char* table : {"rotation_policies", "key_events"}) {
    EXPECT_EQ(
        RawInt(std::string("SELECT strict FROM pragma_table_list WHERE name = '") + table + "'"), 1)
        << table;
  }
  // Reopening an up-to-date database changes nothing and keeps the data.
  Add("v", "k", VersionId(1));
  ASSERT_TRUE(store_->PutRotationPolicy(MakePolicy("v", "k")).ok());
  ASSERT_TRUE(store_->RecordKeyEvent({"v", "k", VersionId(1), "NearExpiry", 1}).ok());
  Reopen();
  Reopen();
  EXPECT_EQ(RawInt("PRAGMA user_version"), 2);
  auto policy = store_->GetRotationPolicy("v", "k");
  ASSERT_TRUE(policy.ok());
  ASSERT_TRUE(policy->has_value());
  ExpectSamePolicy(**policy, MakePolicy("v", "k"));
  auto events = store_->ListKeyEvents("v", "k");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
}

TEST_F(SqliteStoreRotationTest, MigratesVersionOneDatabase) {
  store_.reset();
  std::filesystem::remove(path_);
  std::filesystem::remove(path_ + "-wal");
  std::filesystem::remove(path_ + "-shm");
  RawExec(std::string(kSchemaV1) +
          "INSERT INTO vaults VALUES ('v', 90, 0, 1);"
          "INSERT INTO keys VALUES ('v', 'old', 'Old', NULL, NULL, 3);"
          "INSERT INTO key_versions VALUES ('v', 'old', '" +
          VersionId(1) +
          "', 1, 'EC', '[\"sign\"]', 1, NULL, NULL, 5, 5, '[]', X'3000', X'01');"
          "INSERT INTO key_versions VALUES ('v', 'old', '" +
          VersionId(2) +
          "', 2, 'EC', '[\"sign\"]', 1, NULL, NULL, 6, 6, '[[\"a\",\"b\"]]', X'3001', X'02');"
          "PRAGMA user_version = 1;");
  ASSERT_EQ(RawInt("PRAGMA user_version"), 1);

  Reopen();
  EXPECT_EQ(RawInt("PRAGMA user_version"), 2);
  auto latest = store_->GetKeyVersion("v", "old", "");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->name, "Old");
  EXPECT_EQ(latest->sequence, 2);
  EXPECT_EQ(latest->tags, (Tags{{"a", "b"}}));
  EXPECT_EQ(latest->sealed_private_key, Bytes({0x02}));

  auto none = store_->GetRotationPolicy("v", "old");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store_->PutRotationPolicy(MakePolicy("v", "old")).ok());
  auto recorded = store_->RecordKeyEvent({"v", "old", VersionId(2), "NearExpiry", 1});
  ASSERT_TRUE(recorded.ok());
  EXPECT_TRUE(*recorded);
  KeyVersionRecord next = MakeVersion("v", "old", VersionId(3));
  ASSERT_TRUE(store_->AddKeyVersion(next, 2).ok());
  EXPECT_EQ(next.sequence, 3);

  Reopen();
  EXPECT_EQ(RawInt("PRAGMA user_version"), 2);
  auto policy = store_->GetRotationPolicy("v", "old");
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(policy->has_value());
}

}  // namespace
}  // namespace coffre::store
