// Tests for KeyService::BackupKey / RestoreKey (every version with its ids, attributes, tags,
// material and the rotation policy; conflicts; blobs that are damaged or from another master
// key) and ImportKey (RSA/EC/oct JWKs, -HSM types, inconsistent keys, deleted names), over a real
// SQLite store, a MaterialBarrier with a random master key and a ManualClock.
// Expected texts come from the AKV keys wire reference (akv-keys-api.md §2.2, §3.3, §7).
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/asymmetric_key.h"
#include "crypto/key_operations.h"
#include "crypto/random.h"
#include "service/crypto_service.h"
#include "service/key_material.h"
#include "service/key_service.h"
#include "service/material_barrier.h"
#include "service/rotation_policy.h"
#include "service/vault_directory.h"
#include "store/store.h"

namespace coffre::service {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kDay = 86400;

const std::string kInvalidBackup = "The backup blob is not valid or was not made by this server.";
const std::string kInvalidJwk = "The property \"key\" must be a valid JsonWebKey object.";
const std::string kRestoreConflict =
    "There was a conflict restoring the key. This can happen if either: a second key with the "
    "same name was created after the first key was deleted; thus trying to restore a key whose "
    "name is already in use. To fix this, rename the second key to something else so that the "
    "restore works. The second probable cause of this exception is when multiple operations are "
    "performed in parallel against the key. To avoid this error, perform operations against a "
    "key in a sequential manner.";

std::string NotFoundText(const std::string& name) {
  return "A key with (name/id) " + name +
         " was not found in this key vault. If you recently deleted this key you may be able to "
         "recover it using the correct recovery command. For help resolving this issue, please "
         "see https://go.microsoft.com/fwlink/?linkid=2125182";
}

std::string DeletedConflictText(const std::string& name) {
  return "Key " + name +
         " is currently in a deleted but recoverable state, and its name cannot be reused; in "
         "this state, the key can only be recovered or purged.";
}

Bytes FromHex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

SecureBytes Secure(ByteSpan b) { return SecureBytes(b.begin(), b.end()); }
Bytes ToBytes(const SecureBytes& b) { return Bytes(b.begin(), b.end()); }

// A BIGNUM parameter of a key as big-endian bytes (OpenSSL as the oracle for JWK components).
Bytes BnParam(const crypto::AsymmetricKey& key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key.native(), name, &bn), 1) << name;
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_clear_free(bn);
  return out;
}

PrivateJsonWebKey RsaJwk(const crypto::AsymmetricKey& key, bool with_crt) {
  PrivateJsonWebKey jwk;
  jwk.kty = "RSA";
  jwk.n = BnParam(key, OSSL_PKEY_PARAM_RSA_N);
  jwk.e = BnParam(key, OSSL_PKEY_PARAM_RSA_E);
  jwk.d = Secure(BnParam(key, OSSL_PKEY_PARAM_RSA_D));
  if (with_crt) {
    jwk.p = Secure(BnParam(key, OSSL_PKEY_PARAM_RSA_FACTOR1));
    jwk.q = Secure(BnParam(key, OSSL_PKEY_PARAM_RSA_FACTOR2));
    jwk.dp = Secure(BnParam(key, OSSL_PKEY_PARAM_RSA_EXPONENT1));
    jwk.dq = Secure(BnParam(key, OSSL_PKEY_PARAM_RSA_EXPONENT2));
    jwk.qi = Secure(BnParam(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
  }
  return jwk;
}

PrivateJsonWebKey EcJwk(const crypto::AsymmetricKey& key) {
  PrivateJsonWebKey jwk;
  jwk.kty = "EC";
  crypto::PublicKeyParams params = key.PublicParams();
  jwk.crv = std::string(crypto::CurveName(params.curve));
  jwk.x = params.x;
  jwk.y = params.y;
  jwk.d = Secure(BnParam(key, OSSL_PKEY_PARAM_PRIV_KEY));
  return jwk;
}

PrivateJsonWebKey OctJwk(const Bytes& k) {
  PrivateJsonWebKey jwk;
  jwk.kty = "oct";
  jwk.k = Secure(k);
  return jwk;
}

void ExpectSameVersion(const store::KeyVersionRecord& a, const store::KeyVersionRecord& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.sequence, b.sequence) << a.version;
  EXPECT_EQ(a.key_type, b.key_type) << a.version;
  EXPECT_EQ(a.key_ops, b.key_ops) << a.version;
  EXPECT_EQ(a.enabled, b.enabled) << a.version;
  EXPECT_EQ(a.not_before, b.not_before) << a.version;
  EXPECT_EQ(a.expires, b.expires) << a.version;
  EXPECT_EQ(a.created, b.created) << a.version;
  EXPECT_EQ(a.updated, b.updated) << a.version;
  EXPECT_EQ(a.tags, b.tags) << a.version;
  EXPECT_EQ(a.public_key, b.public_key) << a.version;
}

void ExpectSamePolicy(const RotationPolicy& a, const RotationPolicy& b) {
  ASSERT_EQ(a.actions.size(), b.actions.size());
  for (size_t i = 0; i < a.actions.size(); ++i) {
    EXPECT_EQ(a.actions[i].type, b.actions[i].type) << i;
    EXPECT_EQ(a.actions[i].trigger, b.actions[i].trigger) << i;
    EXPECT_EQ(a.actions[i].duration, b.actions[i].duration) << i;
  }
  EXPECT_EQ(a.expiry_time, b.expiry_time);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.updated, b.updated);
  EXPECT_EQ(a.is_default, b.is_default);
}

class BackupRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-backup-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    master_key_ = crypto::RandomSecureBytes(32);
    barrier_ = std::make_unique<MaterialBarrier>(Barrier(master_key_));
    keys_ = std::make_unique<KeyService>(*store_, *barrier_, clock_);
    crypto_ = std::make_unique<CryptoService>(*store_, *barrier_, clock_);
    vaults_ = std::make_unique<VaultDirectory>(*store_);
    ASSERT_TRUE(vaults_->Ensure(vault_).ok());
    ASSERT_TRUE(vaults_->Ensure(vault2_).ok());
  }

  void TearDown() override {
    vaults_.reset();
    crypto_.reset();
    keys_.reset();
    barrier_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Three versions made at kNow, kNow+100 and kNow+200; the second disabled at kNow+300; tags;
  // v1 with nbf and exp; a rotation policy (so v2 and v3 get exp from expiryTime).
  std::vector<std::string> MakeThreeVersions(const std::string& name, KeyType kty, int size) {
    clock_.Set(kNow);
    CreateKeyRequest request;
    request.name = name;
    request.kty = kty;
    request.key_size = size;
    request.attributes.not_before = kNow - 50;
    request.attributes.expires = kNow + 400 * kDay;
    request.tags = Tags{{"env", "prod"}, {"owner", "team-a"}};
    auto v1 = keys_->CreateKey(vault_, request);
    EXPECT_TRUE(v1.ok()) << v1.status().ToString();
    RotationPolicy policy;
    policy.actions = {{LifetimeActionType::kRotate, LifetimeTrigger::kTimeAfterCreate, "P90D"},
                      {LifetimeActionType::kNotify, LifetimeTrigger::kTimeBeforeExpiry, "P30D"}};
    policy.expiry_time = "P2Y";
    EXPECT_TRUE(keys_->UpdateRotationPolicy(vault_, name, policy).ok());
    clock_.Set(kNow + 100);
    auto v2 = keys_->RotateKey(vault_, name);
    EXPECT_TRUE(v2.ok()) << v2.status().ToString();
    clock_.Set(kNow + 200);
    auto v3 = keys_->RotateKey(vault_, name);
    EXPECT_TRUE(v3.ok()) << v3.status().ToString();
    clock_.Set(kNow + 300);
    UpdateKeyRequest disable;
    disable.attributes.enabled = false;
    if (v2.ok()) {
      EXPECT_TRUE(keys_->UpdateKey(vault_, name, v2->version, disable).ok());
    }
    if (!v1.ok() || !v2.ok() || !v3.ok()) return {};
    return {v1->version, v2->version, v3->version};
  }

  std::vector<store::KeyVersionRecord> Versions(const store::VaultRecord& vault,
                                                const std::string& name) {
    std::vector<store::KeyVersionRecord> all;
    std::string cursor;
    do {
      auto page = store_->ListKeyVersions(vault.name, name, cursor, 100);
      if (!page.ok()) return {};
      all.insert(all.end(), page->items.begin(), page->items.end());
      cursor = page->next_cursor;
    } while (!cursor.empty());
    return all;
  }

  Bytes MustBackup(const std::string& name) {
    auto blob = keys_->BackupKey(vault_, name);
    EXPECT_TRUE(blob.ok()) << blob.status().ToString();
    return blob.ok() ? *blob : Bytes{};
  }

  void DeleteAndPurge(const std::string& name) {
    ASSERT_TRUE(keys_->DeleteKey(vault_, name).ok());
    ASSERT_TRUE(keys_->PurgeDeletedKey(vault_, name).ok());
  }

  void ExpectInvalidBackup(KeyService& service, const Bytes& blob, const std::string& what) {
    auto restored = service.RestoreKey(vault_, blob);
    ASSERT_FALSE(restored.ok()) << what << ": restored";
    EXPECT_EQ(restored.status().kind(), ErrorKind::kBadRequest) << what;
    EXPECT_EQ(restored.status().code(), "BadParameter") << what;
    EXPECT_EQ(restored.status().message(), kInvalidBackup) << what;
  }

  Result<KeyOperationResult> Do(const store::VaultRecord& vault, const std::string& name,
                                const std::string& version, KeyOperation op, const std::string& alg,
                                ByteSpan value, std::optional<Bytes> iv = std::nullopt,
                                std::optional<Bytes> tag = std::nullopt) {
    KeyOperationRequest request;
    request.algorithm = alg;
    request.value = Secure(value);
    request.iv = std::move(iv);
    request.tag = std::move(tag);
    return crypto_->Perform(vault, name, version, op, request);
  }

  Result<KeyBundle> Import(const std::string& name, PrivateJsonWebKey jwk, bool hsm) {
    ImportKeyRequest request;
    request.name = name;
    request.key = std::move(jwk);
    request.hsm = hsm;
    return keys_->ImportKey(vault_, request);
  }

  void ExpectInvalidJwk(const std::string& name, PrivateJsonWebKey jwk, const std::string& what) {
    auto imported = Import(name, std::move(jwk), false);
    ASSERT_FALSE(imported.ok()) << what << ": imported";
    EXPECT_EQ(imported.status().kind(), ErrorKind::kBadRequest) << what;
    EXPECT_EQ(imported.status().code(), "BadParameter") << what;
    EXPECT_EQ(imported.status().message(), kInvalidJwk) << what;
    EXPECT_FALSE(keys_->GetKey(vault_, name, "").ok()) << what;
  }

  std::string dir_;
  ManualClock clock_{kNow};
  store::VaultRecord vault_{.name = "backupvault", .retention_days = 90, .created = kNow};
  store::VaultRecord vault2_{.name = "othervault", .retention_days = 90, .created = kNow};
  SecureBytes master_key_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<MaterialBarrier> barrier_;
  std::unique_ptr<KeyService> keys_;
  std::unique_ptr<CryptoService> crypto_;
  std::unique_ptr<VaultDirectory> vaults_;
};

