// Tests for SecretService: Key Vault secret semantics (versions, update, soft delete, recover,
// purge, managed secrets, backup and restore, limits) over a real SQLite store, a MaterialBarrier
// with a random master key and a ManualClock.
#include "service/secret_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "crypto/random.h"
#include "service/material_barrier.h"
#include "store/store.h"

namespace coffre::service {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kDay = 86400;

store::VaultRecord Vault(std::string name, int retention_days, bool purge_protection) {
  store::VaultRecord v;
  v.name = std::move(name);
  v.retention_days = retention_days;
  v.purge_protection = purge_protection;
  v.created = kNow;
  return v;
}

SetSecretRequest Set(std::string name, std::string value) {
  SetSecretRequest r;
  r.name = std::move(name);
  r.value.assign(value.begin(), value.end());
  return r;
}

std::string ValueOf(const SecretBundle& bundle) {
  return std::string(bundle.value.begin(), bundle.value.end());
}

class SecretServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "coffre-secretservice-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    master_key_ = crypto::RandomSecureBytes(32);
    barrier_ = std::make_unique<MaterialBarrier>(Barrier(master_key_));
    service_ = std::make_unique<SecretService>(*store_, *barrier_, clock_);
    for (const auto& v : {vault_, other_vault_, protected_vault_}) {
      ASSERT_TRUE(store_->PutVault(v).ok());
    }
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  SecretBundle MustSet(const SetSecretRequest& request, const store::VaultRecord* vault = nullptr) {
    auto set = service_->SetSecret(vault ? *vault : vault_, request);
    EXPECT_TRUE(set.ok()) << request.name << ": " << set.status().ToString();
    return set.ok() ? *set : SecretBundle{};
  }

  std::string dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<store::Store> store_;
  SecureBytes master_key_;
  std::unique_ptr<MaterialBarrier> barrier_;
  std::unique_ptr<SecretService> service_;
  store::VaultRecord vault_ = Vault("dev", 90, false);
  store::VaultRecord other_vault_ = Vault("other", 7, false);
  store::VaultRecord protected_vault_ = Vault("locked", 90, true);
};

TEST_F(SecretServiceTest, EachSetMakesANewVersionAndGetReturnsTheLatest) {
  SecretBundle first = MustSet(Set("db-password", "one"));
  clock_.Advance(std::chrono::seconds(5));
  SecretBundle second = MustSet(Set("db-password", "two"));
  EXPECT_EQ(first.version.size(), 32u);
  EXPECT_NE(first.version, second.version);
  EXPECT_EQ(ValueOf(second), "two");
  EXPECT_TRUE(second.has_value);
  EXPECT_EQ(second.attributes.recovery_level, "Recoverable+Purgeable");
  EXPECT_EQ(second.attributes.recoverable_days, 90);

  auto latest = service_->GetSecret(vault_, "DB-PASSWORD", "");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(ValueOf(*latest), "two");
  EXPECT_EQ(latest->version, second.version);
  auto old = service_->GetSecret(vault_, "db-password", first.version);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(ValueOf(*old), "one");
  EXPECT_EQ(old->attributes.created, kNow);
}

TEST_F(SecretServiceTest, ValuesAreSealedBeforeTheStoreSeesThem) {
  MustSet(Set("s", "plain-text-value-1234"));
  auto stored = store_->GetSecretVersion("dev", "s", "");
  ASSERT_TRUE(stored.ok());
  std::string raw(stored->sealed_value.begin(), stored->sealed_value.end());
  EXPECT_EQ(raw.find("plain-text-value-1234"), std::string::npos);
  // Bound to its row: the same blob under another version does not open.
  auto opened =
      barrier_->Open(SealBinding::SecretVersion("dev", "s", stored->version), stored->sealed_value);
  EXPECT_TRUE(opened.ok());
  auto moved =
      barrier_->Open(SealBinding::SecretVersion("dev", "t", stored->version), stored->sealed_value);
  EXPECT_FALSE(moved.ok());
}

TEST_F(SecretServiceTest, NotFoundTextsAreKeyVaults) {
  auto missing = service_->GetSecret(vault_, "nope", "");
  EXPECT_EQ(missing.status().code(), "SecretNotFound");
  EXPECT_EQ(missing.status().message(),
            "A secret with (name/id) nope was not found in this key vault. If you recently "
            "deleted this secret you may be able to recover it using the correct recovery "
            "command. For help resolving this issue, please see "
            "https://go.microsoft.com/fwlink/?linkid=2125182");
  auto bad_version = service_->GetSecret(vault_, "nope", "xyz");
  EXPECT_EQ(bad_version.status().kind(), ErrorKind::kNotFound);
  auto deleted = service_->GetDeletedSecret(vault_, "nope");
  EXPECT_EQ(deleted.status().message(), "Deleted Secret not found: nope");
}

