// The Store conformance suite: the contract of store.h, run against every backend (SQLite and
// PostgreSQL) with the same assertions. Backend-specific tests live in sqlite_store_test.cc,
// sqlite_store_rotation_test.cc and postgres_store_test.cc; rotation, restore, policy, event and
// lease tests in store_rotation_conformance_test.cc.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_support.h"

namespace coffre::store::storetest {
namespace {

class StoreConformanceTest : public StoreTest {};

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(StoreConformanceTest, VaultPutGetListIsIdempotent) {
  VaultRecord a{.name = "Beta", .retention_days = 30, .purge_protection = true, .created = 5};
  ASSERT_TRUE(store_->PutVault(a).ok());
  VaultRecord again{.name = "beta", .retention_days = 7, .purge_protection = false, .created = 9};
  ASSERT_TRUE(store_->PutVault(again).ok());  // existing vault left unchanged
  PutVault("alpha");

  auto got = store_->GetVault("BETA");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "beta");
  EXPECT_EQ(got->retention_days, 30);
  EXPECT_TRUE(got->purge_protection);
  EXPECT_EQ(got->created, 5);

  auto list = store_->ListVaults();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "alpha");
  EXPECT_EQ((*list)[1].name, "beta");

  EXPECT_EQ(store_->GetVault("gamma").status().kind(), ErrorKind::kNotFound);
}

TEST_P(StoreConformanceTest, AddVersionsAssignsSequencesAndLatest) {
  PutVault("v");
  EXPECT_EQ(Add("v", "k", VersionId(1)), 1);
  EXPECT_EQ(Add("v", "k", VersionId(2)), 2);
  EXPECT_EQ(Add("v", "k", VersionId(3)), 3);
  EXPECT_EQ(Add("v", "other", VersionId(1)), 1);  // sequences are per key

  auto latest = store_->GetKeyVersion("v", "k", "");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->version, VersionId(3));
  EXPECT_EQ(latest->sequence, 3);

  auto first = store_->GetKeyVersion("v", "k", VersionId(1));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->sequence, 1);
  EXPECT_EQ(first->vault, "v");
  EXPECT_EQ(first->key_type, "EC");
  EXPECT_EQ(first->public_key, Bytes({0x30, 0x00, 0x01}));
  EXPECT_EQ(first->sealed_private_key, Bytes({0x01, 0xff, 0x00, 0x7f}));

  EXPECT_EQ(store_->GetKeyVersion("v", "k", VersionId(9)).status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetKeyVersion("v", "nope", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetKeyVersion("w", "k", "").status().kind(), ErrorKind::kNotFound);
}

TEST_P(StoreConformanceTest, NamesAndVersionsAreCaseInsensitive) {
  PutVault("v");
  KeyVersionRecord r = MakeVersion("V", "MyKey", "ABCDEF0123456789ABCDEF0123456789");
  ASSERT_TRUE(store_->AddKeyVersion(r).ok());
  EXPECT_EQ(r.version, "abcdef0123456789abcdef0123456789");
  EXPECT_EQ(r.vault, "v");

  for (const char* name : {"mykey", "MYKEY", "MyKey"}) {
    for (const char* version :
         {"abcdef0123456789abcdef0123456789", "ABCDEF0123456789ABCDEF0123456789"}) {
      auto got = store_->GetKeyVersion("V", name, version);
      ASSERT_TRUE(got.ok()) << name << " " << version;
      EXPECT_EQ(got->name, "MyKey");
      EXPECT_EQ(got->version, "abcdef0123456789abcdef0123456789");
    }
  }
}

TEST_P(StoreConformanceTest, DisplayNameIsKeptFromFirstVersion) {
  PutVault("v");
  Add("v", "MyKey", VersionId(1));
  KeyVersionRecord r = MakeVersion("v", "MYKEY", VersionId(2));
  ASSERT_TRUE(store_->AddKeyVersion(r).ok());
  EXPECT_EQ(r.name, "MyKey");
  EXPECT_EQ(r.sequence, 2);

  auto got = store_->GetKeyVersion("v", "mykey", "");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "MyKey");
  EXPECT_EQ(got->version, VersionId(2));

  auto page = store_->ListKeys("v", "", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].name, "MyKey");
}

TEST_P(StoreConformanceTest, AddToDeletedKeyConflicts) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  ASSERT_TRUE(store_->DeleteKey("v", "k", 10, 20).ok());
  KeyVersionRecord r = MakeVersion("v", "K", VersionId(2));
  Status s = store_->AddKeyVersion(r);
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
  EXPECT_EQ(s.inner_code(), "deleted");
  // Nothing was written.
  auto deleted = store_->GetDeletedKey("v", "k");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->latest.version, VersionId(1));
}

