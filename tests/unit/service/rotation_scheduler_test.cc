// Tests for RotationScheduler and KeyService's rotation entry points (RotateKey, RotateIfLatest,
// Get/UpdateRotationPolicy) over a real SQLite store, a MaterialBarrier with a random master key
// and a ManualClock. The rules come from the AKV keys wire reference (akv-keys-api.md §6): a Rotate
// trigger creates one new version (exp = now + expiryTime), a Notify trigger fires once per
// version, and no trigger ever acts twice, across runs, restarts and concurrent schedulers.
#include "service/rotation_scheduler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/random.h"
#include "service/key_material.h"
#include "service/key_service.h"
#include "service/material_barrier.h"
#include "service/rotation_policy.h"
#include "service/vault_directory.h"
#include "store/store.h"

namespace coffre::service {
namespace {

constexpr int64_t kStart = 1'700'000'000;
constexpr int64_t kDay = 86400;

RotationPolicy Policy(std::vector<LifetimeAction> actions,
                      std::optional<std::string> expiry = std::nullopt) {
  RotationPolicy policy;
  policy.actions = std::move(actions);
  policy.expiry_time = std::move(expiry);
  return policy;
}

LifetimeAction RotateAfterCreate(std::string duration) {
  return {LifetimeActionType::kRotate, LifetimeTrigger::kTimeAfterCreate, std::move(duration)};
}
LifetimeAction RotateBeforeExpiry(std::string duration) {
  return {LifetimeActionType::kRotate, LifetimeTrigger::kTimeBeforeExpiry, std::move(duration)};
}
LifetimeAction NotifyBeforeExpiry(std::string duration) {
  return {LifetimeActionType::kNotify, LifetimeTrigger::kTimeBeforeExpiry, std::move(duration)};
}

class RotationSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-rotation-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    barrier_ = std::make_unique<MaterialBarrier>(Barrier(crypto::RandomSecureBytes(32)));
    ASSERT_NO_FATAL_FAILURE(Open());
  }

  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    keys_ = std::make_unique<KeyService>(*store_, *barrier_, clock_);
    vaults_ = std::make_unique<VaultDirectory>(*store_);
    ASSERT_TRUE(vaults_->Ensure(vault_).ok());
  }

  void Close() {
    vaults_.reset();
    keys_.reset();
    store_.reset();
  }

  // A process restart: every object is rebuilt over the same database file.
  void Restart() {
    Close();
    ASSERT_NO_FATAL_FAILURE(Open());
  }

  RotationScheduler NewScheduler() { return RotationScheduler(*store_, *keys_, *vaults_, clock_); }

  RotationRunSummary Run() {
    auto summary = NewScheduler().RunOnce();
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    return summary.ok() ? *summary : RotationRunSummary{-1, -1, -1};
  }

  KeyBundle CreateEc(const std::string& name, std::optional<int64_t> expires = std::nullopt) {
    CreateKeyRequest request;
    request.name = name;
    request.kty = KeyType::kEc;
    request.curve = crypto::Curve::kP256;
    request.attributes.expires = expires;
    request.tags = Tags{{"team", "blue"}};
    auto created = keys_->CreateKey(vault_, request);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : KeyBundle{};
  }

  void SetPolicy(const std::string& name, const RotationPolicy& policy) {
    auto stored = keys_->UpdateRotationPolicy(vault_, name, policy);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  }

  std::vector<store::KeyVersionRecord> Versions(const std::string& name) {
    auto page = store_->ListKeyVersions(vault_.name, name, "", 100);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<store::KeyVersionRecord>{};
  }

  std::vector<store::KeyEventRecord> Events(const std::string& name) {
    auto events = store_->ListKeyEvents(vault_.name, name);
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    return events.ok() ? *events : std::vector<store::KeyEventRecord>{};
  }

  std::string dir_;
  ManualClock clock_{kStart};
  store::VaultRecord vault_{.name = "rotvault", .retention_days = 90, .created = kStart};
  std::unique_ptr<MaterialBarrier> barrier_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<KeyService> keys_;
  std::unique_ptr<VaultDirectory> vaults_;
};