// ---- backup and restore

TEST_F(BackupRestoreTest, RestoreAfterPurgeBringsBackEverything) {
  auto ids = MakeThreeVersions("multi", KeyType::kRsa, 2048);
  ASSERT_EQ(ids.size(), 3u);
  const auto before = Versions(vault_, "multi");
  ASSERT_EQ(before.size(), 3u);
  EXPECT_FALSE(before[1].enabled);
  auto policy_before = keys_->GetRotationPolicy(vault_, "multi");
  ASSERT_TRUE(policy_before.ok());
  std::vector<KeyBundle> bundles_before;
  for (const auto& id : ids) {
    auto bundle = keys_->GetKey(vault_, "multi", id);
    ASSERT_TRUE(bundle.ok());
    bundles_before.push_back(*bundle);
  }
  const Bytes plaintext = FromHex("00112233445566778899aabbccddeeff");
  auto by_v1 = Do(vault_, "multi", ids[0], KeyOperation::kEncrypt, "RSA-OAEP-256", plaintext);
  auto by_v3 = Do(vault_, "multi", "", KeyOperation::kEncrypt, "RSA1_5", plaintext);
  ASSERT_TRUE(by_v1.ok() && by_v3.ok());
  EXPECT_EQ(by_v3->version, ids[2]);
  auto signature = Do(vault_, "multi", ids[2], KeyOperation::kSign, "RS256", Bytes(32, 9));
  ASSERT_TRUE(signature.ok());

  Bytes blob = MustBackup("multi");
  ASSERT_FALSE(blob.empty());
  // The blob does not carry private material in the clear.
  auto v1_private = barrier_->Open(SealBinding::KeyVersion(vault_.name, "multi", ids[0]),
                                   before[0].sealed_private_key);
  ASSERT_TRUE(v1_private.ok());
  EXPECT_EQ(
      std::search(blob.begin(), blob.end(), v1_private->begin() + 8, v1_private->begin() + 40),
      blob.end());

  ASSERT_NO_FATAL_FAILURE(DeleteAndPurge("multi"));
  EXPECT_FALSE(keys_->GetKey(vault_, "multi", "").ok());
  clock_.Set(kNow + 5000);

  auto restored = keys_->RestoreKey(vault_, blob);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->name, "multi");
  EXPECT_EQ(restored->version, ids[2]);
  EXPECT_EQ(restored->attributes.created, kNow + 200);
  EXPECT_EQ(restored->key.kty, KeyType::kRsa);

  const auto after = Versions(vault_, "multi");
  ASSERT_EQ(after.size(), 3u);
  for (size_t i = 0; i < 3; ++i) ExpectSameVersion(after[i], before[i]);
  for (size_t i = 0; i < 3; ++i) {
    auto bundle = keys_->GetKey(vault_, "multi", ids[i]);
    ASSERT_TRUE(bundle.ok());
    EXPECT_EQ(bundle->key.params.n, bundles_before[i].key.params.n) << i;
    EXPECT_EQ(bundle->key.params.e, bundles_before[i].key.params.e) << i;
    EXPECT_EQ(bundle->tags, bundles_before[i].tags) << i;
    EXPECT_EQ(bundle->attributes.enabled, bundles_before[i].attributes.enabled) << i;
    EXPECT_EQ(bundle->attributes.expires, bundles_before[i].attributes.expires) << i;
    EXPECT_EQ(bundle->attributes.not_before, bundles_before[i].attributes.not_before) << i;
    EXPECT_EQ(bundle->attributes.updated, bundles_before[i].attributes.updated) << i;
  }
  auto latest = keys_->GetKey(vault_, "multi", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, ids[2]);

  auto policy_after = keys_->GetRotationPolicy(vault_, "multi");
  ASSERT_TRUE(policy_after.ok());
  ExpectSamePolicy(*policy_after, *policy_before);

  // The restored material is the original material.
  auto opened1 = Do(vault_, "multi", ids[0], KeyOperation::kDecrypt, "RSA-OAEP-256", by_v1->value);
  ASSERT_TRUE(opened1.ok()) << opened1.status().ToString();
  EXPECT_EQ(ToBytes(opened1->value), plaintext);
  auto opened3 = Do(vault_, "multi", "", KeyOperation::kDecrypt, "RSA1_5", by_v3->value);
  ASSERT_TRUE(opened3.ok()) << opened3.status().ToString();
  EXPECT_EQ(ToBytes(opened3->value), plaintext);
  VerifyRequest verify{"RS256", Bytes(32, 9), ToBytes(signature->value)};
  auto verified = crypto_->Verify(vault_, "multi", ids[2], verify);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(*verified);
  auto disabled = Do(vault_, "multi", ids[1], KeyOperation::kDecrypt, "RSA1_5", by_v3->value);
  ASSERT_FALSE(disabled.ok());
  EXPECT_EQ(disabled.status().inner_code(), "KeyDisabled");

  // Life goes on: the next rotation adds a fourth version with exp from the restored policy.
  auto rotated = keys_->RotateKey(vault_, "multi");
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(Versions(vault_, "multi").size(), 4u);
  EXPECT_EQ(rotated->attributes.expires, kNow + 5000 + 731 * kDay);  // P2Y over a leap day
}

