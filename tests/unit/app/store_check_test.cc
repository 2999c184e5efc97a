// `coffre store check` (app/store_check.h) against sound and deliberately damaged stores, on both
// backends: a sealed blob with a flipped byte, a blob moved to another row, a swapped public key,
// deleted version rows, the wrong master key, a newer schema.
#include "app/store_check.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../store/store_test_support.h"
#include "crypto/asymmetric_key.h"
#include "gtest/gtest.h"
#include "service/material_barrier.h"
#include "store/store.h"

namespace coffre::app {
namespace {

using store::storetest::Backend;
using store::storetest::TestDatabase;

SecureBytes MasterKey(uint8_t fill) { return SecureBytes(32, fill); }

std::string Hex(const Bytes& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::string VersionId(int n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%032x", n);
  return buf;
}

// Key pairs are slow to make: one of each kind for the whole test binary.
const crypto::AsymmetricKey& RsaKey() {
  static const crypto::AsymmetricKey key = crypto::AsymmetricKey::GenerateRsa(2048).value();
  return key;
}
const crypto::AsymmetricKey& EcKey() {
  static const crypto::AsymmetricKey key =
      crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP256).value();
  return key;
}

class StoreCheckTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto opened = db_->Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    for (const char* name : {"dev", "other"}) {
      store::VaultRecord vault;
      vault.name = name;
      ASSERT_TRUE(store_->PutVault(vault).ok());
    }
    Add("dev", "rsa1", 1, "RSA");
    Add("dev", "ec1", 2, "EC");
    Add("dev", "ec1", 3, "EC-HSM");
    Add("dev", "oct1", 4, "oct");
    Add("dev", "gone", 5, "EC");
    Add("other", "ec2", 6, "EC");
    ASSERT_TRUE(store_->DeleteKey("dev", "gone", 100, 200).ok());
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    std::error_code ec;
    if (!key_dir_.empty()) std::filesystem::remove_all(key_dir_, ec);
  }

  bool postgres() const { return GetParam() == Backend::kPostgres; }

  void Add(const std::string& vault, const std::string& name, int n, const std::string& type) {
    store::KeyVersionRecord r;
    r.vault = vault;
    r.name = name;
    r.version = VersionId(n);
    r.key_type = type;
    r.key_ops = {"sign"};
    r.created = r.updated = 1000;
    SecureBytes secret;
    if (type == "oct") {
      secret = SecureBytes(32, static_cast<uint8_t>(0xa0 + n));
      oct_secret_ = Bytes(secret.begin(), secret.end());
    } else {
      const crypto::AsymmetricKey& key = type == "RSA" ? RsaKey() : EcKey();
      secret = key.PrivateDer();
      r.public_key = key.PublicDer();
    }
    auto sealed = barrier_.Seal(service::SealBinding::KeyVersion(vault, name, r.version), secret);
    ASSERT_TRUE(sealed.ok());
    r.sealed_private_key = *sealed;
    Status added = store_->AddKeyVersion(r);
    ASSERT_TRUE(added.ok()) << added.ToString();
    records_[n] = r;
  }