TEST_P(StoreConformanceTest, DuplicateVersionConflictsAndConsumesNoSequence) {
  PutVault("v");
  Add("v", "k", "aa000000000000000000000000000000");
  KeyVersionRecord dup = MakeVersion("v", "k", "AA000000000000000000000000000000");
  Status s = store_->AddKeyVersion(dup);
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
  EXPECT_EQ(s.inner_code(), "version-exists");
  EXPECT_EQ(Add("v", "k", VersionId(2)), 2);
}

TEST_P(StoreConformanceTest, AddToMissingVaultIsNotFound) {
  KeyVersionRecord r = MakeVersion("nowhere", "k", VersionId(1));
  EXPECT_EQ(store_->AddKeyVersion(r).kind(), ErrorKind::kNotFound);
  PutVault("nowhere");
  EXPECT_TRUE(store_->AddKeyVersion(r).ok());
}

TEST_P(StoreConformanceTest, ListKeysPagesEveryActiveKeyOnceInOrder) {
  PutVault("v");
  PutVault("w");
  std::vector<std::string> expected;
  for (int i = 0; i < 60; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "Key-%02d", (i * 37) % 60);  // scrambled insert order
    Add("v", name, VersionId(1));
    Add("v", name, VersionId(2));
    expected.push_back(std::string("key-") + (name + 4));
  }
  std::sort(expected.begin(), expected.end());
  Add("v", "deleted-key", VersionId(1));
  ASSERT_TRUE(store_->DeleteKey("v", "deleted-key", 1, 2).ok());
  Add("w", "other-vault", VersionId(1));

  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = store_->ListKeys("v", cursor, 7);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_LE(page->items.size(), 7u);
    for (const KeyVersionRecord& r : page->items) {
      std::string lower = r.name;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      seen.push_back(lower);
      EXPECT_EQ(r.version, VersionId(2)) << r.name;  // the latest version
      EXPECT_EQ(r.sequence, 2);
    }
    cursor = page->next_cursor;
    ++pages;
    ASSERT_LT(pages, 100);
  } while (!cursor.empty());
  EXPECT_EQ(pages, 9);  // ceil(60 / 7)
  EXPECT_EQ(seen, expected);
}

TEST_P(StoreConformanceTest, PageEndingExactlyAtLastKeyHasNoCursor) {
  PutVault("v");
  for (int i = 0; i < 14; ++i) Add("v", "k" + std::to_string(100 + i), VersionId(1));
  auto first = store_->ListKeys("v", "", 7);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->items.size(), 7u);
  ASSERT_FALSE(first->next_cursor.empty());
  auto second = store_->ListKeys("v", first->next_cursor, 7);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->items.size(), 7u);
  EXPECT_TRUE(second->next_cursor.empty());

  auto empty = store_->ListKeys("nope", "", 5);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->items.empty());
  EXPECT_TRUE(empty->next_cursor.empty());
}

TEST_P(StoreConformanceTest, ListKeyVersionsPagesBySequence) {
  PutVault("v");
  for (int i = 1; i <= 23; ++i) Add("v", "k", VersionId(1000 - i));  // ids unordered vs seq
  std::vector<int64_t> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = store_->ListKeyVersions("v", "K", cursor, 5);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_LE(page->items.size(), 5u);
    for (const KeyVersionRecord& r : page->items) {
      seen.push_back(r.sequence);
      EXPECT_EQ(r.version, VersionId(1000 - static_cast<int>(r.sequence)));
    }
    cursor = page->next_cursor;
    ASSERT_LT(++pages, 100);
  } while (!cursor.empty());
  EXPECT_EQ(pages, 5);
  std::vector<int64_t> expected(23);
  for (int i = 0; i < 23; ++i) expected[i] = i + 1;
  EXPECT_EQ(seen, expected);

  // Exactly two full pages: the second must not promise a third.
  Add("v", "k", VersionId(1));
  Add("v", "k", VersionId(2));
  auto last = store_->ListKeyVersions("v", "k", "20", 5);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->items.size(), 5u);
  EXPECT_TRUE(last->next_cursor.empty());

  EXPECT_EQ(store_->ListKeyVersions("v", "missing", "", 5).status().kind(), ErrorKind::kNotFound);
  ASSERT_TRUE(store_->DeleteKey("v", "k", 1, 2).ok());
  EXPECT_EQ(store_->ListKeyVersions("v", "k", "", 5).status().kind(), ErrorKind::kNotFound);
}