TEST_F(SecretServiceTest, LimitsOnValueContentTypeNameAndTags) {
  EXPECT_TRUE(service_->SetSecret(vault_, Set("big", std::string(kMaxSecretValueBytes, 'x'))).ok());
  auto too_big =
      service_->SetSecret(vault_, Set("big", std::string(kMaxSecretValueBytes + 1, 'x')));
  EXPECT_EQ(too_big.status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(too_big.status().code(), "BadParameter");

  SetSecretRequest typed = Set("typed", "v");
  typed.content_type = std::string(255, 'c');
  EXPECT_TRUE(service_->SetSecret(vault_, typed).ok());
  typed.content_type = std::string(256, 'c');
  EXPECT_EQ(service_->SetSecret(vault_, typed).status().kind(), ErrorKind::kBadRequest);

  EXPECT_EQ(service_->SetSecret(vault_, Set("bad_name", "v")).status().kind(),
            ErrorKind::kBadRequest);
  EXPECT_EQ(service_->SetSecret(vault_, Set(std::string(128, 'a'), "v")).status().kind(),
            ErrorKind::kBadRequest);
  SetSecretRequest tagged = Set("tagged", "v");
  tagged.tags = Tags{};
  for (int i = 0; i < 16; ++i) tagged.tags->emplace_back("t" + std::to_string(i), "v");
  EXPECT_EQ(service_->SetSecret(vault_, tagged).status().kind(), ErrorKind::kBadRequest);
}

TEST_F(SecretServiceTest, UpdateChangesPropertiesNeverTheValue) {
  SecretBundle set = MustSet(Set("s", "value"));
  clock_.Advance(std::chrono::seconds(10));
  UpdateSecretRequest update;
  update.content_type = "text/plain";
  update.attributes.expires = kNow + 100;
  update.tags = Tags{{"b", "2"}, {"a", "1"}};
  auto updated = service_->UpdateSecret(vault_, "s", set.version, update);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_FALSE(updated->has_value);
  EXPECT_EQ(updated->content_type, "text/plain");
  EXPECT_EQ(updated->attributes.updated, kNow + 10);
  EXPECT_EQ(updated->tags, (Tags{{"a", "1"}, {"b", "2"}}));
  auto got = service_->GetSecret(vault_, "s", "");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(ValueOf(*got), "value");
  EXPECT_EQ(got->version, set.version);
}

TEST_F(SecretServiceTest, DisabledVersionRefusesReadsButExpiredStillReads) {
  SetSecretRequest expired = Set("old", "still-here");
  expired.attributes.expires = kNow - 10;
  expired.attributes.not_before = kNow + 1000;
  MustSet(expired);
  EXPECT_TRUE(service_->GetSecret(vault_, "old", "").ok());

  SetSecretRequest off = Set("off", "v");
  off.attributes.enabled = false;
  MustSet(off);
  auto refused = service_->GetSecret(vault_, "off", "");
  EXPECT_EQ(refused.status().kind(), ErrorKind::kForbidden);
  EXPECT_EQ(refused.status().code(), "Forbidden");
  EXPECT_EQ(refused.status().inner_code(), "SecretDisabled");
  EXPECT_EQ(refused.status().message(), "Operation get is not allowed on a disabled secret.");
  // Listings still show it.
  auto listed = service_->ListSecrets(vault_, PageRequest{});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->items.size(), 2u);
}

TEST_F(SecretServiceTest, SoftDeleteRecoverPurgeAndTheDeletedNameConflict) {
  MustSet(Set("s", "v"));
  auto deleted = service_->DeleteSecret(other_vault_, "s");
  EXPECT_EQ(deleted.status().kind(), ErrorKind::kNotFound);  // another vault
  deleted = service_->DeleteSecret(vault_, "s");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->deletion.deleted_date, kNow);
  EXPECT_EQ(deleted->deletion.scheduled_purge_date, kNow + 90 * kDay);
  EXPECT_FALSE(deleted->bundle.has_value);

  auto again = service_->SetSecret(vault_, Set("s", "w"));
  EXPECT_EQ(again.status().kind(), ErrorKind::kConflict);
  EXPECT_EQ(again.status().inner_code(), "ObjectIsDeletedButRecoverable");
  EXPECT_EQ(again.status().message(),
            "Secret s is currently in a deleted but recoverable state, and its name cannot be "
            "reused; in this state, the secret can only be recovered or purged.");

  auto recovered = service_->RecoverDeletedSecret(vault_, "s");
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(ValueOf(*service_->GetSecret(vault_, "s", "")), "v");
  ASSERT_TRUE(service_->DeleteSecret(vault_, "s").ok());
  ASSERT_TRUE(service_->PurgeDeletedSecret(vault_, "s").ok());
  EXPECT_EQ(service_->GetDeletedSecret(vault_, "s").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(service_->SetSecret(vault_, Set("s", "new")).ok());
}