  // Overwrites a BYTEA/BLOB column of version n's row, as damage or an attacker might.
  void SetColumn(const std::string& column, int n, const Bytes& value) {
    std::string literal = postgres() ? "'\\x" + Hex(value) + "'::bytea" : "X'" + Hex(value) + "'";
    Status s = db_->Exec("UPDATE key_versions SET " + column + " = " + literal +
                         " WHERE version = '" + VersionId(n) + "'");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void FlipSealedByte(int n, size_t at) {
    Bytes blob = records_[n].sealed_private_key;
    ASSERT_LT(at, blob.size());
    blob[at] ^= 0x01;
    SetColumn("sealed_private_key", n, blob);
  }

  StoreCheckReport Check(uint8_t master_fill = 0x11) {
    service::MaterialBarrier barrier{service::Barrier(MasterKey(master_fill))};
    // A small page, so the scan crosses page boundaries.
    auto report = CheckStore(*store_, barrier, 2);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : StoreCheckReport{};
  }

  static bool Mentions(const StoreCheckReport& report, const std::string& text) {
    return std::any_of(report.problems.begin(), report.problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  }

  // Writes a master key file for the command; returns its path.
  std::string WriteMasterKey(uint8_t fill) {
    if (key_dir_.empty()) {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "coffre-check-key-XXXXXX").string();
      EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
      key_dir_ = tmpl;
    }
    std::string path = key_dir_ + "/master-" + std::to_string(fill) + ".key";
    std::ofstream(path) << Hex(Bytes(32, fill)) << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
  }

  // Runs the command on this database; returns the exit code, output in out_/err_.
  int RunCommand(const std::string& master_key_file) {
    StoreCheckConfig config;
    if (postgres()) {
      config.storage = db_->url();
      config.data_dir = key_dir_;
    } else {
      // The SQLite test database is DIR/coffre.db: the command's default place in DIR.
      const std::string path = db_->url().substr(std::string("sqlite:").size());
      config.data_dir = std::filesystem::path(path).parent_path().string();
    }
    config.master_key_file = master_key_file;
    std::ostringstream out;
    std::ostringstream err;
    int code = StoreCheckCommand(config, out, err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  service::MaterialBarrier barrier_{service::Barrier(MasterKey(0x11))};
  std::map<int, store::KeyVersionRecord> records_;
  Bytes oct_secret_;
  std::string key_dir_;
  std::string out_;
  std::string err_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreCheckTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         store::storetest::BackendName);

TEST_P(StoreCheckTest, SoundStorePasses) {
  StoreCheckReport report = Check();
  EXPECT_TRUE(report.ok()) << ::testing::PrintToString(report.problems);
  EXPECT_EQ(report.keys, 5);
  EXPECT_EQ(report.deleted_keys, 1);
  EXPECT_EQ(report.versions, 6);
  EXPECT_EQ(report.unopened, 0);
}

TEST_P(StoreCheckTest, ChecksEverySealedSecretValue) {
  for (int n : {1, 2, 3}) {
    store::SecretVersionRecord r;
    r.vault = "dev";
    r.name = n == 3 ? "other-secret" : "db-password";
    r.version = VersionId(10 + n);
    SecureBytes value(16, static_cast<uint8_t>(n));
    auto sealed =
        barrier_.Seal(service::SealBinding::SecretVersion("dev", r.name, r.version), value);
    ASSERT_TRUE(sealed.ok());
    r.sealed_value = *sealed;
    ASSERT_TRUE(store_->AddSecretVersion(r).ok());
  }
  ASSERT_TRUE(store_->DeleteSecret("dev", "other-secret", 1, 2).ok());
  StoreCheckReport report = Check();
  EXPECT_TRUE(report.ok()) << ::testing::PrintToString(report.problems);
  EXPECT_EQ(report.secrets, 2);
  EXPECT_EQ(report.secret_versions, 3);

  // A value moved to another version's row does not open there.
  Status moved = db_->Exec(
      "UPDATE secret_versions SET sealed_value = (SELECT sealed_value FROM "
      "secret_versions WHERE version = '" +
      VersionId(11) + "') WHERE version = '" + VersionId(12) + "'");
  ASSERT_TRUE(moved.ok()) << moved.ToString();
  report = Check();
  EXPECT_EQ(report.unopened_secrets, 1);
  EXPECT_EQ(report.problems, std::vector<std::string>{"secret dev/db-password/" + VersionId(12) +
                                                      ": sealed value does not open with this "
                                                      "master key"});
  EXPECT_EQ(Check(0x22).unopened_secrets, 3);  // the wrong master key
}

TEST_P(StoreCheckTest, FindsAFlippedByteInASealedKey) {
  // In the version byte, the nonce, the ciphertext and the tag.
  for (size_t at : {size_t{0}, size_t{5}, size_t{30}, records_[2].sealed_private_key.size() - 1}) {
    FlipSealedByte(2, at);
    StoreCheckReport report = Check();
    EXPECT_EQ(report.unopened, 1) << at;
    EXPECT_EQ(report.problems,
              std::vector<std::string>{"key dev/ec1 version " + VersionId(2) +
                                       ": sealed private key does not open with this master key"})
        << at;
    SetColumn("sealed_private_key", 2, records_[2].sealed_private_key);
  }
  EXPECT_TRUE(Check().ok());
}

TEST_P(StoreCheckTest, FindsDamageInSoftDeletedKeys) {
  FlipSealedByte(5, 40);
  StoreCheckReport report = Check();
  EXPECT_TRUE(Mentions(report, "key dev/gone version " + VersionId(5) + " (soft-deleted)"))
      << ::testing::PrintToString(report.problems);
  EXPECT_EQ(report.unopened, 1);
}

TEST_P(StoreCheckTest, FindsASealedKeyMovedToAnotherRow) {
  // Same key, another version; and another key in another vault. Both blobs are intact.
  SetColumn("sealed_private_key", 3, records_[2].sealed_private_key);
  SetColumn("sealed_private_key", 6, records_[1].sealed_private_key);
  StoreCheckReport report = Check();
  EXPECT_EQ(report.unopened, 2);
  EXPECT_TRUE(Mentions(report, "key dev/ec1 version " + VersionId(3) + ": sealed private key"))
      << ::testing::PrintToString(report.problems);
  EXPECT_TRUE(Mentions(report, "key other/ec2 version " + VersionId(6) + ": sealed private key"))
      << ::testing::PrintToString(report.problems);
  EXPECT_FALSE(Mentions(report, VersionId(2))) << ::testing::PrintToString(report.problems);
}

TEST_P(StoreCheckTest, FindsAPublicKeyThatDoesNotMatch) {
  SetColumn("public_key", 1, EcKey().PublicDer());
  StoreCheckReport report = Check();
  EXPECT_EQ(report.problems,
            std::vector<std::string>{"key dev/rsa1 version " + VersionId(1) +
                                     ": stored public key does not match the private key"});
  EXPECT_EQ(report.unopened, 0);
}

TEST_P(StoreCheckTest, FindsATruncatedSealedKey) {
  SetColumn("sealed_private_key", 4, Bytes{0x01});
  StoreCheckReport report = Check();
  EXPECT_TRUE(Mentions(report, "key dev/oct1 version " + VersionId(4)))
      << ::testing::PrintToString(report.problems);
}

TEST_P(StoreCheckTest, FindsDeletedVersionRows) {
  ASSERT_TRUE(db_->Exec("DELETE FROM key_versions WHERE version = '" + VersionId(1) + "'").ok());
  ASSERT_TRUE(db_->Exec("DELETE FROM key_versions WHERE version = '" + VersionId(3) + "'").ok());
  StoreCheckReport report = Check();
  EXPECT_TRUE(Mentions(report, "key dev/rsa1 has no versions"))
      << ::testing::PrintToString(report.problems);
  EXPECT_TRUE(Mentions(report,
                       "key dev/ec1: next sequence 3 does not follow its latest "
                       "version's sequence 1"))
      << ::testing::PrintToString(report.problems);
  EXPECT_EQ(report.versions, 4);
}

TEST_P(StoreCheckTest, FindsTheWrongMasterKey) {
  StoreCheckReport report = Check(0x22);
  EXPECT_EQ(report.versions, 6);
  EXPECT_EQ(report.unopened, 6);
  EXPECT_TRUE(Mentions(report, "no sealed private key opens: is this the master key"))
      << ::testing::PrintToString(report.problems);
}

TEST_P(StoreCheckTest, CommandPassesASoundStore) {
  store_.reset();
  EXPECT_EQ(RunCommand(WriteMasterKey(0x11)), 0) << out_ << err_;
  EXPECT_NE(out_.find("keys: 5 (1 soft-deleted), versions: 6"), std::string::npos) << out_;
  EXPECT_NE(out_.find("store check: OK"), std::string::npos) << out_;
  EXPECT_EQ(out_.find("PROBLEM"), std::string::npos) << out_;
  // Never the connection URL (it may hold a password).
  if (postgres()) {
    EXPECT_EQ(out_.find("postgresql://"), std::string::npos) << out_;
  }
}

TEST_P(StoreCheckTest, CommandFailsOnDamageAndShowsNoKeyMaterial) {
  FlipSealedByte(4, 10);
  SetColumn("public_key", 6, RsaKey().PublicDer());
  store_.reset();
  EXPECT_EQ(RunCommand(WriteMasterKey(0x11)), 1) << out_ << err_;
  EXPECT_NE(out_.find("PROBLEM: key dev/oct1 version " + VersionId(4)), std::string::npos) << out_;
  EXPECT_NE(out_.find("PROBLEM: key other/ec2 version " + VersionId(6)), std::string::npos) << out_;
  EXPECT_NE(out_.find("store check: DAMAGED, 2 problems"), std::string::npos) << out_;
  const std::string all = out_ + err_;
  EXPECT_EQ(all.find(Hex(oct_secret_)), std::string::npos);
  EXPECT_EQ(all.find(Hex(records_[4].sealed_private_key).substr(0, 24)), std::string::npos);
}

TEST_P(StoreCheckTest, CommandFailsWithTheWrongMasterKey) {
  store_.reset();
  EXPECT_EQ(RunCommand(WriteMasterKey(0x33)), 1) << out_ << err_;
  EXPECT_NE(out_.find("sealed keys that do not open: 6"), std::string::npos) << out_;
}

TEST_P(StoreCheckTest, CommandCreatesNoMasterKey) {
  store_.reset();
  WriteMasterKey(0x11);
  const std::string missing = key_dir_ + "/absent.key";
  EXPECT_EQ(RunCommand(missing), 1);
  EXPECT_NE(err_.find("does not exist"), std::string::npos) << err_;
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_P(StoreCheckTest, CommandRefusesANewerSchema) {
  store_.reset();
  ASSERT_TRUE(db_->SetFutureSchemaVersion().ok());
  EXPECT_EQ(RunCommand(WriteMasterKey(0x11)), 1);
  EXPECT_NE(err_.find("newer than this build supports"), std::string::npos) << err_;
}

TEST(StoreCheckCommandTest, CreatesNoStore) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-check-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  StoreCheckConfig config;
  config.data_dir = tmpl;
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(StoreCheckCommand(config, out, err), 1);
  EXPECT_NE(err.str().find("no store at"), std::string::npos) << err.str();
  EXPECT_TRUE(std::filesystem::is_empty(tmpl));
  config.storage = "mysql://x";
  EXPECT_EQ(StoreCheckCommand(config, out, err), 1);
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace coffre::app
