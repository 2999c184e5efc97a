// The Store conformance suite for secrets: the secret half of store.h's contract, run against
// every backend (SQLite and PostgreSQL) with the same assertions.
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_support.h"

namespace coffre::store::storetest {
namespace {

class StoreSecretConformanceTest : public StoreTest {
 protected:
  static SecretVersionRecord MakeSecret(std::string vault, std::string name, std::string version) {
    SecretVersionRecord r;
    r.vault = std::move(vault);
    r.name = std::move(name);
    r.version = std::move(version);
    r.content_type = "text/plain";
    r.created = r.updated = 100;
    r.tags = {{"env", "test"}};
    r.sealed_value = {0x01, 0x00, 0xfe};
    return r;
  }

  // Adds a version and returns its sequence (0 on failure).
  int64_t AddSecret(const std::string& vault, const std::string& name, const std::string& version) {
    SecretVersionRecord r = MakeSecret(vault, name, version);
    Status added = store_->AddSecretVersion(r);
    EXPECT_TRUE(added.ok()) << added.ToString();
    return added.ok() ? r.sequence : 0;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreSecretConformanceTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(StoreSecretConformanceTest, VersionsGetSequencesAndLatestWins) {
  PutVault("v");
  EXPECT_EQ(AddSecret("v", "s", VersionId(1)), 1);
  EXPECT_EQ(AddSecret("v", "s", VersionId(2)), 2);
  EXPECT_EQ(AddSecret("v", "other", VersionId(1)), 1);

  auto latest = store_->GetSecretVersion("v", "S", "");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->version, VersionId(2));
  EXPECT_EQ(latest->name, "s");
  EXPECT_EQ(latest->content_type, "text/plain");
  EXPECT_EQ(latest->sealed_value, Bytes({0x01, 0x00, 0xfe}));
  EXPECT_EQ(latest->tags, (Tags{{"env", "test"}}));
  EXPECT_FALSE(latest->managed);
  EXPECT_FALSE(latest->key_id.has_value());

  auto first = store_->GetSecretVersion("v", "s", VersionId(1));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->sequence, 1);
  EXPECT_EQ(store_->GetSecretVersion("v", "s", VersionId(9)).status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetSecretVersion("v", "nope", "").status().kind(), ErrorKind::kNotFound);
  // Keys and secrets are separate namespaces.
  EXPECT_EQ(store_->GetKeyVersion("v", "s", "").status().kind(), ErrorKind::kNotFound);

  SecretVersionRecord dup = MakeSecret("v", "s", VersionId(2));
  Status again = store_->AddSecretVersion(dup);
  EXPECT_EQ(again.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(HasReason(again, reason::kVersionExists));

  SecretVersionRecord orphan = MakeSecret("nowhere", "s", VersionId(1));
  EXPECT_EQ(store_->AddSecretVersion(orphan).kind(), ErrorKind::kNotFound);
}

TEST_P(StoreSecretConformanceTest, NullContentTypeAndOptionalFieldsRoundTrip) {
  PutVault("v");
  SecretVersionRecord r = MakeSecret("v", "MixedCase", "ABCDEF0123456789ABCDEF0123456789");
  r.content_type.reset();
  r.not_before = 5;
  r.expires = 7;
  r.enabled = false;
  r.tags.clear();
  ASSERT_TRUE(store_->AddSecretVersion(r).ok());
  EXPECT_EQ(r.version, "abcdef0123456789abcdef0123456789");
  auto got = store_->GetSecretVersion("V", "mixedcase", "ABCDEF0123456789ABCDEF0123456789");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "MixedCase");
  EXPECT_FALSE(got->content_type.has_value());
  EXPECT_EQ(got->not_before, 5);
  EXPECT_EQ(got->expires, 7);
  EXPECT_FALSE(got->enabled);
  EXPECT_TRUE(got->tags.empty());
}

TEST_P(StoreSecretConformanceTest, ListsPageByNameAndSequence) {
  PutVault("v");
  for (int i = 0; i < 5; ++i) AddSecret("v", "s" + std::to_string(i), VersionId(1));
  for (int i = 2; i <= 4; ++i) AddSecret("v", "s0", VersionId(i));

  std::vector<std::string> names;
  std::string cursor;
  do {
    auto page = store_->ListSecrets("v", cursor, 2);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& item : page->items) names.push_back(item.name);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(names, (std::vector<std::string>{"s0", "s1", "s2", "s3", "s4"}));

  auto first = store_->ListSecrets("v", "", 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->items.at(0).version, VersionId(4));  // latest of s0

  std::vector<std::string> versions;
  cursor.clear();
  do {
    auto page = store_->ListSecretVersions("v", "S0", cursor, 3);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& item : page->items) versions.push_back(item.version);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(versions,
            (std::vector<std::string>{VersionId(1), VersionId(2), VersionId(3), VersionId(4)}));

  EXPECT_EQ(store_->ListSecretVersions("v", "missing", "", 3).status().kind(),
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->ListSecrets("v", "", 0).status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(store_->ListSecretVersions("v", "s0", "x", 3).status().kind(), ErrorKind::kBadRequest);
}

TEST_P(StoreSecretConformanceTest, UpdateChangesAttributesOnly) {
  PutVault("v");
  AddSecret("v", "s", VersionId(1));
  AddSecret("v", "s", VersionId(2));
  SecretVersionRecord change = MakeSecret("v", "s", VersionId(1));
  change.content_type = "application/json";
  change.enabled = false;
  change.expires = 999;
  change.tags = {{"a", "b"}};
  change.updated = 200;
  change.sealed_value = {0x99};  // ignored: the value never changes
  auto updated = store_->UpdateSecretVersion(change);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->content_type, "application/json");
  EXPECT_FALSE(updated->enabled);
  EXPECT_EQ(updated->expires, 999);
  EXPECT_EQ(updated->updated, 200);
  EXPECT_EQ(updated->created, 100);
  EXPECT_EQ(updated->sealed_value, Bytes({0x01, 0x00, 0xfe}));
  // The other version is untouched.
  auto other = store_->GetSecretVersion("v", "s", VersionId(2));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->enabled);