TEST_F(BackupRestoreTest, RestoreWithoutPolicyKeepsDefault) {
  CreateKeyRequest request;
  request.name = "plain";
  request.kty = KeyType::kEc;
  ASSERT_TRUE(keys_->CreateKey(vault_, request).ok());
  Bytes blob = MustBackup("plain");
  ASSERT_NO_FATAL_FAILURE(DeleteAndPurge("plain"));
  auto restored = keys_->RestoreKey(vault_, blob);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  auto policy = keys_->GetRotationPolicy(vault_, "plain");
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(policy->is_default);
}

TEST_F(BackupRestoreTest, RestoreIntoSecondVault) {
  auto ids = MakeThreeVersions("portable", KeyType::kOctHsm, 256);
  ASSERT_EQ(ids.size(), 3u);
  const auto before = Versions(vault_, "portable");
  const Bytes plaintext = FromHex("0badc0de");
  auto sealed = Do(vault_, "portable", "", KeyOperation::kEncrypt, "A256GCM", plaintext);
  ASSERT_TRUE(sealed.ok());
  Bytes blob = MustBackup("portable");

  // The original stays where it is; the copy lands in the other vault.
  auto restored = keys_->RestoreKey(vault2_, blob);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->version, ids[2]);
  const auto copy = Versions(vault2_, "portable");
  ASSERT_EQ(copy.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(copy[i].vault, vault2_.name);
    ExpectSameVersion(copy[i], before[i]);
  }
  EXPECT_EQ(Versions(vault_, "portable").size(), 3u);
  auto policy = keys_->GetRotationPolicy(vault2_, "portable");
  ASSERT_TRUE(policy.ok());
  EXPECT_FALSE(policy->is_default);
  EXPECT_EQ(policy->expiry_time, "P2Y");

  auto opened = Do(vault2_, "portable", ids[2], KeyOperation::kDecrypt, "A256GCM", sealed->value,
                   sealed->iv, sealed->tag);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(ToBytes(opened->value), plaintext);

  // Independent keys: deleting the original leaves the copy.
  ASSERT_NO_FATAL_FAILURE(DeleteAndPurge("portable"));
  EXPECT_TRUE(keys_->GetKey(vault2_, "portable", "").ok());
}

TEST_F(BackupRestoreTest, RestoreOverActiveNameIsConflict) {
  auto ids = MakeThreeVersions("active", KeyType::kOct, 128);
  ASSERT_EQ(ids.size(), 3u);
  Bytes blob = MustBackup("active");
  const auto before = Versions(vault_, "active");
  auto policy_before = keys_->GetRotationPolicy(vault_, "active");
  ASSERT_TRUE(policy_before.ok());
  clock_.Set(kNow + 1000);

  auto restored = keys_->RestoreKey(vault_, blob);
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().kind(), ErrorKind::kConflict);
  EXPECT_EQ(restored.status().code(), "Conflict");
  EXPECT_EQ(restored.status().message(), kRestoreConflict);

  const auto after = Versions(vault_, "active");
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) ExpectSameVersion(after[i], before[i]);
  auto policy_after = keys_->GetRotationPolicy(vault_, "active");
  ASSERT_TRUE(policy_after.ok());
  ExpectSamePolicy(*policy_after, *policy_before);
}

TEST_F(BackupRestoreTest, RestoreOverRecreatedNameIsConflict) {
  CreateKeyRequest request;
  request.name = "reused";
  request.kty = KeyType::kOct;
  auto original = keys_->CreateKey(vault_, request);
  ASSERT_TRUE(original.ok());
  Bytes blob = MustBackup("reused");
  ASSERT_NO_FATAL_FAILURE(DeleteAndPurge("reused"));
  auto second = keys_->CreateKey(vault_, request);
  ASSERT_TRUE(second.ok());
  auto restored = keys_->RestoreKey(vault_, blob);
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().kind(), ErrorKind::kConflict);
  auto versions = Versions(vault_, "reused");
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].version, second->version);
}