void ExpectSummary(const RotationRunSummary& s, int rotated, int notified, int failed) {
  EXPECT_EQ(s.rotated, rotated);
  EXPECT_EQ(s.notified, notified);
  EXPECT_EQ(s.failed, failed);
}

// ---- Rotate timeAfterCreate

TEST_F(RotationSchedulerTest, RotatesOnceWhenTimeAfterCreateFallsDue) {
  KeyBundle original = CreateEc("after-create");
  SetPolicy("after-create", Policy({RotateAfterCreate("P30D")}, "P90D"));

  clock_.Set(kStart + 29 * kDay);
  ExpectSummary(Run(), 0, 0, 0);
  clock_.Set(kStart + 30 * kDay - 1);
  ExpectSummary(Run(), 0, 0, 0);
  ASSERT_EQ(Versions("after-create").size(), 1u);

  const int64_t due = kStart + 30 * kDay;
  clock_.Set(due);
  ExpectSummary(Run(), 1, 0, 0);
  auto versions = Versions("after-create");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version, original.version);
  EXPECT_FALSE(versions[0].expires.has_value());
  const auto& fresh = versions[1];
  EXPECT_NE(fresh.version, original.version);
  EXPECT_EQ(fresh.created, due);
  EXPECT_EQ(fresh.expires, due + 90 * kDay);
  EXPECT_EQ(fresh.key_type, "EC");
  EXPECT_EQ(fresh.key_ops, versions[0].key_ops);
  EXPECT_EQ(fresh.tags, versions[0].tags);
  EXPECT_NE(fresh.public_key, versions[0].public_key);
  auto latest = keys_->GetKey(vault_, "after-create", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, fresh.version);
  EXPECT_EQ(latest->key.params.curve, crypto::Curve::kP256);

  // Same time again: the trigger already acted, for this and for a second scheduler.
  ExpectSummary(Run(), 0, 0, 0);
  RotationScheduler other = NewScheduler();
  auto again = other.RunOnce();
  ASSERT_TRUE(again.ok());
  ExpectSummary(*again, 0, 0, 0);
  clock_.Set(due + 30 * kDay - 1);
  ExpectSummary(Run(), 0, 0, 0);
  EXPECT_EQ(Versions("after-create").size(), 2u);

  // The new version's own trigger.
  clock_.Set(due + 30 * kDay);
  ExpectSummary(Run(), 1, 0, 0);
  versions = Versions("after-create");
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[2].created, due + 30 * kDay);
  EXPECT_EQ(versions[2].expires, due + 120 * kDay);
  ExpectSummary(Run(), 0, 0, 0);
}

TEST_F(RotationSchedulerTest, LongOverdueTriggerRotatesOnlyOnce) {
  CreateEc("overdue");
  SetPolicy("overdue", Policy({RotateAfterCreate("P30D")}, "P90D"));
  clock_.Set(kStart + 365 * kDay);
  ExpectSummary(Run(), 1, 0, 0);
  ExpectSummary(Run(), 0, 0, 0);
  EXPECT_EQ(Versions("overdue").size(), 2u);
}

TEST_F(RotationSchedulerTest, SchedulerRunningTwiceInOneRunSameObjectDoesNothing) {
  CreateEc("same-object");
  SetPolicy("same-object", Policy({RotateAfterCreate("P7D")}));
  clock_.Set(kStart + 7 * kDay);
  RotationScheduler scheduler = NewScheduler();
  auto first = scheduler.RunOnce();
  auto second = scheduler.RunOnce();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  ExpectSummary(*first, 1, 0, 0);
  ExpectSummary(*second, 0, 0, 0);
}