TEST_P(StoreConformanceTest, MalformedCursorsAndLimitsAreBadRequests) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  for (const char* cursor : {"abc", "-1", "1x", "+1", " 1", "99999999999999999999999"}) {
    EXPECT_EQ(store_->ListKeyVersions("v", "k", cursor, 5).status().kind(), ErrorKind::kBadRequest)
        << cursor;
  }
  EXPECT_EQ(store_->ListKeys("v", "UPPER", 5).status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(store_->ListDeletedKeys("v", "UPPER", 5).status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(store_->ListKeys("v", "", 0).status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(store_->ListKeyVersions("v", "k", "", -1).status().kind(), ErrorKind::kBadRequest);
  EXPECT_TRUE(store_->ListKeyVersions("v", "k", "0", 5).ok());
}

TEST_P(StoreConformanceTest, DeleteRecoverPurgeLifecycle) {
  PutVault("v");
  Add("v", "Gone", VersionId(1));
  Add("v", "gone", VersionId(2));
  Add("v", "stays", VersionId(1));

  EXPECT_EQ(store_->GetDeletedKey("v", "gone").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->RecoverKey("v", "gone").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->PurgeKey("v", "gone").kind(), ErrorKind::kNotFound);  // active, not deleted

  auto deleted = store_->DeleteKey("v", "GONE", 100, 200);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->latest.name, "Gone");
  EXPECT_EQ(deleted->latest.version, VersionId(2));
  EXPECT_EQ(deleted->deleted_date, 100);
  EXPECT_EQ(deleted->scheduled_purge_date, 200);

  EXPECT_EQ(store_->DeleteKey("v", "gone", 1, 2).status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetKeyVersion("v", "gone", "").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetKeyVersion("v", "gone", VersionId(1)).status().kind(), ErrorKind::kNotFound);
  auto active = store_->ListKeys("v", "", 10);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->items.size(), 1u);
  EXPECT_EQ(active->items[0].name, "stays");

  auto got = store_->GetDeletedKey("v", "gone");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->latest.version, VersionId(2));
  EXPECT_EQ(got->deleted_date, 100);
  EXPECT_EQ(got->scheduled_purge_date, 200);
  auto listed = store_->ListDeletedKeys("v", "", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].latest.name, "Gone");
  EXPECT_EQ(listed->items[0].scheduled_purge_date, 200);
  EXPECT_TRUE(listed->next_cursor.empty());

  auto recovered = store_->RecoverKey("v", "gone");
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->version, VersionId(2));
  EXPECT_EQ(store_->GetDeletedKey("v", "gone").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->RecoverKey("v", "gone").status().kind(), ErrorKind::kNotFound);
  auto versions = store_->ListKeyVersions("v", "gone", "", 10);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 2u);

  ASSERT_TRUE(store_->DeleteKey("v", "gone", 300, 400).ok());
  ASSERT_TRUE(store_->PurgeKey("v", "GONE").ok());
  EXPECT_EQ(store_->GetDeletedKey("v", "gone").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->PurgeKey("v", "gone").kind(), ErrorKind::kNotFound);
  auto none = store_->ListDeletedKeys("v", "", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());

  // The name is free again and starts over, with the new display name.
  EXPECT_EQ(Add("v", "GONE", VersionId(2)), 1);
  auto reborn = store_->GetKeyVersion("v", "gone", "");
  ASSERT_TRUE(reborn.ok());
  EXPECT_EQ(reborn->name, "GONE");
}

TEST_P(StoreConformanceTest, ListDeletedKeysPages) {
  PutVault("v");
  for (int i = 0; i < 10; ++i) {
    std::string name = "d" + std::to_string(i);
    Add("v", name, VersionId(1));
    ASSERT_TRUE(store_->DeleteKey("v", name, i, 100 + i).ok());
  }
  std::vector<std::string> seen;
  std::string cursor;
  do {
    auto page = store_->ListDeletedKeys("v", cursor, 3);
    ASSERT_TRUE(page.ok());
    for (const auto& r : page->items) seen.push_back(r.latest.name);
    cursor = page->next_cursor;
  } while (!cursor.empty() && seen.size() < 100);
  EXPECT_EQ(seen,
            (std::vector<std::string>{"d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9"}));
}

