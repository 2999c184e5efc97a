// Tests for KeyService: Key Vault key semantics (create, versions, update, soft delete, recover,
// purge, listing) over a real SQLite store, a MaterialBarrier with a random master key and a
// ManualClock. Expected texts and shapes come from the AKV keys wire reference (akv-keys-api.md).
#include "service/key_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "crypto/asymmetric_key.h"
#include "crypto/random.h"
#include "service/key_material.h"
#include "service/material_barrier.h"
#include "store/store.h"

namespace coffre::service {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kDay = 86400;

const std::vector<std::string> kRsaDefaultOps = {"encrypt", "decrypt", "sign",
                                                 "verify",  "wrapKey", "unwrapKey"};
const std::vector<std::string> kEcDefaultOps = {"sign", "verify"};

std::string NotFoundText(const std::string& name_or_id) {
  return "A key with (name/id) " + name_or_id +
         " was not found in this key vault. If you recently deleted this key you may be able to "
         "recover it using the correct recovery command. For help resolving this issue, please "
         "see https://go.microsoft.com/fwlink/?linkid=2125182";
}

std::string ConflictText(const std::string& name) {
  return "Key " + name +
         " is currently in a deleted but recoverable state, and its name cannot be reused; in "
         "this state, the key can only be recovered or purged.";
}

bool IsLowerHex32(const std::string& s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

store::VaultRecord Vault(std::string name, int retention_days, bool purge_protection) {
  store::VaultRecord v;
  v.name = std::move(name);
  v.retention_days = retention_days;
  v.purge_protection = purge_protection;
  v.created = kNow;
  return v;
}

CreateKeyRequest Ec(std::string name, crypto::Curve curve = crypto::Curve::kP256) {
  CreateKeyRequest r;
  r.name = std::move(name);
  r.kty = KeyType::kEc;
  r.curve = curve;
  return r;
}

CreateKeyRequest Rsa(std::string name, std::optional<int> size = std::nullopt) {
  CreateKeyRequest r;
  r.name = std::move(name);
  r.kty = KeyType::kRsa;
  r.key_size = size;
  return r;
}

class KeyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "coffre-keyservice-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    barrier_ = std::make_unique<MaterialBarrier>(Barrier(crypto::RandomSecureBytes(32)));
    service_ = std::make_unique<KeyService>(*store_, *barrier_, clock_);
    for (const auto& v : {vault_, short_vault_, protected_vault_, protected30_vault_}) {
      ASSERT_TRUE(store_->PutVault(v).ok());
    }
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  KeyBundle MustCreate(const CreateKeyRequest& request, const store::VaultRecord* vault = nullptr) {
    auto created = service_->CreateKey(vault ? *vault : vault_, request);
    EXPECT_TRUE(created.ok()) << request.name << ": " << created.status().ToString();
    return created.ok() ? *created : KeyBundle{};
  }

  // Every key name in the vault, following the cursor; checks each page's size.
  std::vector<std::string> ListAllNames(const store::VaultRecord& vault, int page_size,
                                        std::vector<size_t>* page_sizes) {
    std::vector<std::string> names;
    PageRequest page;
    page.max_results = page_size;
    for (int guard = 0; guard < 100; ++guard) {
      auto listed = service_->ListKeys(vault, page);
      EXPECT_TRUE(listed.ok()) << listed.status().ToString();
      if (!listed.ok()) break;
      page_sizes->push_back(listed->items.size());
      for (const auto& item : listed->items) {
        EXPECT_TRUE(item.version.empty()) << item.name;
        names.push_back(item.name);
      }
      if (listed->next_cursor.empty()) break;
      page.cursor = listed->next_cursor;
    }
    return names;
  }

  std::string dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<MaterialBarrier> barrier_;
  std::unique_ptr<KeyService> service_;
  store::VaultRecord vault_ = Vault("dev", 90, false);
  store::VaultRecord short_vault_ = Vault("short", 7, false);
  store::VaultRecord protected_vault_ = Vault("locked", 90, true);
  store::VaultRecord protected30_vault_ = Vault("locked30", 30, true);
};

// ---- create

TEST_F(KeyServiceTest, CreateRsaDefaultsTo2048WithDefaultOpsAndExponent) {
  KeyBundle b = MustCreate(Rsa("rsa1"));
  EXPECT_EQ(b.name, "rsa1");
  EXPECT_TRUE(IsLowerHex32(b.version)) << b.version;
  EXPECT_EQ(b.key.kty, KeyType::kRsa);
  EXPECT_EQ(b.key.key_ops, kRsaDefaultOps);
  ASSERT_EQ(b.key.params.n.size(), 256u);
  EXPECT_GE(b.key.params.n[0], 0x80) << "modulus must have no leading zero byte";
  EXPECT_EQ(b.key.params.e, (Bytes{0x01, 0x00, 0x01}));
  EXPECT_TRUE(b.attributes.enabled);
  EXPECT_FALSE(b.attributes.not_before.has_value());
  EXPECT_FALSE(b.attributes.expires.has_value());
  EXPECT_EQ(b.attributes.created, kNow);
  EXPECT_EQ(b.attributes.updated, kNow);
  EXPECT_EQ(b.attributes.recoverable_days, 90);
  EXPECT_EQ(b.attributes.recovery_level, "Recoverable+Purgeable");
  EXPECT_TRUE(b.tags.empty());
}

TEST_F(KeyServiceTest, CreateRsa2048Explicit) {
  KeyBundle b = MustCreate(Rsa("rsa2048", 2048));
  EXPECT_EQ(b.key.params.n.size(), 256u);
  EXPECT_EQ(b.key.params.e, (Bytes{0x01, 0x00, 0x01}));
}

TEST_F(KeyServiceTest, CreateRsa3072WithExponent3) {
  CreateKeyRequest r = Rsa("rsa3072", 3072);
  r.public_exponent = 3;
  KeyBundle b = MustCreate(r);
  EXPECT_EQ(b.key.params.n.size(), 384u);
  EXPECT_EQ(b.key.params.e, (Bytes{0x03}));
  EXPECT_EQ(b.key.key_ops, kRsaDefaultOps);
}

TEST_F(KeyServiceTest, CreateEcEveryCurve) {
  struct Case {
    crypto::Curve curve;
    size_t coordinate_size;
  };
  for (const Case& c : {Case{crypto::Curve::kP256, 32}, Case{crypto::Curve::kP384, 48},
                        Case{crypto::Curve::kP521, 66}, Case{crypto::Curve::kP256K, 32}}) {
    std::string name = "ec-" + std::to_string(static_cast<int>(c.curve));
    KeyBundle b = MustCreate(Ec(name, c.curve));
    SCOPED_TRACE(std::string(crypto::CurveName(c.curve)));
    EXPECT_EQ(b.key.kty, KeyType::kEc);
    EXPECT_EQ(b.key.params.curve, c.curve);
    EXPECT_EQ(b.key.params.x.size(), c.coordinate_size);
    EXPECT_EQ(b.key.params.y.size(), c.coordinate_size);
    EXPECT_EQ(b.key.key_ops, kEcDefaultOps);
  }
}

TEST_F(KeyServiceTest, CreateEcDefaultsToP256) {
  CreateKeyRequest r;
  r.name = "ecdefault";
  r.kty = KeyType::kEc;
  KeyBundle b = MustCreate(r);
  EXPECT_EQ(b.key.params.curve, crypto::Curve::kP256);
  EXPECT_EQ(b.key.params.x.size(), 32u);
}

TEST_F(KeyServiceTest, CreateEcHsmKeepsKeyType) {
  CreateKeyRequest r = Ec("echsm");
  r.kty = KeyType::kEcHsm;
  KeyBundle b = MustCreate(r);
  EXPECT_EQ(b.key.kty, KeyType::kEcHsm);
  auto got = service_->GetKey(vault_, "echsm", "");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key.kty, KeyType::kEcHsm);
}