TEST_F(RotationSchedulerTest, WithoutExpiryTimeRotatedVersionHasNoExpiry) {
  CreateEc("no-expiry-time", kStart + 400 * kDay);
  SetPolicy("no-expiry-time", Policy({RotateAfterCreate("P30D")}));
  clock_.Set(kStart + 30 * kDay);
  ExpectSummary(Run(), 1, 0, 0);
  auto versions = Versions("no-expiry-time");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].expires, kStart + 400 * kDay);
  EXPECT_FALSE(versions[1].expires.has_value());
}

TEST_F(RotationSchedulerTest, RestartedSchedulerBehavesTheSame) {
  CreateEc("restart");
  SetPolicy("restart", Policy({RotateAfterCreate("P30D")}, "P90D"));
  const int64_t due = kStart + 30 * kDay;
  clock_.Set(due);
  ExpectSummary(Run(), 1, 0, 0);

  ASSERT_NO_FATAL_FAILURE(Restart());
  ExpectSummary(Run(), 0, 0, 0);
  EXPECT_EQ(Versions("restart").size(), 2u);

  clock_.Set(due + 29 * kDay);
  ASSERT_NO_FATAL_FAILURE(Restart());
  ExpectSummary(Run(), 0, 0, 0);

  clock_.Set(due + 30 * kDay);
  ASSERT_NO_FATAL_FAILURE(Restart());
  ExpectSummary(Run(), 1, 0, 0);
  ASSERT_NO_FATAL_FAILURE(Restart());
  ExpectSummary(Run(), 0, 0, 0);
  auto versions = Versions("restart");
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[2].expires, due + 120 * kDay);
}

// ---- Rotate timeBeforeExpiry

TEST_F(RotationSchedulerTest, TimeBeforeExpiryRotationUsesLatestVersionsExpiry) {
  CreateEc("before-expiry", kStart + 60 * kDay);
  SetPolicy("before-expiry", Policy({RotateBeforeExpiry("P30D")}, "P90D"));

  clock_.Set(kStart + 30 * kDay - 1);
  ExpectSummary(Run(), 0, 0, 0);
  clock_.Set(kStart + 30 * kDay);
  ExpectSummary(Run(), 1, 0, 0);
  auto versions = Versions("before-expiry");
  ASSERT_EQ(versions.size(), 2u);
  const int64_t rotated_at = kStart + 30 * kDay;
  EXPECT_EQ(versions[1].expires, rotated_at + 90 * kDay);

  // Next trigger: the new version's exp minus 30 days.
  clock_.Set(rotated_at + 60 * kDay - 1);
  ExpectSummary(Run(), 0, 0, 0);
  clock_.Set(rotated_at + 60 * kDay);
  ExpectSummary(Run(), 1, 0, 0);
  EXPECT_EQ(Versions("before-expiry").size(), 3u);
}

TEST_F(RotationSchedulerTest, TimeBeforeExpiryIgnoresOlderVersionsExpiry) {
  CreateEc("latest-exp", kStart + 60 * kDay);
  SetPolicy("latest-exp", Policy({RotateBeforeExpiry("P30D")}, "P90D"));
  // A manual rotation makes a version expiring at kStart + 1d + 90d.
  clock_.Set(kStart + kDay);
  auto rotated = keys_->RotateKey(vault_, "latest-exp");
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->attributes.expires, kStart + 91 * kDay);

  // The first version's trigger (kStart + 30d) no longer matters.
  clock_.Set(kStart + 30 * kDay);
  ExpectSummary(Run(), 0, 0, 0);
  clock_.Set(kStart + 61 * kDay - 1);
  ExpectSummary(Run(), 0, 0, 0);
  clock_.Set(kStart + 61 * kDay);
  ExpectSummary(Run(), 1, 0, 0);
  EXPECT_EQ(Versions("latest-exp").size(), 3u);
}