TEST_P(StoreConformanceTest, PurgeExpiredKeysByDateAcrossVaults) {
  PutVault("v");
  PutVault("w");
  Add("v", "a", VersionId(1));
  Add("v", "a", VersionId(2));
  Add("w", "b", VersionId(1));
  Add("v", "c", VersionId(1));
  Add("v", "active", VersionId(1));
  ASSERT_TRUE(store_->DeleteKey("v", "a", 1, 100).ok());
  ASSERT_TRUE(store_->DeleteKey("w", "b", 1, 200).ok());
  ASSERT_TRUE(store_->DeleteKey("v", "c", 1, 300).ok());

  auto purged = store_->PurgeExpiredKeys(200);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 2);
  EXPECT_EQ(store_->GetDeletedKey("v", "a").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetDeletedKey("w", "b").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->GetDeletedKey("v", "c").ok());
  EXPECT_TRUE(store_->GetKeyVersion("v", "active", "").ok());
  // Versions went with the key: the name starts afresh.
  EXPECT_EQ(Add("v", "a", VersionId(1)), 1);

  purged = store_->PurgeExpiredKeys(200);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 0);
}

TEST_P(StoreConformanceTest, UpdateWritesOnlyMutableFields) {
  PutVault("v");
  Add("v", "k", VersionId(1));
  Add("v", "k", VersionId(2));

  KeyVersionRecord update = MakeVersion("V", "K", VersionId(1));
  update.enabled = false;
  update.not_before = 50;
  update.expires = 5000;
  update.key_ops = {"encrypt"};
  update.tags = {{"a", "1"}, {"b", "2"}};
  update.updated = 2000;
  // Immutable fields: must be ignored.
  update.key_type = "RSA";
  update.created = 1;
  update.public_key = {9, 9};
  update.sealed_private_key = {8, 8};
  update.sequence = 77;

  auto stored = store_->UpdateKeyVersion(update);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_FALSE(stored->enabled);
  EXPECT_EQ(stored->not_before, 50);
  EXPECT_EQ(stored->expires, 5000);
  EXPECT_EQ(stored->key_ops, std::vector<std::string>{"encrypt"});
  EXPECT_EQ(stored->tags, update.tags);
  EXPECT_EQ(stored->updated, 2000);
  EXPECT_EQ(stored->key_type, "EC");
  EXPECT_EQ(stored->created, 1000);
  EXPECT_EQ(stored->sequence, 1);
  EXPECT_EQ(stored->name, "k");
  EXPECT_EQ(stored->public_key, Bytes({0x30, 0x00, 0x01}));
  EXPECT_EQ(stored->sealed_private_key, Bytes({0x01, 0xff, 0x00, 0x7f}));

  auto reread = store_->GetKeyVersion("v", "k", VersionId(1));
  ASSERT_TRUE(reread.ok());
  EXPECT_FALSE(reread->enabled);
  EXPECT_EQ(reread->not_before, 50);
  // The other version is untouched.
  auto other = store_->GetKeyVersion("v", "k", VersionId(2));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->enabled);
  EXPECT_EQ(other->tags, (Tags{{"env", "test"}}));

  // Clearing the optional dates.
  update.not_before.reset();
  update.expires.reset();
  update.enabled = true;
  stored = store_->UpdateKeyVersion(update);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->not_before.has_value());
  EXPECT_FALSE(stored->expires.has_value());
  EXPECT_TRUE(stored->enabled);

  // Empty version = latest.
  KeyVersionRecord latest = MakeVersion("v", "k", "");
  latest.tags = {};
  stored = store_->UpdateKeyVersion(latest);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->version, VersionId(2));
  EXPECT_TRUE(stored->tags.empty());

  KeyVersionRecord missing = MakeVersion("v", "k", VersionId(3));
  EXPECT_EQ(store_->UpdateKeyVersion(missing).status().kind(), ErrorKind::kNotFound);
  missing = MakeVersion("v", "nokey", VersionId(1));
  EXPECT_EQ(store_->UpdateKeyVersion(missing).status().kind(), ErrorKind::kNotFound);
  ASSERT_TRUE(store_->DeleteKey("v", "k", 1, 2).ok());
  EXPECT_EQ(store_->UpdateKeyVersion(update).status().kind(), ErrorKind::kNotFound);
}