TEST_F(KeyServiceTest, CreateEcWithMatchingKeySizeIsAccepted) {
  CreateKeyRequest r = Ec("ec384", crypto::Curve::kP384);
  r.key_size = 384;
  EXPECT_EQ(MustCreate(r).key.params.x.size(), 48u);
}

TEST_F(KeyServiceTest, RejectsUnsupportedRsaSizes) {
  for (int size : {1024, 2047, 8192, 0}) {
    auto created = service_->CreateKey(vault_, Rsa("badsize", size));
    ASSERT_FALSE(created.ok()) << size;
    EXPECT_EQ(created.status().kind(), ErrorKind::kBadRequest) << size;
    EXPECT_EQ(created.status().code(), "BadParameter") << size;
  }
  auto listed = service_->ListKeys(vault_, {});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->items.empty());
}

TEST_F(KeyServiceTest, RejectsInvalidPublicExponents) {
  for (uint32_t exponent : {0u, 1u, 2u, 65536u, 0x80000001u, 0xffffffffu}) {
    CreateKeyRequest r = Rsa("badexp");
    r.public_exponent = exponent;
    auto created = service_->CreateKey(vault_, r);
    ASSERT_FALSE(created.ok()) << exponent;
    EXPECT_EQ(created.status().code(), "BadParameter") << exponent;
  }
}

TEST_F(KeyServiceTest, RejectsCurveOnRsa) {
  CreateKeyRequest r = Rsa("rsacrv");
  r.curve = crypto::Curve::kP256;
  auto created = service_->CreateKey(vault_, r);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), "BadParameter");
  EXPECT_EQ(created.status().kind(), ErrorKind::kBadRequest);
}

TEST_F(KeyServiceTest, RejectsPublicExponentOnEc) {
  CreateKeyRequest r = Ec("ecexp");
  r.public_exponent = 65537;
  auto created = service_->CreateKey(vault_, r);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), "BadParameter");
}

TEST_F(KeyServiceTest, RejectsEcKeySizeThatDisagreesWithCurve) {
  struct Case {
    crypto::Curve curve;
    int size;
  };
  for (const Case& c : {Case{crypto::Curve::kP256, 384}, Case{crypto::Curve::kP384, 256},
                        Case{crypto::Curve::kP521, 512}, Case{crypto::Curve::kP256, 2048}}) {
    CreateKeyRequest r = Ec("ecsize", c.curve);
    r.key_size = c.size;
    auto created = service_->CreateKey(vault_, r);
    ASSERT_FALSE(created.ok()) << c.size;
    EXPECT_EQ(created.status().code(), "BadParameter") << c.size;
  }
}

// Real Key Vault keeps oct keys for Managed HSM; Coffre offers them in every vault (issue 3).
TEST_F(KeyServiceTest, OctKeysAreCreatedInAVault) {
  CreateKeyRequest r;
  r.name = "sym";
  r.kty = KeyType::kOct;
  auto created = service_->CreateKey(vault_, r);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->key.kty, KeyType::kOct);
  EXPECT_TRUE(created->key.params.n.empty());
  r.key_size = 512;
  auto too_big = service_->CreateKey(vault_, r);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), "BadParameter");
}

