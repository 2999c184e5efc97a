// MaterialBarrier: bindings, the sealed format existing stores hold, the key-version cache and
// backup sealing.
#include "service/material_barrier.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/aead.h"
#include "crypto/asymmetric_key.h"
#include "crypto/random.h"

namespace coffre::service {
namespace {

Bytes ToBytes(const SecureBytes& s) { return Bytes(s.begin(), s.end()); }

store::KeyVersionRecord Version(std::string vault, std::string name, std::string version,
                                std::string key_type) {
  store::KeyVersionRecord r;
  r.vault = std::move(vault);
  r.name = std::move(name);
  r.version = std::move(version);
  r.key_type = std::move(key_type);
  return r;
}

TEST(MaterialBarrierTest, KeyVersionContextIsTheStoredFormat) {
  // Existing stores hold blobs sealed with exactly this associated data.
  EXPECT_EQ(SealBinding::KeyVersion("MyVault", "My-Key", "ABC123").Context(),
            "coffre/key-material/v1\nmyvault\nmy-key\nabc123");
}

TEST(MaterialBarrierTest, OpensBlobsSealedInTheStoredFormat) {
  const SecureBytes master = crypto::RandomSecureBytes(32);
  MaterialBarrier barrier{Barrier(master)};
  const Bytes secret = crypto::RandomBytes(32);
  // What earlier builds wrote: 0x01 || AES-256-GCM under the master key itself.
  auto gcm = crypto::SealAes256Gcm(master, secret,
                                   AsBytes(std::string_view("coffre/key-material/v1\nv\nk\n01")));
  ASSERT_TRUE(gcm.ok());
  store::KeyVersionRecord r = Version("v", "K", "01", "oct");
  r.sealed_private_key.push_back(0x01);
  r.sealed_private_key.insert(r.sealed_private_key.end(), gcm->begin(), gcm->end());
  auto opened = barrier.OpenKeyVersion(r);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(ToBytes(*opened), secret);
}

TEST(MaterialBarrierTest, SealKeyVersionBindsToTheRecord) {
  MaterialBarrier barrier{Barrier(crypto::RandomSecureBytes(32))};
  store::KeyVersionRecord r = Version("v", "k", "01", "oct");
  auto sealed = barrier.SealKeyVersion(r, AsBytes(std::string_view("0123456789abcdef")));
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(barrier.Open(SealBinding::KeyVersion("V", "K", "01"), *sealed).ok());
  r.sealed_private_key = *sealed;
  EXPECT_TRUE(barrier.OpenKeyVersion(r).ok());
  r.name = "other";
  EXPECT_FALSE(barrier.OpenKeyVersion(r).ok());
  // Another purpose with the same names does not open it.
  SealBinding other_kind = SealBinding::KeyVersion("v", "k", "01");
  other_kind.purpose = "coffre/other/v1";
  EXPECT_FALSE(barrier.Open(other_kind, *sealed).ok());
}

TEST(MaterialBarrierTest, KeyMaterialIsParsedCachedAndForgotten) {
  MaterialBarrier barrier{Barrier(crypto::RandomSecureBytes(32))};
  auto ec = crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP256);
  ASSERT_TRUE(ec.ok());
  store::KeyVersionRecord r = Version("v", "k", "01", "EC");
  auto sealed = barrier.SealKeyVersion(r, ec->PrivateDer());
  ASSERT_TRUE(sealed.ok());
  r.sealed_private_key = *sealed;

  auto first = barrier.KeyMaterialOf(r);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_NE((*first)->asymmetric(), nullptr);
  EXPECT_EQ((*first)->asymmetric()->PublicDer(), ec->PublicDer());
  // Served from the cache: the stored blob is not looked at again.
  store::KeyVersionRecord damaged = r;
  damaged.sealed_private_key.back() ^= 1;
  auto cached = barrier.KeyMaterialOf(damaged);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->get(), first->get());

  barrier.ForgetKey("V", "K");
  auto reopened = barrier.KeyMaterialOf(damaged);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().message(), "A stored key could not be unsealed.");
}

TEST(MaterialBarrierTest, BackupsOpenUnderTheSameMasterKeyAndPurposeOnly) {
  const SecureBytes master = crypto::RandomSecureBytes(32);
  MaterialBarrier barrier{Barrier(master)};
  MaterialBarrier peer{Barrier(master)};
  MaterialBarrier stranger{Barrier(crypto::RandomSecureBytes(32))};
  const Bytes payload = crypto::RandomBytes(64);
  const Bytes aad = {'a', 'a', 'd'};
  auto sealed = barrier.SealBackup("coffre/key-backup/v1", payload, aad);
  ASSERT_TRUE(sealed.ok());
  auto opened = peer.OpenBackup("coffre/key-backup/v1", *sealed, aad);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(ToBytes(*opened), payload);
  EXPECT_FALSE(peer.OpenBackup("coffre/other-backup/v1", *sealed, aad).ok());
  EXPECT_FALSE(peer.OpenBackup("coffre/key-backup/v1", *sealed, Bytes{'x'}).ok());
  EXPECT_FALSE(stranger.OpenBackup("coffre/key-backup/v1", *sealed, aad).ok());
}

}  // namespace
}  // namespace coffre::service