TEST_P(StoreConformanceTest, TagsKeyOpsAndBlobsRoundTripOddCharacters) {
  PutVault("v");
  KeyVersionRecord r = MakeVersion("v", "k", VersionId(1));
  r.tags = {{"", ""},
            {"quote\"back\\slash", "new\nline\ttab"},
            {"json", "[[\"x\",\"y\"]]"},
            {"unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91", "\xe6\x97\xa5\xe6\x9c\xac"},
            {std::string("nul\0inside", 10), std::string("\0", 1)},
            {"bad utf8 \xff\xfe", "\xc3"},
            {"control \x01\x1f", "'; DROP TABLE keys; --"}};
  r.key_ops = {"", "wrapKey", "we\"ird", "\\", std::string("a\0b", 3)};
  r.public_key = {};
  r.sealed_private_key = Bytes(4096);
  for (size_t i = 0; i < r.sealed_private_key.size(); ++i) {
    r.sealed_private_key[i] = static_cast<uint8_t>(i * 31);
  }
  const KeyVersionRecord original = r;
  ASSERT_TRUE(store_->AddKeyVersion(r).ok());
  auto got = store_->GetKeyVersion("v", "k", "");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->tags, original.tags);
  EXPECT_EQ(got->key_ops, original.key_ops);
  EXPECT_TRUE(got->public_key.empty());
  EXPECT_EQ(got->sealed_private_key, original.sealed_private_key);

  KeyVersionRecord empty = MakeVersion("v", "k", VersionId(2));
  empty.tags = {};
  empty.key_ops = {};
  ASSERT_TRUE(store_->AddKeyVersion(empty).ok());
  got = store_->GetKeyVersion("v", "k", VersionId(2));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->tags.empty());
  EXPECT_TRUE(got->key_ops.empty());
}

TEST_P(StoreConformanceTest, EverythingSurvivesReopen) {
  VaultRecord vault{.name = "v", .retention_days = 14, .purge_protection = true, .created = 42};
  ASSERT_TRUE(store_->PutVault(vault).ok());
  Add("v", "Kept", VersionId(1));
  Add("v", "kept", VersionId(2));
  Add("v", "del", VersionId(1));
  ASSERT_TRUE(store_->DeleteKey("v", "del", 5, 6).ok());
  ASSERT_TRUE(store_
                  ->AddPrincipal({"app", "11111111-1111-1111-1111-111111111111",
                                  "22222222-2222-2222-2222-222222222222", "hash", 7})
                  .ok());
  ASSERT_TRUE(store_->GetOrPutSetting("tenant", "t1").ok());

  Reopen();
  Reopen();  // migrations must be idempotent

  auto got_vault = store_->GetVault("v");
  ASSERT_TRUE(got_vault.ok());
  EXPECT_EQ(got_vault->retention_days, 14);
  EXPECT_TRUE(got_vault->purge_protection);
  EXPECT_EQ(got_vault->created, 42);
  auto key = store_->GetKeyVersion("v", "kept", "");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->name, "Kept");
  EXPECT_EQ(key->sequence, 2);
  EXPECT_EQ(key->sealed_private_key, Bytes({0x01, 0xff, 0x00, 0x7f}));
  auto deleted = store_->GetDeletedKey("v", "del");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->scheduled_purge_date, 6);
  auto principal = store_->GetPrincipalByClientId("11111111-1111-1111-1111-111111111111");
  ASSERT_TRUE(principal.ok());
  EXPECT_EQ(principal->secret_hash, "hash");
  auto setting = store_->GetOrPutSetting("tenant", "t2");
  ASSERT_TRUE(setting.ok());
  EXPECT_EQ(*setting, "t1");
  // Sequences continue after reopen.
  EXPECT_EQ(Add("v", "kept", VersionId(3)), 3);
}

TEST_P(StoreConformanceTest, ConcurrentWritersGetDistinctSequencesWhileReadersRead) {
  PutVault("v");
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 50;
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::vector<std::vector<int64_t>> sequences(kWriters);

  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      int64_t last = 0;
      while (!done.load()) {
        auto latest = store_->GetKeyVersion("v", "shared", "");
        if (latest.ok()) {
          if (latest->sequence < last) failures++;  // latest never goes backwards
          last = latest->sequence;
          auto page = store_->ListKeyVersions("v", "shared", "", 1000);
          if (!page.ok() || static_cast<int64_t>(page->items.size()) < last) failures++;
        } else if (latest.status().kind() != ErrorKind::kNotFound || last != 0) {
          failures++;  // NotFound only before the first version exists
        }
        reads++;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerWriter; ++i) {
        KeyVersionRecord r = MakeVersion("v", "shared", VersionId(t * 1000 + i));
        if (!store_->AddKeyVersion(r).ok()) {
          failures++;
          continue;
        }
        sequences[t].push_back(r.sequence);
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  for (auto& r : readers) r.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
  std::set<int64_t> all;
  for (const auto& s : sequences) all.insert(s.begin(), s.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kWriters * kPerWriter));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kWriters * kPerWriter);

  auto page = store_->ListKeyVersions("v", "shared", "", 1000);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), static_cast<size_t>(kWriters * kPerWriter));
  for (size_t i = 0; i < page->items.size(); ++i)
    EXPECT_EQ(page->items[i].sequence, static_cast<int64_t>(i + 1));
}