TEST_F(KeyServiceTest, RejectsInvalidNames) {
  for (std::string name : {std::string(""), std::string("bad_name"), std::string("a.b"),
                           std::string("sp ace"), std::string(128, 'a')}) {
    auto created = service_->CreateKey(vault_, Ec(name));
    ASSERT_FALSE(created.ok()) << name;
    EXPECT_EQ(created.status().code(), "BadParameter");
    EXPECT_EQ(created.status().message(), "The request URI contains an invalid name: " + name);
  }
  EXPECT_EQ(MustCreate(Ec(std::string(127, 'a'))).name, std::string(127, 'a'));
}

TEST_F(KeyServiceTest, RejectsUnknownKeyOperation) {
  CreateKeyRequest r = Ec("badops");
  r.key_ops = std::vector<std::string>{"sign", "fly"};
  auto created = service_->CreateKey(vault_, r);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), "BadParameter");
}

TEST_F(KeyServiceTest, EmptyKeyOpsOnCreateGetsTheDefaults) {
  // The Azure SDK for C++ sends "key_ops":[] when the caller chose none.
  CreateKeyRequest r = Ec("emptyops");
  r.key_ops = std::vector<std::string>{};
  EXPECT_EQ(MustCreate(r).key.key_ops, kEcDefaultOps);
  auto got = service_->GetKey(vault_, "emptyops", "");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key.key_ops, kEcDefaultOps);
}

// key_ops is a set of the defined operations: repeats collapse (first spelling order kept), so
// a request cannot store 100k entries that every later GET would send back.
TEST_F(KeyServiceTest, RepeatedKeyOperationsCollapse) {
  CreateKeyRequest r = Ec("dupops");
  std::vector<std::string> many;
  for (int i = 0; i < 100000; ++i) many.push_back(i % 2 == 0 ? "verify" : "sign");
  r.key_ops = many;
  KeyBundle b = MustCreate(r);
  EXPECT_EQ(b.key.key_ops, (std::vector<std::string>{"verify", "sign"}));
  auto got = service_->GetKey(vault_, "dupops", "");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key.key_ops, (std::vector<std::string>{"verify", "sign"}));

  UpdateKeyRequest update;
  update.key_ops = std::vector<std::string>{"sign", "sign", "sign"};
  auto updated = service_->UpdateKey(vault_, "dupops", "", update);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->key.key_ops, std::vector<std::string>{"sign"});

  update.key_ops = std::vector<std::string>{"sign", "fly"};
  EXPECT_EQ(service_->UpdateKey(vault_, "dupops", "", update).status().code(), "BadParameter");
}

TEST_F(KeyServiceTest, CreateHonoursAttributesOpsAndSortsTags) {
  CreateKeyRequest r = Ec("attrs");
  r.key_ops = std::vector<std::string>{"verify"};
  r.attributes.enabled = false;
  r.attributes.not_before = kNow - 10;
  r.attributes.expires = kNow + 1000;
  r.tags = Tags{{"zeta", "1"}, {"alpha", "2"}};
  KeyBundle b = MustCreate(r);
  EXPECT_EQ(b.key.key_ops, std::vector<std::string>{"verify"});
  EXPECT_FALSE(b.attributes.enabled);
  EXPECT_EQ(b.attributes.not_before, kNow - 10);
  EXPECT_EQ(b.attributes.expires, kNow + 1000);
  EXPECT_EQ(b.tags, (Tags{{"alpha", "2"}, {"zeta", "1"}}));

  auto got = service_->GetKey(vault_, "attrs", "");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->attributes.enabled);
  EXPECT_EQ(got->attributes.not_before, kNow - 10);
  EXPECT_EQ(got->attributes.expires, kNow + 1000);
  EXPECT_EQ(got->tags, (Tags{{"alpha", "2"}, {"zeta", "1"}}));
  EXPECT_EQ(got->key.key_ops, std::vector<std::string>{"verify"});
}

// ---- versions and get

TEST_F(KeyServiceTest, SecondCreateAddsVersionAndMovesLatest) {
  KeyBundle first = MustCreate(Ec("versioned"));
  clock_.Advance(60);
  KeyBundle second = MustCreate(Ec("versioned", crypto::Curve::kP384));
  EXPECT_NE(first.version, second.version);

  auto latest = service_->GetKey(vault_, "versioned", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, second.version);
  EXPECT_EQ(latest->key.params.curve, crypto::Curve::kP384);
  EXPECT_EQ(latest->attributes.created, kNow + 60);

  auto old = service_->GetKey(vault_, "versioned", first.version);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->version, first.version);
  EXPECT_EQ(old->key.params.curve, crypto::Curve::kP256);
  EXPECT_EQ(old->key.params.x, first.key.params.x);
  EXPECT_EQ(old->attributes.created, kNow);

  auto versions = service_->ListKeyVersions(vault_, "versioned", {});
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->items.size(), 2u);
  EXPECT_EQ(versions->items[0].version, first.version);
  EXPECT_EQ(versions->items[1].version, second.version);
  EXPECT_TRUE(versions->next_cursor.empty());

  auto keys = service_->ListKeys(vault_, {});
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->items.size(), 1u);
  EXPECT_EQ(keys->items[0].name, "versioned");
  EXPECT_TRUE(keys->items[0].version.empty());
  EXPECT_EQ(keys->items[0].attributes.created, kNow + 60);
}