TEST_F(BackupRestoreTest, RestoreOverSoftDeletedNameIsConflict) {
  auto ids = MakeThreeVersions("soft", KeyType::kOct, 192);
  ASSERT_EQ(ids.size(), 3u);
  Bytes blob = MustBackup("soft");
  ASSERT_TRUE(keys_->DeleteKey(vault_, "soft").ok());

  auto restored = keys_->RestoreKey(vault_, blob);
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().kind(), ErrorKind::kConflict);
  EXPECT_EQ(restored.status().code(), "Conflict");
  EXPECT_EQ(restored.status().message(), kRestoreConflict);

  // Still soft-deleted, still recoverable, with all its versions.
  EXPECT_FALSE(keys_->GetKey(vault_, "soft", "").ok());
  auto deleted = keys_->GetDeletedKey(vault_, "soft");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->bundle.version, ids[2]);
  ASSERT_TRUE(keys_->RecoverDeletedKey(vault_, "soft").ok());
  auto versions = Versions(vault_, "soft");
  ASSERT_EQ(versions.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(versions[i].version, ids[i]);
}

TEST_F(BackupRestoreTest, EveryFlippedByteIsRejected) {
  auto ids = MakeThreeVersions("flip", KeyType::kOct, 128);
  ASSERT_EQ(ids.size(), 3u);
  Bytes blob = MustBackup("flip");
  ASSERT_NO_FATAL_FAILURE(DeleteAndPurge("flip"));
  ASSERT_GT(blob.size(), 5u);
  for (size_t i = 0; i < blob.size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      Bytes tampered = blob;
      tampered[i] ^= mask;
      ASSERT_NO_FATAL_FAILURE(ExpectInvalidBackup(*keys_, tampered, "byte " + std::to_string(i)));
    }
  }
  EXPECT_FALSE(keys_->GetKey(vault_, "flip", "").ok());
  EXPECT_FALSE(keys_->GetDeletedKey(vault_, "flip").ok());
  // The untouched blob still restores.
  EXPECT_TRUE(keys_->RestoreKey(vault_, blob).ok());
}

TEST_F(BackupRestoreTest, TruncatedOrMalformedBlobsAreRejected) {
  CreateKeyRequest request;
  request.name = "short";
  request.kty = KeyType::kOct;
  ASSERT_TRUE(keys_->CreateKey(vault_, request).ok());
  Bytes blob = MustBackup("short");
  ASSERT_NO_FATAL_FAILURE(DeleteAndPurge("short"));
  ASSERT_GT(blob.size(), 40u);

  for (size_t size : {size_t{0}, size_t{1}, size_t{4}, size_t{5}, size_t{6}, size_t{17}, size_t{33},
                      blob.size() / 2, blob.size() - 16, blob.size() - 1}) {
    ExpectInvalidBackup(*keys_, Bytes(blob.begin(), blob.begin() + static_cast<long>(size)),
                        "truncated to " + std::to_string(size));
  }
  Bytes longer = blob;
  longer.push_back(0);
  ExpectInvalidBackup(*keys_, longer, "one byte appended");

  Bytes magic = blob;
  magic[0] = 'X';
  ExpectInvalidBackup(*keys_, magic, "wrong magic");
  Bytes version = blob;
  version[4] = 2;
  ExpectInvalidBackup(*keys_, version, "format version 2");
  Bytes garbage = blob;
  for (size_t i = 5; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 31);
  ExpectInvalidBackup(*keys_, garbage, "right header, garbage body");
  Bytes text(blob.size(), 'A');
  ExpectInvalidBackup(*keys_, text, "text");
  EXPECT_TRUE(keys_->RestoreKey(vault_, blob).ok());
}

TEST_F(BackupRestoreTest, BlobFromAnotherMasterKeyIsRejected) {
  CreateKeyRequest request;
  request.name = "foreign";
  request.kty = KeyType::kOctHsm;
  auto created = keys_->CreateKey(vault_, request);
  ASSERT_TRUE(created.ok());
  Bytes blob = MustBackup("foreign");
  ASSERT_NO_FATAL_FAILURE(DeleteAndPurge("foreign"));

  // Another server, another master key, same database: cannot read our blob...
  MaterialBarrier other_barrier(Barrier(crypto::RandomSecureBytes(32)));
  KeyService other(*store_, other_barrier, clock_);
  ExpectInvalidBackup(other, blob, "blob of another master key");
  EXPECT_FALSE(keys_->GetKey(vault_, "foreign", "").ok());

  // ...and we cannot read its blobs.
  CreateKeyRequest theirs;
  theirs.name = "theirs";
  theirs.kty = KeyType::kOct;
  ASSERT_TRUE(other.CreateKey(vault2_, theirs).ok());
  auto their_blob = other.BackupKey(vault2_, "theirs");
  ASSERT_TRUE(their_blob.ok()) << their_blob.status().ToString();
  ExpectInvalidBackup(*keys_, *their_blob, "their blob");

  // A server sharing our master key (its own database) restores it.
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "coffre-backup-peer-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  {
    auto peer_store = store::OpenSqliteStore(tmpl + "/coffre.db");
    ASSERT_TRUE(peer_store.ok());
    MaterialBarrier peer_barrier{Barrier(master_key_)};
    KeyService peer(**peer_store, peer_barrier, clock_);
    ASSERT_TRUE((*peer_store)->PutVault(vault_).ok());
    auto restored = peer.RestoreKey(vault_, blob);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    EXPECT_EQ(restored->version, created->version);
    EXPECT_EQ(restored->key.kty, KeyType::kOctHsm);
  }
  std::filesystem::remove_all(tmpl);
}