TEST_P(StoreConformanceTest, SettingKeepsFirstValue) {
  auto first = store_->GetOrPutSetting("tenant_id", "first");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "first");
  auto second = store_->GetOrPutSetting("tenant_id", "second");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, "first");
  auto other = store_->GetOrPutSetting("other", "x");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, "x");
}

TEST_P(StoreConformanceTest, PrincipalsCrudAndConflicts) {
  PrincipalRecord a{"Builder", "aaaaaaaa-0000-0000-0000-000000000001",
                    "bbbbbbbb-0000-0000-0000-000000000001", "h1", 10};
  PrincipalRecord b{"deployer", "aaaaaaaa-0000-0000-0000-000000000002",
                    "bbbbbbbb-0000-0000-0000-000000000002", "h2", 11};
  ASSERT_TRUE(store_->AddPrincipal(a).ok());
  ASSERT_TRUE(store_->AddPrincipal(b).ok());

  PrincipalRecord same_name = b;
  same_name.name = "BUILDER";
  same_name.client_id = "aaaaaaaa-0000-0000-0000-000000000003";
  Status s = store_->AddPrincipal(same_name);
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
  EXPECT_EQ(s.inner_code(), "name-taken");
  PrincipalRecord same_client = b;
  same_client.name = "third";
  same_client.client_id = "AAAAAAAA-0000-0000-0000-000000000001";
  s = store_->AddPrincipal(same_client);
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
  EXPECT_EQ(s.inner_code(), "client-id-taken");

  auto got = store_->GetPrincipalByClientId("AAAAAAAA-0000-0000-0000-000000000001");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "Builder");
  EXPECT_EQ(got->client_id, a.client_id);
  EXPECT_EQ(got->object_id, a.object_id);
  EXPECT_EQ(got->secret_hash, "h1");
  EXPECT_EQ(got->created, 10);
  EXPECT_EQ(store_->GetPrincipalByClientId("nope").status().kind(), ErrorKind::kNotFound);

  auto list = store_->ListPrincipals();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "Builder");
  EXPECT_EQ((*list)[1].name, "deployer");

  ASSERT_TRUE(store_->DeletePrincipal("builder").ok());
  EXPECT_EQ(store_->DeletePrincipal("builder").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetPrincipalByClientId(a.client_id).status().kind(), ErrorKind::kNotFound);
  list = store_->ListPrincipals();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  // Both the name and the client id are free again.
  EXPECT_TRUE(store_->AddPrincipal(a).ok());
}

TEST_P(StoreConformanceTest, CorruptRowsYieldInternalErrorsWithoutBlobContents) {
  PutVault("v");
  KeyVersionRecord r = MakeVersion("v", "k", VersionId(1));
  r.sealed_private_key = Bytes{'S', 'E', 'C', 'R', 'E', 'T'};
  ASSERT_TRUE(store_->AddKeyVersion(r).ok());
  Add("v", "k2", VersionId(1));
  store_.reset();
  // PostgreSQL's BOOLEAN cannot hold 7: corrupt k2's key_ops in another way there.
  RawExec(std::string("UPDATE key_versions SET key_ops = 'not json' WHERE name_key = 'k';") +
          (postgres() ? "UPDATE key_versions SET key_ops = '[1]' WHERE name_key = 'k2';"
                      : "UPDATE key_versions SET enabled = 7 WHERE name_key = 'k2';"));
  Reopen();
  for (const char* name : {"k", "k2"}) {
    auto got = store_->GetKeyVersion("v", name, "");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().kind(), ErrorKind::kInternal);
    EXPECT_EQ(got.status().message().find("SECRET"), std::string::npos);
  }
  EXPECT_EQ(store_->ListKeys("v", "", 10).status().kind(), ErrorKind::kInternal);

  store_.reset();
  RawExec(std::string("UPDATE key_versions SET key_ops = '[\"sign\"]', enabled = ") +
          (postgres() ? "true" : "1") +
          ";"
          "UPDATE key_versions SET tags = '{\"a\":1}' WHERE name_key = 'k';");
  Reopen();
  EXPECT_EQ(store_->GetKeyVersion("v", "k", "").status().kind(), ErrorKind::kInternal);
  EXPECT_TRUE(store_->GetKeyVersion("v", "k2", "").ok());
}