TEST_F(KeyServiceTest, NamesCompareCaseInsensitively) {
  KeyBundle first = MustCreate(Ec("MixedCase"));
  auto got = service_->GetKey(vault_, "mixedcase", "");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->version, first.version);
  EXPECT_EQ(got->name, "MixedCase");
  KeyBundle second = MustCreate(Ec("MIXEDCASE"));
  auto versions = service_->ListKeyVersions(vault_, "mixedCASE", {});
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 2u);
  EXPECT_NE(second.version, first.version);
  // Versions are identifiers too: compared case-insensitively.
  std::string upper = first.version;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  auto by_upper_version = service_->GetKey(vault_, "MixedCase", upper);
  ASSERT_TRUE(by_upper_version.ok()) << by_upper_version.status().ToString();
  EXPECT_EQ(by_upper_version->version, first.version);
}

TEST_F(KeyServiceTest, GetKeyByUnknownOrMalformedVersionIsKeyNotFound) {
  MustCreate(Ec("k1"));
  const std::string unknown(32, '0');
  auto got = service_->GetKey(vault_, "k1", unknown);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(got.status().code(), "KeyNotFound");
  EXPECT_EQ(got.status().message(), NotFoundText("k1/" + unknown));

  got = service_->GetKey(vault_, "k1", "not-a-version");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), "KeyNotFound");
  EXPECT_EQ(got.status().message(), NotFoundText("k1/not-a-version"));

  got = service_->GetKey(vault_, "nosuchkey", "");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), "KeyNotFound");
  EXPECT_EQ(got.status().message(), NotFoundText("nosuchkey"));
}

TEST_F(KeyServiceTest, VersionOfAnotherKeyIsNotFound) {
  KeyBundle a = MustCreate(Ec("a1"));
  MustCreate(Ec("b1"));
  auto got = service_->GetKey(vault_, "b1", a.version);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), "KeyNotFound");
}

TEST_F(KeyServiceTest, KeysAreScopedToTheirVault) {
  MustCreate(Ec("scoped"));
  auto got = service_->GetKey(short_vault_, "scoped", "");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), "KeyNotFound");
}

// ---- update

TEST_F(KeyServiceTest, UpdateChangesAttributesTagsOpsAndBumpsUpdatedOnly) {
  CreateKeyRequest r = Ec("upd");
  r.tags = Tags{{"old", "1"}, {"keep", "no"}};
  KeyBundle created = MustCreate(r);
  clock_.Advance(500);

  UpdateKeyRequest u;
  u.attributes.enabled = false;
  u.attributes.not_before = kNow + 100;
  u.attributes.expires = kNow + 9999;
  u.tags = Tags{{"new", "2"}};
  u.key_ops = std::vector<std::string>{"verify"};
  auto updated = service_->UpdateKey(vault_, "upd", "", u);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->version, created.version);
  EXPECT_FALSE(updated->attributes.enabled);
  EXPECT_EQ(updated->attributes.not_before, kNow + 100);
  EXPECT_EQ(updated->attributes.expires, kNow + 9999);
  EXPECT_EQ(updated->tags, (Tags{{"new", "2"}}));
  EXPECT_EQ(updated->key.key_ops, std::vector<std::string>{"verify"});
  EXPECT_EQ(updated->attributes.created, kNow);
  EXPECT_EQ(updated->attributes.updated, kNow + 500);
  EXPECT_EQ(updated->key.params.x, created.key.params.x);

  auto got = service_->GetKey(vault_, "upd", created.version);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->attributes.enabled);
  EXPECT_EQ(got->tags, (Tags{{"new", "2"}}));
  EXPECT_EQ(got->attributes.created, kNow);
  EXPECT_EQ(got->attributes.updated, kNow + 500);

  auto versions = service_->ListKeyVersions(vault_, "upd", {});
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 1u) << "update must not add a version";
}

TEST_F(KeyServiceTest, UpdateWithoutFieldsKeepsEverythingButUpdated) {
  CreateKeyRequest r = Ec("keep");
  r.tags = Tags{{"a", "1"}};
  r.attributes.expires = kNow + 50;
  MustCreate(r);
  clock_.Advance(7);
  auto updated = service_->UpdateKey(vault_, "keep", "", UpdateKeyRequest{});
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->attributes.enabled);
  EXPECT_EQ(updated->attributes.expires, kNow + 50);
  EXPECT_FALSE(updated->attributes.not_before.has_value());
  EXPECT_EQ(updated->tags, (Tags{{"a", "1"}}));
  EXPECT_EQ(updated->key.key_ops, kEcDefaultOps);
  EXPECT_EQ(updated->attributes.created, kNow);
  EXPECT_EQ(updated->attributes.updated, kNow + 7);
}

TEST_F(KeyServiceTest, UpdateWithEmptyTagsClearsThem) {
  CreateKeyRequest r = Ec("clear");
  r.tags = Tags{{"a", "1"}};
  MustCreate(r);
  UpdateKeyRequest u;
  u.tags = Tags{};
  auto updated = service_->UpdateKey(vault_, "clear", "", u);
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->tags.empty());
}

TEST_F(KeyServiceTest, UpdateOneVersionLeavesTheOthers) {
  KeyBundle v1 = MustCreate(Ec("multi"));
  KeyBundle v2 = MustCreate(Ec("multi"));
  clock_.Advance(30);
  UpdateKeyRequest u;
  u.attributes.enabled = false;
  auto updated = service_->UpdateKey(vault_, "multi", v1.version, u);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->version, v1.version);
  EXPECT_FALSE(updated->attributes.enabled);
  auto latest = service_->GetKey(vault_, "multi", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, v2.version);
  EXPECT_TRUE(latest->attributes.enabled);
  EXPECT_EQ(latest->attributes.updated, kNow);
}