TEST_F(BackupRestoreTest, BackupPagesThroughManyVersions) {
  // More versions than one store page (100) holds.
  CreateKeyRequest request;
  request.name = "many";
  request.kty = KeyType::kOct;
  request.key_size = 128;
  ASSERT_TRUE(keys_->CreateKey(vault_, request).ok());
  for (int i = 0; i < 102; ++i) {
    clock_.Advance(1);
    ASSERT_TRUE(keys_->RotateKey(vault_, "many").ok()) << i;
  }
  const auto before = Versions(vault_, "many");
  ASSERT_EQ(before.size(), 103u);
  Bytes blob = MustBackup("many");
  ASSERT_NO_FATAL_FAILURE(DeleteAndPurge("many"));
  auto restored = keys_->RestoreKey(vault_, blob);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->version, before.back().version);
  const auto after = Versions(vault_, "many");
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) ExpectSameVersion(after[i], before[i]);
}

TEST_F(BackupRestoreTest, BackupOfUnknownOrDeletedKeyIsKeyNotFound) {
  auto missing = keys_->BackupKey(vault_, "nothing-here");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(missing.status().code(), "KeyNotFound");
  EXPECT_EQ(missing.status().message(), NotFoundText("nothing-here"));

  CreateKeyRequest request;
  request.name = "gone";
  request.kty = KeyType::kOct;
  ASSERT_TRUE(keys_->CreateKey(vault_, request).ok());
  ASSERT_TRUE(keys_->DeleteKey(vault_, "gone").ok());
  auto deleted = keys_->BackupKey(vault_, "gone");
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.status().code(), "KeyNotFound");
  EXPECT_EQ(deleted.status().message(), NotFoundText("gone"));
}

// ---- import

TEST_F(BackupRestoreTest, ImportRsaFromComponents) {
  auto generated = crypto::AsymmetricKey::GenerateRsa(2048);
  ASSERT_TRUE(generated.ok());
  auto imported = Import("rsa-import", RsaJwk(*generated, true), true);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->key.kty, KeyType::kRsaHsm);
  EXPECT_EQ(imported->key.params.n, generated->PublicParams().n);
  EXPECT_EQ(imported->key.params.e, generated->PublicParams().e);
  EXPECT_EQ(imported->key.key_ops, (std::vector<std::string>{"encrypt", "decrypt", "sign", "verify",
                                                             "wrapKey", "unwrapKey"}));
  auto stored = store_->GetKeyVersion(vault_.name, "rsa-import", "");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->key_type, "RSA-HSM");

  // The vault holds the very private key: what it encrypts the original opens, and back.
  const Bytes plaintext = FromHex("cafebabe");
  auto sealed = Do(vault_, "rsa-import", "", KeyOperation::kEncrypt, "RSA-OAEP-256", plaintext);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  auto opened = crypto::RsaDecrypt(*generated, crypto::RsaPadding::kOaepSha256, sealed->value);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(ToBytes(*opened), plaintext);
  auto local = crypto::RsaEncrypt(*generated, crypto::RsaPadding::kPkcs1v15, plaintext);
  ASSERT_TRUE(local.ok());
  auto remote = Do(vault_, "rsa-import", "", KeyOperation::kUnwrapKey, "RSA1_5", *local);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_EQ(ToBytes(remote->value), plaintext);

  // Without CRT parameters, and without Hsm: plain RSA.
  auto bare = Import("rsa-bare", RsaJwk(*generated, false), false);
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(bare->key.kty, KeyType::kRsa);
  Bytes digest(32, 0x77);
  auto signature = Do(vault_, "rsa-bare", "", KeyOperation::kSign, "PS256", digest);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  auto verified =
      crypto::RsaVerifyDigest(*generated, crypto::RsaSignatureScheme::kPss,
                              crypto::HashAlgorithm::kSha256, digest, ToBytes(signature->value));
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(*verified);
}