TEST_F(RotationSchedulerTest, TimeBeforeExpiryFollowsUpdatedExpiry) {
  KeyBundle key = CreateEc("moved-exp", kStart + 60 * kDay);
  SetPolicy("moved-exp", Policy({RotateBeforeExpiry("P30D")}, "P90D"));
  UpdateKeyRequest update;
  update.attributes.expires = kStart + 100 * kDay;
  ASSERT_TRUE(keys_->UpdateKey(vault_, "moved-exp", key.version, update).ok());
  clock_.Set(kStart + 30 * kDay);
  ExpectSummary(Run(), 0, 0, 0);
  clock_.Set(kStart + 70 * kDay);
  ExpectSummary(Run(), 1, 0, 0);
}

TEST_F(RotationSchedulerTest, TimeBeforeExpiryWithoutExpiryNeverRotates) {
  CreateEc("never-expires");
  SetPolicy("never-expires", Policy({RotateBeforeExpiry("P30D")}, "P90D"));
  clock_.Set(kStart + 3650 * kDay);
  ExpectSummary(Run(), 0, 0, 0);
  EXPECT_EQ(Versions("never-expires").size(), 1u);
}

// ---- Notify

TEST_F(RotationSchedulerTest, NotifyRecordsOneNearExpiryEventPerVersion) {
  KeyBundle first = CreateEc("notify-key", kStart + 60 * kDay);
  SetPolicy("notify-key", Policy({NotifyBeforeExpiry("P30D")}, "P90D"));

  clock_.Set(kStart + 30 * kDay - 1);
  ExpectSummary(Run(), 0, 0, 0);
  EXPECT_TRUE(Events("notify-key").empty());

  const int64_t due = kStart + 30 * kDay;
  clock_.Set(due);
  ExpectSummary(Run(), 0, 1, 0);
  auto events = Events("notify-key");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].vault, vault_.name);
  EXPECT_EQ(events[0].name, "notify-key");
  EXPECT_EQ(events[0].version, first.version);
  EXPECT_EQ(events[0].kind, "NearExpiry");
  EXPECT_EQ(events[0].time, due);

  // Never again for this version: same scheduler kind, a second one, later, after a restart.
  ExpectSummary(Run(), 0, 0, 0);
  ExpectSummary(Run(), 0, 0, 0);
  clock_.Set(due + 10 * kDay);
  ExpectSummary(Run(), 0, 0, 0);
  ASSERT_NO_FATAL_FAILURE(Restart());
  ExpectSummary(Run(), 0, 0, 0);
  EXPECT_EQ(Events("notify-key").size(), 1u);
  // A notification does not rotate.
  EXPECT_EQ(Versions("notify-key").size(), 1u);

  // A new version gets its own notification.
  auto rotated = keys_->RotateKey(vault_, "notify-key");
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  ASSERT_TRUE(rotated->attributes.expires.has_value());
  ExpectSummary(Run(), 0, 0, 0);
  clock_.Set(*rotated->attributes.expires - 30 * kDay);
  ExpectSummary(Run(), 0, 1, 0);
  ExpectSummary(Run(), 0, 0, 0);
  events = Events("notify-key");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].version, first.version);
  EXPECT_EQ(events[1].version, rotated->version);
  EXPECT_EQ(events[1].kind, "NearExpiry");
}

TEST_F(RotationSchedulerTest, NotifyWithoutExpiryTimeUsesTheVersionsOwnExpiry) {
  KeyBundle with_exp = CreateEc("notify-own-exp", kStart + 45 * kDay);
  SetPolicy("notify-own-exp", Policy({NotifyBeforeExpiry("P30D")}));
  CreateEc("notify-no-exp");
  SetPolicy("notify-no-exp", Policy({NotifyBeforeExpiry("P30D")}));

  clock_.Set(kStart + 15 * kDay - 1);
  ExpectSummary(Run(), 0, 0, 0);
  clock_.Set(kStart + 15 * kDay);
  ExpectSummary(Run(), 0, 1, 0);
  auto events = Events("notify-own-exp");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].version, with_exp.version);
  clock_.Set(kStart + 3650 * kDay);
  ExpectSummary(Run(), 0, 0, 0);
  EXPECT_TRUE(Events("notify-no-exp").empty());
}