TEST_F(KeyServiceTest, UpdateUnknownKeyOrVersionIsKeyNotFound) {
  auto updated = service_->UpdateKey(vault_, "ghost", "", UpdateKeyRequest{});
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), "KeyNotFound");
  EXPECT_EQ(updated.status().message(), NotFoundText("ghost"));

  MustCreate(Ec("real"));
  const std::string unknown(32, 'a');
  updated = service_->UpdateKey(vault_, "real", unknown, UpdateKeyRequest{});
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), "KeyNotFound");
  EXPECT_EQ(updated.status().message(), NotFoundText("real/" + unknown));
}

TEST_F(KeyServiceTest, UpdateRejectsUnknownKeyOperation) {
  MustCreate(Ec("opsupd"));
  UpdateKeyRequest u;
  u.key_ops = std::vector<std::string>{"teleport"};
  auto updated = service_->UpdateKey(vault_, "opsupd", "", u);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), "BadParameter");
  auto got = service_->GetKey(vault_, "opsupd", "");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key.key_ops, kEcDefaultOps);
}

// ---- tags limits (15 tags, names and values up to 256 characters)

Tags ManyTags(size_t n) {
  Tags tags;
  for (size_t i = 0; i < n; ++i) tags.emplace_back("tag" + std::to_string(100 + i), "v");
  return tags;
}

TEST_F(KeyServiceTest, TagLimitsOnCreate) {
  struct Case {
    Tags tags;
    bool ok;
  };
  const std::vector<Case> cases = {
      {ManyTags(15), true},
      {ManyTags(16), false},
      {Tags{{std::string(256, 'n'), "v"}}, true},
      {Tags{{std::string(257, 'n'), "v"}}, false},
      {Tags{{"n", std::string(256, 'v')}}, true},
      {Tags{{"n", std::string(257, 'v')}}, false},
  };
  int i = 0;
  for (const Case& c : cases) {
    CreateKeyRequest r = Ec("tags" + std::to_string(i++));
    r.tags = c.tags;
    auto created = service_->CreateKey(vault_, r);
    EXPECT_EQ(created.ok(), c.ok) << r.name << ": " << created.status().ToString();
    if (!c.ok && !created.ok()) {
      EXPECT_EQ(created.status().code(), "BadParameter");
    }
    if (c.ok && created.ok()) {
      EXPECT_EQ(created->tags.size(), c.tags.size());
    }
  }
}

TEST_F(KeyServiceTest, TagLimitsOnUpdate) {
  MustCreate(Ec("tagupd"));
  for (const Tags& bad :
       {ManyTags(16), Tags{{std::string(257, 'n'), "v"}}, Tags{{"n", std::string(257, 'v')}}}) {
    UpdateKeyRequest u;
    u.tags = bad;
    auto updated = service_->UpdateKey(vault_, "tagupd", "", u);
    ASSERT_FALSE(updated.ok());
    EXPECT_EQ(updated.status().code(), "BadParameter");
  }
  UpdateKeyRequest u;
  u.tags = ManyTags(15);
  auto updated = service_->UpdateKey(vault_, "tagupd", "", u);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->tags.size(), 15u);
}

// ---- delete, recovery levels

TEST_F(KeyServiceTest, DeleteSetsDeletionDatesFromVaultRetention) {
  for (const store::VaultRecord* vault : {&vault_, &short_vault_}) {
    SCOPED_TRACE(vault->name);
    KeyBundle created = MustCreate(Ec("gone"), vault);
    clock_.Advance(100);
    const int64_t deleted_at = clock_.NowSeconds();
    auto deleted = service_->DeleteKey(*vault, "gone");
    ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
    EXPECT_EQ(deleted->deletion.deleted_date, deleted_at);
    EXPECT_EQ(deleted->deletion.scheduled_purge_date,
              deleted_at + int64_t{vault->retention_days} * kDay);
    EXPECT_EQ(deleted->bundle.version, created.version);
    EXPECT_EQ(deleted->bundle.name, "gone");
    EXPECT_EQ(deleted->bundle.attributes.recoverable_days, vault->retention_days);

    auto fetched = service_->GetDeletedKey(*vault, "gone");
    ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
    EXPECT_EQ(fetched->deletion.deleted_date, deleted_at);
    EXPECT_EQ(fetched->deletion.scheduled_purge_date,
              deleted_at + int64_t{vault->retention_days} * kDay);
    EXPECT_EQ(fetched->bundle.version, created.version);
    EXPECT_EQ(fetched->bundle.key.params.x, created.key.params.x);
  }
}

TEST_F(KeyServiceTest, RecoveryLevelFollowsRetentionAndPurgeProtection) {
  EXPECT_EQ(RecoveryLevel(Vault("a", 90, false)), "Recoverable+Purgeable");
  EXPECT_EQ(RecoveryLevel(Vault("a", 7, false)), "CustomizedRecoverable+Purgeable");
  EXPECT_EQ(RecoveryLevel(Vault("a", 90, true)), "Recoverable");
  EXPECT_EQ(RecoveryLevel(Vault("a", 30, true)), "CustomizedRecoverable");
  EXPECT_EQ(RecoveryLevel(Vault("a", 89, false)), "CustomizedRecoverable+Purgeable");
}

TEST_F(KeyServiceTest, BundlesCarryTheVaultsRecoverySettings) {
  struct Case {
    const store::VaultRecord* vault;
    const char* level;
    int days;
  };
  for (const Case& c : {Case{&vault_, "Recoverable+Purgeable", 90},
                        Case{&short_vault_, "CustomizedRecoverable+Purgeable", 7},
                        Case{&protected_vault_, "Recoverable", 90},
                        Case{&protected30_vault_, "CustomizedRecoverable", 30}}) {
    SCOPED_TRACE(c.vault->name);
    KeyBundle b = MustCreate(Ec("lvl"), c.vault);
    EXPECT_EQ(b.attributes.recovery_level, c.level);
    EXPECT_EQ(b.attributes.recoverable_days, c.days);
    auto deleted = service_->DeleteKey(*c.vault, "lvl");
    ASSERT_TRUE(deleted.ok());
    EXPECT_EQ(deleted->bundle.attributes.recovery_level, c.level);
    EXPECT_EQ(deleted->bundle.attributes.recoverable_days, c.days);
  }
}

