// The Store conformance suite, part two: the stale-sequence precondition of AddKeyVersion,
// RestoreKey, rotation policies, once-only key events and background-job leases, run against
// every backend with the same assertions.
#include <atomic>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_support.h"

namespace coffre::store::storetest {
namespace {

class StoreRotationConformanceTest : public StoreTest {};

INSTANTIATE_TEST_SUITE_P(Backends, StoreRotationConformanceTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

// ---- AddKeyVersion with an expected latest sequence

TEST_P(StoreRotationConformanceTest, ExpectedSequenceAddsOnlyOnMatch) {
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

TEST_P(StoreRotationConformanceTest, ExpectedSequenceOnMissingOrDeletedKey) {
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

TEST_P(StoreRotationConformanceTest, RacingRotationsWithSameExpectationExactlyOneWins) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  RaceRounds({store_.get()}, 8, 10);
  auto versions = store_->ListKeyVersions("v", "k", "", 100);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 11u);
}

TEST_P(StoreRotationConformanceTest, RacingRotationsAcrossTwoStoresOnOneFile) {
  // Two writers on the same database (as two processes would be): the check must be inside the
  // write transaction, not just under the in-process mutex.
  auto second = db_->Open();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  PutVault("v");
  Add("v", "k", VersionId(1));
  RaceRounds({store_.get(), second->get()}, 6, 10);
  auto versions = (*second)->ListKeyVersions("v", "k", "", 100);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 11u);
}

// ---- RestoreKey

TEST_P(StoreRotationConformanceTest, RestoreRoundTripsEveryVersionAndThePolicy) {
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

TEST_P(StoreRotationConformanceTest, RestoreWithoutPolicyStoresNone) {
  PutVault("v");
  std::vector<KeyVersionRecord> backup = {MakeVersion("v", "k", VersionId(1))};
  ASSERT_TRUE(store_->RestoreKey(backup, std::nullopt).ok());
  EXPECT_EQ(backup[0].sequence, 1);
  auto policy = store_->GetRotationPolicy("v", "k");
  ASSERT_TRUE(policy.ok());
  EXPECT_FALSE(policy->has_value());
  EXPECT_EQ(Add("v", "k", VersionId(2)), 2);
}

TEST_P(StoreRotationConformanceTest, RestoreConflictsWithActiveAndDeletedNames) {
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

TEST_P(StoreRotationConformanceTest, RestoreIntoMissingVaultIsNotFound) {
  std::vector<KeyVersionRecord> backup = {MakeVersion("nowhere", "k", VersionId(1))};
  EXPECT_EQ(store_->RestoreKey(backup, MakePolicy("nowhere", "k")).kind(), ErrorKind::kNotFound);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM keys"), 0);
}

TEST_P(StoreRotationConformanceTest, RestoreRejectsMalformedBackups) {
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

TEST_P(StoreRotationConformanceTest, FailedRestoreWritesNothing) {
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

TEST_P(StoreRotationConformanceTest, PolicyPutGetReplaceKeepsCreated) {
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

TEST_P(StoreRotationConformanceTest, PolicyFollowsSoftDeleteRecoverAndPurge) {
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

TEST_P(StoreRotationConformanceTest, ListPoliciesCoversActiveKeysOfAllVaultsInOrder) {
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

TEST_P(StoreRotationConformanceTest, CorruptPolicyIsInternalError) {
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

TEST_P(StoreRotationConformanceTest, EventsAreRecordedOnceAndListedInOrder) {
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

TEST_P(StoreRotationConformanceTest, EventsSurviveSoftDeleteAndGoWithPurge) {
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

TEST_P(StoreRotationConformanceTest, PurgeExpiredKeysRemovesPoliciesAndEvents) {
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

// ---- background-job leases

TEST_P(StoreRotationConformanceTest, JobLeaseHasOneHolderUntilItExpires) {
  auto take = [&](const char* job, const char* holder, int64_t now) {
    auto taken = store_->maintenance().TryAcquireJobLease(job, holder, now, 60);
    EXPECT_TRUE(taken.ok()) << taken.status().ToString();
    return taken.ok() && *taken;
  };
  EXPECT_TRUE(take("purge", "a", 1000));  // free: a holds it until 1060
  EXPECT_FALSE(take("purge", "b", 1000));
  EXPECT_FALSE(take("purge", "b", 1059));
  EXPECT_TRUE(take("purge", "a", 1030));  // renewed until 1090
  EXPECT_FALSE(take("purge", "b", 1060));
  EXPECT_TRUE(take("rotate", "b", 1060));  // another job, another lease
  EXPECT_FALSE(take("rotate", "a", 1061));
  EXPECT_TRUE(take("purge", "b", 1090));  // expired: taken over
  EXPECT_FALSE(take("purge", "a", 1100));
  EXPECT_TRUE(take("purge", "b", 1100));

  Reopen();  // leases are in the database, not in the process
  EXPECT_FALSE(take("purge", "a", 1100));
  EXPECT_TRUE(take("purge", "b", 1101));

  EXPECT_EQ(store_->maintenance().TryAcquireJobLease("", "a", 1, 60).status().kind(),
            ErrorKind::kBadRequest);
  EXPECT_EQ(store_->maintenance().TryAcquireJobLease("j", "", 1, 60).status().kind(),
            ErrorKind::kBadRequest);
  EXPECT_EQ(store_->maintenance().TryAcquireJobLease("j", "a", 1, 0).status().kind(),
            ErrorKind::kBadRequest);
  EXPECT_EQ(store_->maintenance()
                .TryAcquireJobLease("j", "a", std::numeric_limits<int64_t>::max(), 1)
                .status()
                .kind(),
            ErrorKind::kBadRequest);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM job_leases"), 2);
}

TEST_P(StoreRotationConformanceTest, RacingLeaseTakersAcrossTwoStoresExactlyOneWins) {
  auto second = db_->Open();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  std::vector<Store*> stores = {store_.get(), second->get()};
  constexpr int kThreads = 6;
  for (int round = 0; round < 8; ++round) {
    // Each round starts after the previous round's lease has expired.
    const int64_t now = 1000 + 100 * round;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::atomic<int> won{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> racers;
    for (int t = 0; t < kThreads; ++t) {
      racers.emplace_back([&, t] {
        ready++;
        while (!go.load()) std::this_thread::yield();
        auto taken =
            stores[static_cast<size_t>(t) % stores.size()]->maintenance().TryAcquireJobLease(
                "auto-rotation", "holder-" + std::to_string(t), now, 50);
        if (!taken.ok()) {
          failed++;
        } else if (*taken) {
          won++;
        }
      });
    }
    while (ready.load() < kThreads) std::this_thread::yield();
    go = true;
    for (auto& racer : racers) racer.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(failed.load(), 0) << "round " << round;
  }
}

}  // namespace
}  // namespace coffre::store::storetest
