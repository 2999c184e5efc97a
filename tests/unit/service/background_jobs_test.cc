// Tests for service/background_jobs: a round runs only under the job lease, and it purges keys
// whose retention has ended. Real SQLite store, random master key, ManualClock.
#include "service/background_jobs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "crypto/random.h"
#include "service/key_material.h"
#include "service/material_barrier.h"
#include "service/vault_directory.h"

namespace coffre::service {
namespace {

constexpr int64_t kStart = 1'700'000'000;
constexpr int64_t kDay = 86400;
constexpr std::chrono::seconds kInterval{60};

class BackgroundJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-jobs-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    barrier_ = std::make_unique<MaterialBarrier>(Barrier(crypto::RandomSecureBytes(32)));
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    keys_ = std::make_unique<KeyService>(*store_, *barrier_, clock_);
    vaults_ = std::make_unique<VaultDirectory>(*store_, clock_);
    rotations_ = std::make_unique<RotationScheduler>(*store_, *keys_, *vaults_, clock_);
    ASSERT_TRUE(vaults_->Ensure(vault_).ok());
  }

  void TearDown() override {
    rotations_.reset();
    vaults_.reset();
    keys_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  BackgroundJobs Replica(std::string holder) {
    return BackgroundJobs(*store_, *keys_, *rotations_, clock_, std::move(holder), kInterval);
  }

  std::string dir_;
  ManualClock clock_{kStart};
  store::VaultRecord vault_{.name = "jobs", .retention_days = 7, .created = kStart};
  std::unique_ptr<MaterialBarrier> barrier_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<KeyService> keys_;
  std::unique_ptr<VaultDirectory> vaults_;
  std::unique_ptr<RotationScheduler> rotations_;
};

TEST_F(BackgroundJobsTest, OnlyTheLeaseHolderRunsUntilItsLeaseLapses) {
  BackgroundJobs a = Replica("replica-a");
  BackgroundJobs b = Replica("replica-b");
  EXPECT_TRUE(a.RunOnce().leased);
  EXPECT_FALSE(b.RunOnce().leased);
  clock_.Advance(kInterval);
  EXPECT_TRUE(a.RunOnce().leased);  // renewed
  EXPECT_FALSE(b.RunOnce().leased);
  // a stops: its lease lasts two intervals from its last round.
  clock_.Advance(2 * kInterval);
  EXPECT_TRUE(b.RunOnce().leased);
  EXPECT_FALSE(a.RunOnce().leased);
}

TEST_F(BackgroundJobsTest, PurgesDeletedKeysOnceTheirRetentionEnds) {
  CreateKeyRequest request;
  request.name = "k1";
  request.kty = KeyType::kEc;
  request.curve = crypto::Curve::kP256;
  ASSERT_TRUE(keys_->CreateKey(vault_, request).ok());
  ASSERT_TRUE(keys_->DeleteKey(vault_, "k1").ok());
  BackgroundJobs jobs = Replica("replica-a");
  EXPECT_EQ(jobs.RunOnce().purged, 0);
  clock_.Advance(vault_.retention_days * kDay);
  BackgroundRunSummary summary = jobs.RunOnce();
  EXPECT_TRUE(summary.leased);
  EXPECT_EQ(summary.purged, 1);
  EXPECT_EQ(keys_->GetDeletedKey(vault_, "k1").status().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace coffre::service