TEST_F(KeyServiceTest, DeleteUnknownOrAlreadyDeletedIsKeyNotFound) {
  auto deleted = service_->DeleteKey(vault_, "never");
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(deleted.status().code(), "KeyNotFound");
  EXPECT_EQ(deleted.status().message(), NotFoundText("never"));

  MustCreate(Ec("twice"));
  ASSERT_TRUE(service_->DeleteKey(vault_, "twice").ok());
  deleted = service_->DeleteKey(vault_, "twice");
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.status().code(), "KeyNotFound");
}

TEST_F(KeyServiceTest, CreateOverDeletedNameIsConflict) {
  MustCreate(Ec("k1"));
  ASSERT_TRUE(service_->DeleteKey(vault_, "k1").ok());
  for (const std::string name : {"k1", "K1"}) {
    auto created = service_->CreateKey(vault_, Ec(name));
    ASSERT_FALSE(created.ok()) << name;
    EXPECT_EQ(created.status().kind(), ErrorKind::kConflict);
    EXPECT_EQ(created.status().code(), "Conflict");
    EXPECT_EQ(created.status().message(), ConflictText(name));
    EXPECT_EQ(created.status().inner_code(), "ObjectIsDeletedButRecoverable");
  }
}

TEST_F(KeyServiceTest, DeletedKeyIsInvisibleToActiveOperations) {
  MustCreate(Ec("hidden"));
  MustCreate(Ec("visible"));
  ASSERT_TRUE(service_->DeleteKey(vault_, "hidden").ok());

  auto got = service_->GetKey(vault_, "hidden", "");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(got.status().code(), "KeyNotFound");
  EXPECT_EQ(got.status().message(), NotFoundText("hidden"));

  auto updated = service_->UpdateKey(vault_, "hidden", "", UpdateKeyRequest{});
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), "KeyNotFound");

  auto listed = service_->ListKeys(vault_, {});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].name, "visible");

  auto versions = service_->ListKeyVersions(vault_, "hidden", {});
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->items.empty());

  auto deleted = service_->ListDeletedKeys(vault_, {});
  ASSERT_TRUE(deleted.ok());
  ASSERT_EQ(deleted->items.size(), 1u);
  EXPECT_EQ(deleted->items[0].item.name, "hidden");
  EXPECT_TRUE(deleted->items[0].item.version.empty());
  EXPECT_EQ(deleted->items[0].deletion.deleted_date, kNow);
  EXPECT_EQ(deleted->items[0].deletion.scheduled_purge_date, kNow + 90 * kDay);
}

TEST_F(KeyServiceTest, GetDeletedKeyOfUnknownOrActiveName) {
  for (const std::string name : {"nope", "active"}) {
    if (name == "active") MustCreate(Ec(name));
    auto got = service_->GetDeletedKey(vault_, name);
    ASSERT_FALSE(got.ok()) << name;
    EXPECT_EQ(got.status().kind(), ErrorKind::kNotFound);
    EXPECT_EQ(got.status().code(), "KeyNotFound");
    EXPECT_EQ(got.status().message(), "Deleted Key not found: " + name);
  }
}

// ---- recover and purge

TEST_F(KeyServiceTest, RecoverRestoresAllVersions) {
  CreateKeyRequest r = Ec("phoenix");
  r.tags = Tags{{"t", "v"}};
  KeyBundle v1 = MustCreate(r);
  KeyBundle v2 = MustCreate(r);
  KeyBundle v3 = MustCreate(r);
  ASSERT_TRUE(service_->DeleteKey(vault_, "phoenix").ok());

  auto recovered = service_->RecoverDeletedKey(vault_, "phoenix");
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(recovered->version, v3.version);
  EXPECT_EQ(recovered->tags, (Tags{{"t", "v"}}));

  auto versions = service_->ListKeyVersions(vault_, "phoenix", {});
  ASSERT_TRUE(versions.ok());
  std::vector<std::string> ids;
  for (const auto& item : versions->items) ids.push_back(item.version);
  EXPECT_EQ(ids, (std::vector<std::string>{v1.version, v2.version, v3.version}));
  for (const KeyBundle* v : {&v1, &v2, &v3}) {
    auto got = service_->GetKey(vault_, "phoenix", v->version);
    ASSERT_TRUE(got.ok()) << v->version;
    EXPECT_EQ(got->key.params.x, v->key.params.x);
  }
  EXPECT_FALSE(service_->GetDeletedKey(vault_, "phoenix").ok());
  // Active again: a new create adds a version.
  MustCreate(Ec("phoenix"));
}

TEST_F(KeyServiceTest, RecoverNeverDeletedIsKeyNotFound) {
  MustCreate(Ec("alive"));
  for (const std::string name : {"alive", "unknown"}) {
    auto recovered = service_->RecoverDeletedKey(vault_, name);
    ASSERT_FALSE(recovered.ok()) << name;
    EXPECT_EQ(recovered.status().kind(), ErrorKind::kNotFound);
    EXPECT_EQ(recovered.status().code(), "KeyNotFound");
    EXPECT_EQ(recovered.status().message(), NotFoundText(name));
  }
}