TEST_F(BackupRestoreTest, ImportEcFromComponents) {
  struct Case {
    crypto::Curve curve;
    std::string alg;
    size_t digest;
  };
  for (const auto& c :
       {Case{crypto::Curve::kP256, "ES256", 32}, Case{crypto::Curve::kP384, "ES384", 48},
        Case{crypto::Curve::kP521, "ES512", 64}, Case{crypto::Curve::kP256K, "ES256K", 32}}) {
    auto generated = crypto::AsymmetricKey::GenerateEc(c.curve);
    ASSERT_TRUE(generated.ok());
    std::string name = "ec-import-" + c.alg;
    auto imported = Import(name, EcJwk(*generated), true);
    ASSERT_TRUE(imported.ok()) << c.alg << ": " << imported.status().ToString();
    EXPECT_EQ(imported->key.kty, KeyType::kEcHsm);
    EXPECT_EQ(imported->key.params.curve, c.curve);
    EXPECT_EQ(imported->key.params.x, generated->PublicParams().x);
    EXPECT_EQ(imported->key.params.y, generated->PublicParams().y);
    EXPECT_EQ(imported->key.key_ops, (std::vector<std::string>{"sign", "verify"}));
    Bytes digest(c.digest, 0x31);
    auto signature = Do(vault_, name, "", KeyOperation::kSign, c.alg, digest);
    ASSERT_TRUE(signature.ok()) << signature.status().ToString();
    auto verified = crypto::EcdsaVerifyDigest(*generated, digest, ToBytes(signature->value));
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(*verified) << c.alg;
  }
  auto generated = crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP256);
  ASSERT_TRUE(generated.ok());
  auto soft = Import("ec-soft", EcJwk(*generated), false);
  ASSERT_TRUE(soft.ok());
  EXPECT_EQ(soft->key.kty, KeyType::kEc);
}

TEST_F(BackupRestoreTest, ImportOctKeys) {
  // NIST SP 800-38A F.2 CBC keys and their first ciphertext block.
  struct Case {
    std::string key, alg, expected;
  };
  const Bytes iv = FromHex("000102030405060708090a0b0c0d0e0f");
  const Bytes plain = FromHex("6bc1bee22e409f96e93d7e117393172a");
  for (const auto& c :
       {Case{"2b7e151628aed2a6abf7158809cf4f3c", "A128CBC", "7649abac8119b246cee98e9b12e9197d"},
        Case{"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "A192CBC",
             "4f021db243bc633d7178183a9fa071e8"},
        Case{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "A256CBC",
             "f58c4c04d6e5f1ba779eabfb5f7bfbd6"}}) {
    std::string name = "oct-" + c.alg;
    auto imported = Import(name, OctJwk(FromHex(c.key)), true);
    ASSERT_TRUE(imported.ok()) << c.alg << ": " << imported.status().ToString();
    EXPECT_EQ(imported->key.kty, KeyType::kOctHsm);
    EXPECT_EQ(imported->key.key_ops,
              (std::vector<std::string>{"encrypt", "decrypt", "wrapKey", "unwrapKey"}));
    auto stored = store_->GetKeyVersion(vault_.name, name, "");
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->key_type, "oct-HSM");
    EXPECT_TRUE(stored->public_key.empty());
    auto sealed = Do(vault_, name, "", KeyOperation::kEncrypt, c.alg, plain, iv);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    EXPECT_EQ(ToBytes(sealed->value), FromHex(c.expected)) << c.alg;
  }
  auto soft = Import("oct-soft", OctJwk(Bytes(16, 1)), false);
  ASSERT_TRUE(soft.ok());
  EXPECT_EQ(soft->key.kty, KeyType::kOct);
}

TEST_F(BackupRestoreTest, ImportWithAttributesTagsAndOps) {
  ImportKeyRequest request;
  request.name = "dressed";
  request.key = OctJwk(Bytes(32, 2));
  request.key.key_ops = std::vector<std::string>{"wrapKey", "unwrapKey"};
  request.attributes.enabled = false;
  request.attributes.expires = kNow + 10 * kDay;
  request.attributes.not_before = kNow - kDay;
  request.tags = Tags{{"z", "last"}, {"a", "first"}};
  auto imported = keys_->ImportKey(vault_, request);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->key.key_ops, (std::vector<std::string>{"wrapKey", "unwrapKey"}));
  EXPECT_FALSE(imported->attributes.enabled);
  EXPECT_EQ(imported->attributes.expires, kNow + 10 * kDay);
  EXPECT_EQ(imported->attributes.not_before, kNow - kDay);
  EXPECT_EQ(imported->attributes.created, kNow);
  EXPECT_EQ(imported->tags, (Tags{{"a", "first"}, {"z", "last"}}));
}

TEST_F(BackupRestoreTest, ImportOverActiveNameAddsVersion) {
  auto first = Import("twice", OctJwk(Bytes(16, 3)), false);
  ASSERT_TRUE(first.ok());
  auto second = Import("twice", OctJwk(Bytes(32, 4)), true);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(first->version, second->version);
  auto versions = Versions(vault_, "twice");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[1].version, second->version);
  auto latest = keys_->GetKey(vault_, "twice", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, second->version);
}