TEST_F(SecretServiceTest, PurgeProtectionRefusesPurgeWithNotSupported) {
  MustSet(Set("s", "v"), &protected_vault_);
  ASSERT_TRUE(service_->DeleteSecret(protected_vault_, "s").ok());
  Status refused = service_->PurgeDeletedSecret(protected_vault_, "s");
  EXPECT_EQ(refused.kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(refused.code(), "BadParameter");
  EXPECT_EQ(refused.inner_code(), "NotSupported");
  EXPECT_TRUE(service_->GetDeletedSecret(protected_vault_, "s").ok());
}

TEST_F(SecretServiceTest, ScheduledPurgeRemovesExpiredDeletedSecrets) {
  MustSet(Set("short", "v"), &other_vault_);
  MustSet(Set("long", "v"));
  ASSERT_TRUE(service_->DeleteSecret(other_vault_, "short").ok());
  ASSERT_TRUE(service_->DeleteSecret(vault_, "long").ok());
  clock_.Advance(std::chrono::seconds(8 * kDay));
  auto purged = service_->PurgeExpiredSecrets();
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(service_->GetDeletedSecret(other_vault_, "short").status().kind(),
            ErrorKind::kNotFound);
  EXPECT_TRUE(service_->GetDeletedSecret(vault_, "long").ok());
}

TEST_F(SecretServiceTest, ManagedSecretsRefuseSetUpdateDelete) {
  auto managed = service_->SetManagedSecret(vault_, Set("cert", "pfx"),
                                            "https://dev.vault.azure.net/keys/cert/abc");
  ASSERT_TRUE(managed.ok()) << managed.status().ToString();
  EXPECT_TRUE(managed->managed);
  for (const Status& refused :
       {service_->SetSecret(vault_, Set("cert", "x")).status(),
        service_->UpdateSecret(vault_, "cert", "", UpdateSecretRequest{}).status(),
        service_->DeleteSecret(vault_, "cert").status()}) {
    EXPECT_EQ(refused.kind(), ErrorKind::kForbidden);
    EXPECT_EQ(refused.code(), "Forbidden");
    EXPECT_EQ(refused.inner_code(), "SecretManagedByKeyVault");
  }
  auto got = service_->GetSecret(vault_, "cert", "");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->managed);
  EXPECT_EQ(got->key_id, "https://dev.vault.azure.net/keys/cert/abc");
}

TEST_F(SecretServiceTest, BackupRestoresEveryVersionAndRefusesTamperingAndTakenNames) {
  SecretBundle v1 = MustSet(Set("s", "one"));
  SecretBundle v2 = MustSet(Set("s", "two"));
  auto blob = service_->BackupSecret(vault_, "s");
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  std::string raw(blob->begin(), blob->end());
  EXPECT_EQ(raw.find("one"), std::string::npos);

  auto taken = service_->RestoreSecret(vault_, *blob);
  EXPECT_EQ(taken.status().kind(), ErrorKind::kConflict);

  auto restored = service_->RestoreSecret(other_vault_, *blob);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->version, v2.version);
  EXPECT_EQ(ValueOf(*service_->GetSecret(other_vault_, "s", v1.version)), "one");

  Bytes tampered = *blob;
  tampered[tampered.size() / 2] ^= 0x01;
  EXPECT_EQ(service_->RestoreSecret(protected_vault_, tampered).status().kind(),
            ErrorKind::kBadRequest);
  EXPECT_EQ(service_->RestoreSecret(protected_vault_, Bytes{1, 2, 3}).status().kind(),
            ErrorKind::kBadRequest);
  // A blob from a server with another master key does not restore.
  MaterialBarrier foreign_barrier(Barrier(crypto::RandomSecureBytes(32)));
  SecretService foreign(*store_, foreign_barrier, clock_);
  ASSERT_TRUE(foreign.SetSecret(protected_vault_, Set("theirs", "x")).ok());
  auto foreign_blob = foreign.BackupSecret(protected_vault_, "theirs");
  ASSERT_TRUE(foreign_blob.ok()) << foreign_blob.status().ToString();
  EXPECT_EQ(service_->RestoreSecret(other_vault_, *foreign_blob).status().kind(),
            ErrorKind::kBadRequest);
  // A key backup is not a secret backup.
  EXPECT_EQ(
      service_->RestoreSecret(other_vault_, Bytes{'C', 'F', 'K', 'B', 1, 0, 0}).status().kind(),
      ErrorKind::kBadRequest);
  EXPECT_EQ(service_->BackupSecret(vault_, "missing").status().code(), "SecretNotFound");
}

TEST_F(SecretServiceTest, ListsNeverCarryValuesAndVersionsPage) {
  for (int i = 0; i < 3; ++i) MustSet(Set("s", "v" + std::to_string(i)));
  PageRequest page;
  page.max_results = 2;
  auto first = service_->ListSecretVersions(vault_, "s", page);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->items.size(), 2u);
  ASSERT_FALSE(first->next_cursor.empty());
  page.cursor = first->next_cursor;
  auto second = service_->ListSecretVersions(vault_, "s", page);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->items.size(), 1u);
  EXPECT_TRUE(second->next_cursor.empty());
  auto none = service_->ListSecretVersions(vault_, "missing", PageRequest{});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());
}

}  // namespace
}  // namespace coffre::service