TEST_F(KeyServiceTest, PurgeRemovesTheKeyForGood) {
  KeyBundle old = MustCreate(Ec("purged"));
  MustCreate(Ec("purged"));
  ASSERT_TRUE(service_->DeleteKey(vault_, "purged").ok());
  Status purged = service_->PurgeDeletedKey(vault_, "purged");
  ASSERT_TRUE(purged.ok()) << purged.ToString();

  auto got = service_->GetDeletedKey(vault_, "purged");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "Deleted Key not found: purged");
  EXPECT_FALSE(service_->RecoverDeletedKey(vault_, "purged").ok());
  auto deleted = service_->ListDeletedKeys(vault_, {});
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->items.empty());

  // The name is free again, as a new key with a single version.
  KeyBundle fresh = MustCreate(Ec("purged"));
  auto versions = service_->ListKeyVersions(vault_, "purged", {});
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->items.size(), 1u);
  EXPECT_EQ(versions->items[0].version, fresh.version);
  EXPECT_FALSE(service_->GetKey(vault_, "purged", old.version).ok());
}

TEST_F(KeyServiceTest, PurgeOfUnknownOrActiveKeyIsDeletedKeyNotFound) {
  MustCreate(Ec("active"));
  for (const std::string name : {"unknown", "active"}) {
    Status purged = service_->PurgeDeletedKey(vault_, name);
    ASSERT_FALSE(purged.ok()) << name;
    EXPECT_EQ(purged.kind(), ErrorKind::kNotFound);
    EXPECT_EQ(purged.code(), "KeyNotFound");
    EXPECT_EQ(purged.message(), "Deleted Key not found: " + name);
  }
  EXPECT_TRUE(service_->GetKey(vault_, "active", "").ok());
}

TEST_F(KeyServiceTest, PurgeWithPurgeProtectionIsForbidden) {
  MustCreate(Ec("locked-key"), &protected_vault_);
  ASSERT_TRUE(service_->DeleteKey(protected_vault_, "locked-key").ok());
  Status purged = service_->PurgeDeletedKey(protected_vault_, "locked-key");
  ASSERT_FALSE(purged.ok());
  EXPECT_EQ(purged.kind(), ErrorKind::kForbidden);
  EXPECT_EQ(purged.code(), "Forbidden");
  EXPECT_NE(purged.message().find("purge protection is enabled"), std::string::npos)
      << purged.message();
  // Still recoverable.
  EXPECT_TRUE(service_->GetDeletedKey(protected_vault_, "locked-key").ok());
  EXPECT_TRUE(service_->RecoverDeletedKey(protected_vault_, "locked-key").ok());
}

TEST_F(KeyServiceTest, PurgeExpiredKeysPurgesOnlyExpiredOnes) {
  // short vault: 7 days retention; dev vault: 90 days; locked: 90 days with purge protection.
  MustCreate(Ec("early"), &short_vault_);
  MustCreate(Ec("late"), &short_vault_);
  MustCreate(Ec("active"), &short_vault_);
  MustCreate(Ec("long"), &vault_);
  MustCreate(Ec("prot"), &protected_vault_);
  ASSERT_TRUE(service_->DeleteKey(short_vault_, "early").ok());     // purge at kNow + 7d
  ASSERT_TRUE(service_->DeleteKey(protected_vault_, "prot").ok());  // kNow + 90d
  clock_.Advance(3 * kDay);
  ASSERT_TRUE(service_->DeleteKey(short_vault_, "late").ok());  // kNow + 10d
  ASSERT_TRUE(service_->DeleteKey(vault_, "long").ok());        // kNow + 93d

  clock_.Set(kNow + 7 * kDay - 1);
  auto purged = service_->PurgeExpiredKeys();
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 0);

  clock_.Set(kNow + 7 * kDay + 1);
  purged = service_->PurgeExpiredKeys();
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_FALSE(service_->GetDeletedKey(short_vault_, "early").ok());
  EXPECT_TRUE(service_->GetDeletedKey(short_vault_, "late").ok());
  EXPECT_TRUE(service_->GetDeletedKey(vault_, "long").ok());
  EXPECT_TRUE(service_->GetDeletedKey(protected_vault_, "prot").ok());
  EXPECT_TRUE(service_->GetKey(short_vault_, "active", "").ok());
  // The purged name is free again.
  MustCreate(Ec("early"), &short_vault_);

  // Past every retention: the system purges purge-protected keys too; active keys stay.
  clock_.Set(kNow + 100 * kDay);
  purged = service_->PurgeExpiredKeys();
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 3);
  EXPECT_FALSE(service_->GetDeletedKey(short_vault_, "late").ok());
  EXPECT_FALSE(service_->GetDeletedKey(vault_, "long").ok());
  EXPECT_FALSE(service_->GetDeletedKey(protected_vault_, "prot").ok());
  EXPECT_TRUE(service_->GetKey(short_vault_, "active", "").ok());
  EXPECT_TRUE(service_->GetKey(short_vault_, "early", "").ok());
}

// ---- listing

TEST_F(KeyServiceTest, ListKeysPagesThroughEveryKeyOnce) {
  std::set<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    std::string name = "key-" + std::to_string(1000 + (i * 7) % 20);
    expected.insert(name);
    MustCreate(Ec(name));
  }
  // A second version must not make a key appear twice.
  MustCreate(Ec("key-1003"));
  std::vector<size_t> page_sizes;
  std::vector<std::string> names = ListAllNames(vault_, 7, &page_sizes);
  EXPECT_EQ(page_sizes, (std::vector<size_t>{7, 7, 6}));
  EXPECT_EQ(names.size(), 20u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), expected);
  // Other vaults are not listed.
  auto other = service_->ListKeys(short_vault_, {});
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->items.empty());
  EXPECT_TRUE(other->next_cursor.empty());
}