TEST_F(BackupRestoreTest, ImportInconsistentRsaIsInvalidJwk) {
  auto generated = crypto::AsymmetricKey::GenerateRsa(2048);
  ASSERT_TRUE(generated.ok());
  auto other = crypto::AsymmetricKey::GenerateRsa(2048);
  ASSERT_TRUE(other.ok());

  PrivateJsonWebKey wrong_d = RsaJwk(*generated, true);
  wrong_d.d[wrong_d.d.size() / 2] ^= 0x01;
  ExpectInvalidJwk("bad-rsa-1", wrong_d, "full components, wrong d");

  PrivateJsonWebKey wrong_d_bare = RsaJwk(*generated, false);
  wrong_d_bare.d[wrong_d_bare.d.size() / 2] ^= 0x01;
  ExpectInvalidJwk("bad-rsa-2", wrong_d_bare, "n, e, wrong d");

  PrivateJsonWebKey foreign_d = RsaJwk(*generated, false);
  foreign_d.d = RsaJwk(*other, false).d;
  ExpectInvalidJwk("bad-rsa-3", foreign_d, "d of another key");

  PrivateJsonWebKey wrong_p = RsaJwk(*generated, true);
  wrong_p.p = RsaJwk(*other, true).p;
  ExpectInvalidJwk("bad-rsa-4", wrong_p, "p of another key");

  PrivateJsonWebKey wrong_qi = RsaJwk(*generated, true);
  wrong_qi.qi[0] ^= 0x01;
  ExpectInvalidJwk("bad-rsa-5", wrong_qi, "wrong qi");

  PrivateJsonWebKey no_d = RsaJwk(*generated, false);
  no_d.d.clear();
  ExpectInvalidJwk("bad-rsa-6", no_d, "no d (public key only)");

  PrivateJsonWebKey no_n = RsaJwk(*generated, false);
  no_n.n.clear();
  ExpectInvalidJwk("bad-rsa-7", no_n, "no n");

  PrivateJsonWebKey bad_kty = RsaJwk(*generated, false);
  bad_kty.kty = "rsa";
  ExpectInvalidJwk("bad-rsa-8", bad_kty, "kty rsa (lower case)");
}

TEST_F(BackupRestoreTest, ImportRsaBelow2048BitsIsInvalidJwk) {
  EVP_PKEY* small = EVP_RSA_gen(1024);
  ASSERT_NE(small, nullptr);
  crypto::AsymmetricKey key = crypto::AsymmetricKey::Adopt(small, true);
  ExpectInvalidJwk("rsa-1024", RsaJwk(key, true), "1024-bit RSA");
}

TEST_F(BackupRestoreTest, ImportInconsistentEcIsInvalidJwk) {
  auto generated = crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP256);
  ASSERT_TRUE(generated.ok());
  auto other = crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP256);
  ASSERT_TRUE(other.ok());

  PrivateJsonWebKey off_curve = EcJwk(*generated);
  off_curve.y.back() ^= 0x01;
  ExpectInvalidJwk("bad-ec-1", off_curve, "point not on the curve");

  PrivateJsonWebKey other_point = EcJwk(*generated);
  other_point.x = other->PublicParams().x;
  other_point.y = other->PublicParams().y;
  ExpectInvalidJwk("bad-ec-2", other_point, "d does not match (x, y)");

  PrivateJsonWebKey wrong_curve = EcJwk(*generated);
  wrong_curve.crv = "P-384";
  ExpectInvalidJwk("bad-ec-3", wrong_curve, "P-256 coordinates named P-384");

  PrivateJsonWebKey unknown_curve = EcJwk(*generated);
  unknown_curve.crv = "P-999";
  ExpectInvalidJwk("bad-ec-4", unknown_curve, "unknown curve");

  PrivateJsonWebKey short_x = EcJwk(*generated);
  short_x.x.pop_back();
  ExpectInvalidJwk("bad-ec-5", short_x, "31-byte x");

  PrivateJsonWebKey no_d = EcJwk(*generated);
  no_d.d.clear();
  ExpectInvalidJwk("bad-ec-6", no_d, "no d");

  PrivateJsonWebKey long_d = EcJwk(*generated);
  long_d.d.insert(long_d.d.begin(), 0x01);
  ExpectInvalidJwk("bad-ec-7", long_d, "33-byte d");
}

TEST_F(BackupRestoreTest, ImportOctOfWrongSizeIsInvalidJwk) {
  for (size_t size :
       {size_t{0}, size_t{8}, size_t{15}, size_t{20}, size_t{31}, size_t{33}, size_t{64}}) {
    ExpectInvalidJwk("bad-oct-" + std::to_string(size), OctJwk(Bytes(size, 5)),
                     std::to_string(size) + " bytes");
  }
  PrivateJsonWebKey unknown = OctJwk(Bytes(16, 5));
  unknown.kty = "AES";
  ExpectInvalidJwk("bad-kty", unknown, "kty AES");
}

TEST_F(BackupRestoreTest, ImportOverDeletedNameIsConflict) {
  ASSERT_TRUE(Import("was-here", OctJwk(Bytes(16, 6)), false).ok());
  ASSERT_TRUE(keys_->DeleteKey(vault_, "was-here").ok());
  auto imported = Import("was-here", OctJwk(Bytes(16, 7)), false);
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.status().kind(), ErrorKind::kConflict);
  EXPECT_EQ(imported.status().code(), "Conflict");
  EXPECT_EQ(imported.status().inner_code(), "ObjectIsDeletedButRecoverable");
  EXPECT_EQ(imported.status().message(), DeletedConflictText("was-here"));
  // Still deleted with its one version.
  auto deleted = keys_->GetDeletedKey(vault_, "was-here");
  ASSERT_TRUE(deleted.ok());
  ASSERT_TRUE(keys_->RecoverDeletedKey(vault_, "was-here").ok());
  EXPECT_EQ(Versions(vault_, "was-here").size(), 1u);
}

}  // namespace
}  // namespace coffre::service