TEST_P(StoreConformanceTest, RefusesNewerSchema) {
  store_.reset();
  Status marked = db_->SetFutureSchemaVersion();
  ASSERT_TRUE(marked.ok()) << marked.ToString();
  auto opened = db_->Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().kind(), ErrorKind::kInternal);
}

TEST_P(StoreConformanceTest, SecondStoreOnSameDatabaseSharesData) {
  // As when `coffre principal create` runs next to a live server, or two replicas share one
  // database.
  auto second = db_->Open();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  PutVault("v");
  std::thread other([&] {
    for (int i = 0; i < 20; ++i) {
      KeyVersionRecord r = MakeVersion("v", "k", VersionId(100 + i));
      EXPECT_TRUE((*second)->AddKeyVersion(r).ok());
    }
  });
  for (int i = 0; i < 20; ++i) Add("v", "k", VersionId(i));
  other.join();
  ASSERT_TRUE((*second)
                  ->AddPrincipal({"cli", "cccccccc-0000-0000-0000-000000000000",
                                  "dddddddd-0000-0000-0000-000000000000", "h", 1})
                  .ok());
  EXPECT_TRUE(store_->GetPrincipalByClientId("cccccccc-0000-0000-0000-000000000000").ok());
  auto page = store_->ListKeyVersions("v", "k", "", 100);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 40u);
  EXPECT_EQ(page->items.back().sequence, 40);
}

TEST_P(StoreConformanceTest, ConcurrentWritesThatFailLeaveTheOthersIntact) {
  // Writers commit together (SQLite batches concurrent writes into one transaction); a write
  // that fails must neither fail nor undo the writes committed with it.
  PutVault("v1");
  for (int n = 0; n < 4; ++n) {
    Add("v1", "gone-" + std::to_string(n), VersionId(1 + n));
    ASSERT_TRUE(store_->DeleteKey("v1", "gone-" + std::to_string(n), 10, 20).ok());
  }
  constexpr int kThreads = 8, kWrites = 12;
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        int id = 1000 + t * kWrites + i;
        if (i % 3 == 0) {  // a soft-deleted key cannot take a version
          KeyVersionRecord r = MakeVersion("v1", "gone-" + std::to_string(i % 4), VersionId(id));
          if (store_->AddKeyVersion(r).kind() != ErrorKind::kConflict) ++unexpected;
        } else {
          KeyVersionRecord r = MakeVersion("v1", "k-" + std::to_string(id), VersionId(id));
          if (!store_->AddKeyVersion(r).ok()) ++unexpected;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(unexpected.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kWrites; ++i) {
      int id = 1000 + t * kWrites + i;
      if (i % 3 == 0) continue;
      auto got = store_->GetKeyVersion("v1", "k-" + std::to_string(id), "");
      ASSERT_TRUE(got.ok()) << id;
      EXPECT_EQ(got->version, VersionId(id));
    }
  }
  for (int n = 0; n < 4; ++n) {
    auto gone = store_->GetDeletedKey("v1", "gone-" + std::to_string(n));
    ASSERT_TRUE(gone.ok());
    EXPECT_EQ(gone->latest.version, VersionId(1 + n));
  }
  auto problems = store_->maintenance().CheckConsistency();
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty());
}