TEST_F(KeyServiceTest, ListKeysExactMultipleOfPageSizeEndsWithEmptyCursor) {
  for (int i = 0; i < 4; ++i) MustCreate(Ec("m" + std::to_string(i)));
  std::vector<size_t> page_sizes;
  std::vector<std::string> names = ListAllNames(vault_, 2, &page_sizes);
  EXPECT_EQ(names, (std::vector<std::string>{"m0", "m1", "m2", "m3"}));
  EXPECT_EQ(page_sizes, (std::vector<size_t>{2, 2}));
}

TEST_F(KeyServiceTest, ListKeyVersionsPages) {
  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(MustCreate(Ec("pv")).version);
  std::vector<std::string> got;
  PageRequest page;
  page.max_results = 2;
  int pages = 0;
  while (true) {
    auto listed = service_->ListKeyVersions(vault_, "pv", page);
    ASSERT_TRUE(listed.ok()) << listed.status().ToString();
    ++pages;
    ASSERT_LE(pages, 10);
    for (const auto& item : listed->items) {
      EXPECT_EQ(item.name, "pv");
      got.push_back(item.version);
    }
    if (listed->next_cursor.empty()) break;
    page.cursor = listed->next_cursor;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(got, expected);
}

TEST_F(KeyServiceTest, ListKeyVersionsOfUnknownNameIsEmptyPage) {
  auto listed = service_->ListKeyVersions(vault_, "nobody", {});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->items.empty());
  EXPECT_TRUE(listed->next_cursor.empty());
}

TEST_F(KeyServiceTest, ListDeletedKeysPages) {
  for (int i = 0; i < 5; ++i) {
    std::string name = "d" + std::to_string(i);
    MustCreate(Ec(name));
    ASSERT_TRUE(service_->DeleteKey(vault_, name).ok());
  }
  std::set<std::string> names;
  PageRequest page;
  page.max_results = 2;
  for (int guard = 0; guard < 10; ++guard) {
    auto listed = service_->ListDeletedKeys(vault_, page);
    ASSERT_TRUE(listed.ok());
    EXPECT_LE(listed->items.size(), 2u);
    for (const auto& item : listed->items) {
      EXPECT_TRUE(names.insert(item.item.name).second) << "listed twice: " << item.item.name;
      EXPECT_EQ(item.deletion.scheduled_purge_date, kNow + 90 * kDay);
    }
    if (listed->next_cursor.empty()) break;
    page.cursor = listed->next_cursor;
  }
  EXPECT_EQ(names, (std::set<std::string>{"d0", "d1", "d2", "d3", "d4"}));
}

// ---- private key storage

TEST_F(KeyServiceTest, PrivateKeyIsSealedBoundToItsKeyVersion) {
  KeyBundle b = MustCreate(Ec("sealed"));
  auto record = store_->GetKeyVersion("dev", "sealed", b.version);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  const Bytes& sealed = record->sealed_private_key;
  ASSERT_FALSE(sealed.empty());

  auto opened = barrier_->Open(SealBinding::KeyVersion("dev", "sealed", b.version), sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const Bytes plaintext(opened->begin(), opened->end());
  ASSERT_FALSE(plaintext.empty());
  // The stored blob is not the plaintext PKCS#8, nor does it contain it.
  EXPECT_NE(sealed, plaintext);
  EXPECT_EQ(std::search(sealed.begin(), sealed.end(), plaintext.begin(), plaintext.end()),
            sealed.end());

  // The plaintext is the PKCS#8 private key matching the published public key.
  auto key = crypto::AsymmetricKey::FromPrivateDer(plaintext);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(key->has_private());
  EXPECT_EQ(key->PublicDer(), record->public_key);
  EXPECT_EQ(key->PublicParams().x, b.key.params.x);

  // Bound to vault, name and version.
  EXPECT_FALSE(barrier_->Open(SealBinding::KeyVersion("dev", "other", b.version), sealed).ok());
  EXPECT_FALSE(barrier_->Open(SealBinding::KeyVersion("short", "sealed", b.version), sealed).ok());
  EXPECT_FALSE(
      barrier_->Open(SealBinding::KeyVersion("dev", "sealed", std::string(32, '0')), sealed).ok());
  // A different master key cannot open it.
  MaterialBarrier other(Barrier(crypto::RandomSecureBytes(32)));
  EXPECT_FALSE(other.Open(SealBinding::KeyVersion("dev", "sealed", b.version), sealed).ok());
}

TEST_F(KeyServiceTest, RsaPrivateKeyIsSealedToo) {
  KeyBundle b = MustCreate(Rsa("sealed-rsa"));
  auto record = store_->GetKeyVersion("dev", "sealed-rsa", "");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->version, b.version);
  EXPECT_EQ(record->key_type, "RSA");
  auto opened = barrier_->Open(SealBinding::KeyVersion("dev", "sealed-rsa", b.version),
                               record->sealed_private_key);
  ASSERT_TRUE(opened.ok());
  const Bytes plaintext(opened->begin(), opened->end());
  EXPECT_NE(record->sealed_private_key, plaintext);
  auto key = crypto::AsymmetricKey::FromPrivateDer(plaintext);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->PublicParams().n, b.key.params.n);
  EXPECT_FALSE(barrier_
                   ->Open(SealBinding::KeyVersion("dev", "wrong-name", b.version),
                          record->sealed_private_key)
                   .ok());
}

}  // namespace
}  // namespace coffre::service