TEST_F(RotationSchedulerTest, ConcurrentNotifyRecordsOneEvent) {
  CreateEc("notify-race", kStart + 60 * kDay);
  SetPolicy("notify-race", Policy({NotifyBeforeExpiry("P30D")}, "P90D"));
  clock_.Set(kStart + 30 * kDay);
  std::latch start(2);
  RotationRunSummary a, b;
  std::thread ta([&] {
    start.arrive_and_wait();
    a = NewScheduler().RunOnce().value();
  });
  std::thread tb([&] {
    start.arrive_and_wait();
    b = NewScheduler().RunOnce().value();
  });
  ta.join();
  tb.join();
  EXPECT_EQ(a.notified + b.notified, 1);
  EXPECT_EQ(Events("notify-race").size(), 1u);
}

// ---- deleted keys

TEST_F(RotationSchedulerTest, DeletedKeysAreSkipped) {
  CreateEc("deleted-rot");
  SetPolicy("deleted-rot", Policy({RotateAfterCreate("P30D")}, "P90D"));
  CreateEc("deleted-notify", kStart + 60 * kDay);
  SetPolicy("deleted-notify", Policy({NotifyBeforeExpiry("P30D")}, "P90D"));
  ASSERT_TRUE(keys_->DeleteKey(vault_, "deleted-rot").ok());
  ASSERT_TRUE(keys_->DeleteKey(vault_, "deleted-notify").ok());

  clock_.Set(kStart + 40 * kDay);
  ExpectSummary(Run(), 0, 0, 0);
  auto deleted = store_->GetDeletedKey(vault_.name, "deleted-rot");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->latest.sequence, 1);

  // Recovered keys resume their policies (kept while soft-deleted).
  ASSERT_TRUE(keys_->RecoverDeletedKey(vault_, "deleted-rot").ok());
  ASSERT_TRUE(keys_->RecoverDeletedKey(vault_, "deleted-notify").ok());
  ExpectSummary(Run(), 1, 1, 0);
  EXPECT_EQ(Versions("deleted-rot").size(), 2u);
  EXPECT_EQ(Events("deleted-notify").size(), 1u);

  // Purged keys are gone for the scheduler too.
  ASSERT_TRUE(keys_->DeleteKey(vault_, "deleted-rot").ok());
  ASSERT_TRUE(keys_->PurgeDeletedKey(vault_, "deleted-rot").ok());
  clock_.Set(kStart + 400 * kDay);
  ExpectSummary(Run(), 0, 0, 0);
}

// ---- concurrency

TEST_F(RotationSchedulerTest, ConcurrentRunsRotateEachDueKeyExactlyOnce) {
  constexpr int kKeys = 4;
  constexpr int kRounds = 4;
  for (int i = 0; i < kKeys; ++i) {
    std::string name = "race-" + std::to_string(i);
    CreateEc(name);
    SetPolicy(name, Policy({RotateAfterCreate("P30D")}, "P90D"));
  }
  for (int round = 1; round <= kRounds; ++round) {
    clock_.Advance(30 * kDay);
    std::latch start(2);
    std::vector<Result<RotationRunSummary>> results(2, Status::Internal("not run"));
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        RotationScheduler scheduler = NewScheduler();
        start.arrive_and_wait();
        results[static_cast<size_t>(t)] = scheduler.RunOnce();
      });
    }
    for (auto& thread : threads) thread.join();
    int rotated = 0;
    for (const auto& r : results) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->failed, 0) << "round " << round;
      rotated += r->rotated;
    }
    EXPECT_EQ(rotated, kKeys) << "round " << round;
    for (int i = 0; i < kKeys; ++i) {
      EXPECT_EQ(Versions("race-" + std::to_string(i)).size(), static_cast<size_t>(round + 1))
          << "round " << round << " key " << i;
    }
  }
}