TEST_P(StoreConformanceTest, UsersCrudAndConflicts) {
  UserRecord alice{"Alice@Example.test", "aaaaaaaa-0000-4000-8000-00000000000a", "Alice", "h1", 10};
  ASSERT_TRUE(store_->AddUser(alice).ok());
  UserRecord same_upn = alice;
  same_upn.upn = "alice@example.TEST";
  same_upn.object_id = "aaaaaaaa-0000-4000-8000-00000000000b";
  Status s = store_->AddUser(same_upn);
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
  EXPECT_EQ(s.inner_code(), reason::kUpnTaken);
  UserRecord same_oid = alice;
  same_oid.upn = "bob@example.test";
  EXPECT_EQ(store_->AddUser(same_oid).kind(), ErrorKind::kConflict);

  auto by_upn = store_->GetUserByUpn("ALICE@example.test");
  ASSERT_TRUE(by_upn.ok()) << by_upn.status().ToString();
  EXPECT_EQ(by_upn->upn, "Alice@Example.test");
  EXPECT_EQ(by_upn->password_hash, "h1");
  EXPECT_EQ(by_upn->display_name, "Alice");
  auto by_oid = store_->GetUserByObjectId("AAAAAAAA-0000-4000-8000-00000000000A");
  ASSERT_TRUE(by_oid.ok());
  EXPECT_EQ(by_oid->upn, alice.upn);
  ASSERT_EQ(store_->ListUsers()->size(), 1u);
  ASSERT_TRUE(store_->DeleteUser("alice@EXAMPLE.test").ok());
  EXPECT_EQ(store_->DeleteUser("alice@example.test").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetUserByUpn("alice@example.test").status().kind(), ErrorKind::kNotFound);
}

TEST_P(StoreConformanceTest, ResourceGroupsHoldVaults) {
  auto put = store_->PutResourceGroup({"Quickstart-RG", "westeurope", {{"env", "test"}}, 5});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_TRUE(put->second);
  auto again = store_->PutResourceGroup({"quickstart-rg", "westeurope", {}, 9});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->second);
  EXPECT_EQ(again->first.name, "Quickstart-RG");  // first spelling kept
  EXPECT_TRUE(again->first.tags.empty());         // tags replaced
  EXPECT_EQ(again->first.created, 5);

  // A vault filed in a group that does not exist is refused; in one that does, it is kept with
  // its Resource Manager fields.
  VaultRecord orphan{.name = "orphan", .created = 1};
  orphan.resource_group = "no-such-rg";
  EXPECT_EQ(store_->CreateVault(orphan).kind(), ErrorKind::kNotFound);
  VaultRecord vault{.name = "qs-vault", .created = 1};
  vault.resource_group = "QUICKSTART-rg";
  vault.location = "westeurope";
  vault.sku = "premium";
  vault.tags = {{"a", "1"}};
  ASSERT_TRUE(store_->CreateVault(vault).ok());
  auto got = store_->GetVault("qs-vault");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->resource_group, "QUICKSTART-rg");
  EXPECT_EQ(got->sku, "premium");
  EXPECT_EQ(got->tags, vault.tags);
  EXPECT_FALSE(got->deleted_date.has_value());

  Status busy = store_->DeleteResourceGroup("quickstart-rg");
  EXPECT_EQ(busy.inner_code(), reason::kGroupNotEmpty);
  // Soft-deleted vaults do not hold the group.
  auto deleted = store_->ModifyVault("qs-vault", [](VaultRecord& v) {
    v.deleted_date = 100;
    v.scheduled_purge_date = 200;
    return Status::Ok();
  });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(store_->GetVault("qs-vault")->scheduled_purge_date, 200);
  ASSERT_TRUE(store_->DeleteResourceGroup("QUICKSTART-RG").ok());
  EXPECT_EQ(store_->GetResourceGroup("quickstart-rg").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->DeleteResourceGroup("quickstart-rg").kind(), ErrorKind::kNotFound);
}

TEST_P(StoreConformanceTest, PurgeVaultRemovesEverythingInIt) {
  PutVault("full");
  KeyVersionRecord key;
  key.vault = "full";
  key.name = "k1";
  key.version = std::string(32, 'a');
  key.key_type = "RSA";
  key.created = key.updated = 1;
  key.public_key = {1, 2, 3};
  key.sealed_private_key = {4, 5, 6};
  ASSERT_TRUE(store_->AddKeyVersion(key).ok());
  ASSERT_TRUE(store_->DeleteKey("full", "k1", 2, 3).ok());  // soft-deleted keys go too
  ASSERT_TRUE(store_->PutAccessPolicy({"full", "oid-1", "", {"get"}, {}, {}}).ok());
  EXPECT_EQ(store_->DeleteVault("full").kind(), ErrorKind::kConflict);
  ASSERT_TRUE(store_->PurgeVault("FULL").ok());
  EXPECT_EQ(store_->GetVault("full").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->PurgeVault("full").kind(), ErrorKind::kNotFound);
  // The name is free again, with nothing left over.
  PutVault("full");
  EXPECT_EQ(store_->GetDeletedKey("full", "k1").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->ListAccessPolicies("full")->empty());
  auto problems = store_->maintenance().CheckConsistency();
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty());
}

}  // namespace
}  // namespace coffre::store::storetest