  change.version.clear();  // latest
  change.content_type.reset();
  auto latest = store_->UpdateSecretVersion(change);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, VersionId(2));
  EXPECT_FALSE(latest->content_type.has_value());

  change.version = VersionId(7);
  EXPECT_EQ(store_->UpdateSecretVersion(change).status().kind(), ErrorKind::kNotFound);
}

TEST_P(StoreSecretConformanceTest, SoftDeleteRecoverAndPurge) {
  PutVault("v");
  AddSecret("v", "s", VersionId(1));
  AddSecret("v", "s", VersionId(2));
  auto deleted = store_->DeleteSecret("v", "S", 1000, 5000);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->latest.version, VersionId(2));
  EXPECT_EQ(deleted->deleted_date, 1000);
  EXPECT_EQ(deleted->scheduled_purge_date, 5000);

  EXPECT_EQ(store_->GetSecretVersion("v", "s", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->DeleteSecret("v", "s", 1, 2).status().kind(), ErrorKind::kNotFound);
  SecretVersionRecord onto = MakeSecret("v", "s", VersionId(3));
  Status blocked = store_->AddSecretVersion(onto);
  EXPECT_EQ(blocked.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(HasReason(blocked, reason::kDeleted));

  auto listed = store_->ListDeletedSecrets("v", "", 25);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].deleted_date, 1000);
  EXPECT_TRUE(store_->ListSecrets("v", "", 25)->items.empty());

  auto got = store_->GetDeletedSecret("v", "s");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->scheduled_purge_date, 5000);

  auto recovered = store_->RecoverSecret("v", "s");
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(recovered->version, VersionId(2));
  EXPECT_EQ(store_->RecoverSecret("v", "s").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->PurgeSecret("v", "s").kind(), ErrorKind::kNotFound);  // active

  ASSERT_TRUE(store_->DeleteSecret("v", "s", 1000, 5000).ok());
  ASSERT_TRUE(store_->PurgeSecret("v", "s").ok());
  EXPECT_EQ(store_->GetDeletedSecret("v", "s").status().kind(), ErrorKind::kNotFound);
  // The name is free again, and versions start over.
  EXPECT_EQ(AddSecret("v", "s", VersionId(1)), 1);
}

TEST_P(StoreSecretConformanceTest, PurgeExpiredSecretsByDateAcrossVaults) {
  PutVault("a");
  PutVault("b");
  AddSecret("a", "due", VersionId(1));
  AddSecret("b", "due", VersionId(1));
  AddSecret("a", "later", VersionId(1));
  AddSecret("a", "active", VersionId(1));
  ASSERT_TRUE(store_->RecordSecretEvent({"a", "due", VersionId(1), "SecretNearExpiry", 5}).ok());
  ASSERT_TRUE(store_->DeleteSecret("a", "due", 10, 100).ok());
  ASSERT_TRUE(store_->DeleteSecret("b", "due", 10, 200).ok());
  ASSERT_TRUE(store_->DeleteSecret("a", "later", 10, 201).ok());
  // A deleted key with an earlier date is not a secret: untouched here.
  Add("a", "key", VersionId(1));
  ASSERT_TRUE(store_->DeleteKey("a", "key", 10, 50).ok());

  auto purged = store_->PurgeExpiredSecrets(200);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 2);
  EXPECT_EQ(store_->GetDeletedSecret("a", "due").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->GetDeletedSecret("a", "later").ok());
  EXPECT_TRUE(store_->GetSecretVersion("a", "active", "").ok());
  EXPECT_TRUE(store_->GetDeletedKey("a", "key").ok());
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM secret_events"), 0);
  EXPECT_EQ(*store_->PurgeExpiredSecrets(200), 0);
}