TEST_F(RotationSchedulerTest, SharedSchedulerConcurrentRunsRotateOnce) {
  CreateEc("shared");
  SetPolicy("shared", Policy({RotateAfterCreate("P30D")}));
  clock_.Set(kStart + 30 * kDay);
  RotationScheduler scheduler = NewScheduler();
  std::latch start(3);
  std::vector<int> rotated(3, -1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      auto r = scheduler.RunOnce();
      rotated[static_cast<size_t>(t)] = r.ok() ? r->rotated : -100;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(rotated[0] + rotated[1] + rotated[2], 1);
  EXPECT_EQ(Versions("shared").size(), 2u);
}

// ---- KeyService: RotateKey / RotateIfLatest

TEST_F(RotationSchedulerTest, RotateKeyKeepsKindOpsAndTags) {
  CreateKeyRequest request;
  request.name = "manual";
  request.kty = KeyType::kEc;
  request.curve = crypto::Curve::kP384;
  request.key_ops = std::vector<std::string>{"sign"};
  request.tags = Tags{{"a", "1"}, {"b", "2"}};
  auto created = keys_->CreateKey(vault_, request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  clock_.Advance(5);
  auto rotated = keys_->RotateKey(vault_, "manual");
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_NE(rotated->version, created->version);
  EXPECT_EQ(rotated->name, "manual");
  EXPECT_EQ(rotated->key.kty, KeyType::kEc);
  EXPECT_EQ(rotated->key.params.curve, crypto::Curve::kP384);
  EXPECT_EQ(rotated->key.key_ops, std::vector<std::string>{"sign"});
  EXPECT_EQ(rotated->tags, (Tags{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(rotated->attributes.created, kStart + 5);
  EXPECT_FALSE(rotated->attributes.expires.has_value());
  auto latest = keys_->GetKey(vault_, "manual", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, rotated->version);
}

TEST_F(RotationSchedulerTest, RotateKeyOctKeepsSize) {
  CreateKeyRequest request;
  request.name = "oct-rot";
  request.kty = KeyType::kOctHsm;
  request.key_size = 192;
  ASSERT_TRUE(keys_->CreateKey(vault_, request).ok());
  auto rotated = keys_->RotateKey(vault_, "oct-rot");
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->key.kty, KeyType::kOctHsm);
  auto versions = Versions("oct-rot");
  ASSERT_EQ(versions.size(), 2u);
  auto material = barrier_->KeyMaterialOf(versions[1]);
  ASSERT_TRUE(material.ok());
  ASSERT_NE((*material)->symmetric(), nullptr);
  EXPECT_EQ((*material)->symmetric()->size(), 24u);
}

TEST_F(RotationSchedulerTest, RotateKeyRsaKeepsSizeAndExponent) {
  CreateKeyRequest request;
  request.name = "rsa-rot";
  request.kty = KeyType::kRsaHsm;
  request.key_size = 2048;
  request.public_exponent = 17;
  auto created = keys_->CreateKey(vault_, request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->key.params.e, Bytes{17});
  auto rotated = keys_->RotateKey(vault_, "rsa-rot");
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->key.kty, KeyType::kRsaHsm);
  EXPECT_EQ(rotated->key.params.n.size(), 256u);
  EXPECT_NE(rotated->key.params.n, created->key.params.n);
  EXPECT_EQ(rotated->key.params.e, Bytes{17});
}

TEST_F(RotationSchedulerTest, RotateKeyOfDeletedKeyIsKeyNotFound) {
  CreateEc("rot-deleted");
  ASSERT_TRUE(keys_->DeleteKey(vault_, "rot-deleted").ok());
  auto rotated = keys_->RotateKey(vault_, "rot-deleted");
  ASSERT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.status().code(), "KeyNotFound");
  auto deleted = store_->GetDeletedKey(vault_.name, "rot-deleted");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->latest.sequence, 1);
}

TEST_F(RotationSchedulerTest, RotateKeyUnknownIsKeyNotFound) {
  auto rotated = keys_->RotateKey(vault_, "missing");
  ASSERT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(rotated.status().code(), "KeyNotFound");
}

TEST_F(RotationSchedulerTest, RotateIfLatestRefusesStaleSnapshot) {
  CreateEc("stale");
  auto snapshot = store_->GetKeyVersion(vault_.name, "stale", "");
  ASSERT_TRUE(snapshot.ok());
  ASSERT_TRUE(keys_->RotateKey(vault_, "stale").ok());
  auto rotated = keys_->RotateIfLatest(vault_, *snapshot);
  ASSERT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.status().kind(), ErrorKind::kConflict);
  EXPECT_EQ(rotated.status().inner_code(), "stale");
  EXPECT_EQ(Versions("stale").size(), 2u);
  auto current = store_->GetKeyVersion(vault_.name, "stale", "");
  ASSERT_TRUE(current.ok());
  EXPECT_TRUE(keys_->RotateIfLatest(vault_, *current).ok());
  EXPECT_EQ(Versions("stale").size(), 3u);
}