TEST_P(StoreSecretConformanceTest, ManagedSecretRefusesUnmanagedVersions) {
  PutVault("v");
  SecretVersionRecord managed = MakeSecret("v", "cert", VersionId(1));
  managed.managed = true;
  managed.key_id = "https://v.vault.azure.net/keys/cert/" + VersionId(1);
  ASSERT_TRUE(store_->AddSecretVersion(managed).ok());
  auto got = store_->GetSecretVersion("v", "cert", "");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->managed);
  EXPECT_EQ(got->key_id, managed.key_id);

  SecretVersionRecord plain = MakeSecret("v", "cert", VersionId(2));
  Status refused = store_->AddSecretVersion(plain);
  EXPECT_EQ(refused.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(HasReason(refused, reason::kManaged));

  SecretVersionRecord renewal = MakeSecret("v", "cert", VersionId(3));
  renewal.managed = true;
  EXPECT_TRUE(store_->AddSecretVersion(renewal).ok());
}

TEST_P(StoreSecretConformanceTest, RestoreKeepsVersionsAndRefusesTakenNames) {
  PutVault("v");
  std::vector<SecretVersionRecord> versions = {MakeSecret("v", "Restored", VersionId(5)),
                                               MakeSecret("v", "Restored", VersionId(3))};
  ASSERT_TRUE(store_->RestoreSecret(versions).ok());
  EXPECT_EQ(versions[1].sequence, 2);
  auto latest = store_->GetSecretVersion("v", "restored", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, VersionId(3));
  EXPECT_EQ(AddSecret("v", "restored", VersionId(9)), 3);

  std::vector<SecretVersionRecord> again = {MakeSecret("v", "restored", VersionId(1))};
  Status taken = store_->RestoreSecret(again);
  EXPECT_EQ(taken.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(HasReason(taken, reason::kExists));

  ASSERT_TRUE(store_->DeleteSecret("v", "restored", 1, 2).ok());
  EXPECT_EQ(store_->RestoreSecret(again).kind(), ErrorKind::kConflict);  // deleted still counts

  std::vector<SecretVersionRecord> twice = {MakeSecret("v", "dup", VersionId(1)),
                                            MakeSecret("v", "dup", VersionId(1))};
  Status duplicate = store_->RestoreSecret(twice);
  EXPECT_TRUE(HasReason(duplicate, reason::kDuplicateVersion));
  EXPECT_EQ(store_->GetSecretVersion("v", "dup", "").status().kind(), ErrorKind::kNotFound);
}

TEST_P(StoreSecretConformanceTest, EventsAreRecordedOnce) {
  PutVault("v");
  AddSecret("v", "s", VersionId(1));
  SecretEventRecord event{"v", "S", VersionId(1), "SecretNearExpiry", 42};
  auto first = store_->RecordSecretEvent(event);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*store_->RecordSecretEvent(event));
  auto events = store_->ListSecretEvents("v", "s");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, "SecretNearExpiry");
  EXPECT_EQ((*events)[0].time, 42);
  EXPECT_EQ(store_->RecordSecretEvent({"v", "none", VersionId(1), "X", 1}).status().kind(),
            ErrorKind::kNotFound);
}

TEST_P(StoreSecretConformanceTest, VaultWithSecretsIsNotEmptyAndChecksStayClean) {
  PutVault("v");
  AddSecret("v", "s", VersionId(1));
  Status refused = store_->DeleteVault("v");
  EXPECT_EQ(refused.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(HasReason(refused, reason::kNotEmpty));
  auto problems = store_->maintenance().CheckConsistency();
  ASSERT_TRUE(problems.ok()) << problems.status().ToString();
  EXPECT_TRUE(problems->empty()) << problems->front();

  // A version whose secret row is gone (damage made by hand) is reported.
  RawExec("UPDATE secrets SET next_sequence = 7");
  problems = store_->maintenance().CheckConsistency();
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_NE(problems->front().find("secret v/s: next sequence 7"), std::string::npos)
      << problems->front();
}

}  // namespace
}  // namespace coffre::store::storetest