// ---- KeyService: rotation policies

TEST_F(RotationSchedulerTest, GetRotationPolicyWithoutPolicyIsDefault) {
  CreateEc("no-policy");
  auto policy = keys_->GetRotationPolicy(vault_, "no-policy");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_TRUE(policy->is_default);
  ASSERT_EQ(policy->actions.size(), 1u);
  EXPECT_EQ(policy->actions[0].type, LifetimeActionType::kNotify);
  EXPECT_EQ(policy->actions[0].trigger, LifetimeTrigger::kTimeBeforeExpiry);
  EXPECT_EQ(policy->actions[0].duration, "P30D");
}

TEST_F(RotationSchedulerTest, UpdateRotationPolicyStoresAndReplaces) {
  CreateEc("policy-key");
  clock_.Set(kStart + 100);
  auto stored =
      keys_->UpdateRotationPolicy(vault_, "policy-key", Policy({RotateAfterCreate("P90D")}, "P2Y"));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_FALSE(stored->is_default);
  EXPECT_EQ(stored->created, kStart + 100);
  EXPECT_EQ(stored->updated, kStart + 100);

  clock_.Set(kStart + 200);
  auto replaced = keys_->UpdateRotationPolicy(vault_, "policy-key",
                                              Policy({NotifyBeforeExpiry("P30D")}, "P1Y"));
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(replaced->created, kStart + 100);
  EXPECT_EQ(replaced->updated, kStart + 200);

  auto got = keys_->GetRotationPolicy(vault_, "policy-key");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->is_default);
  ASSERT_EQ(got->actions.size(), 1u);
  EXPECT_EQ(got->actions[0].type, LifetimeActionType::kNotify);
  EXPECT_EQ(got->actions[0].duration, "P30D");
  EXPECT_EQ(got->expiry_time, "P1Y");
  EXPECT_EQ(got->created, kStart + 100);
  EXPECT_EQ(got->updated, kStart + 200);
}

TEST_F(RotationSchedulerTest, UpdateRotationPolicyRejectsInvalidAndKeepsOld) {
  CreateEc("keep-policy");
  SetPolicy("keep-policy", Policy({RotateAfterCreate("P90D")}, "P2Y"));
  auto rejected =
      keys_->UpdateRotationPolicy(vault_, "keep-policy", Policy({RotateAfterCreate("P6D")}));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(rejected.status().code(), "BadParameter");
  auto got = keys_->GetRotationPolicy(vault_, "keep-policy");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->actions.size(), 1u);
  EXPECT_EQ(got->actions[0].duration, "P90D");
  EXPECT_EQ(got->expiry_time, "P2Y");
}

TEST_F(RotationSchedulerTest, RotationPolicyOfUnknownKeyIsKeyNotFound) {
  auto got = keys_->GetRotationPolicy(vault_, "ghost");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), "KeyNotFound");
  auto put = keys_->UpdateRotationPolicy(vault_, "ghost", Policy({RotateAfterCreate("P90D")}));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), "KeyNotFound");
  EXPECT_EQ(put.status().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace coffre::service
