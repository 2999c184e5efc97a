#include "service/barrier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/base64url.h"
#include "crypto/random.h"
#include "service/material_barrier.h"

namespace coffre::service {
namespace {

Bytes ToBytes(const SecureBytes& s) { return Bytes(s.begin(), s.end()); }

// The associated data of one key version's private key.
std::string KeyContext(std::string_view vault, std::string_view name, std::string_view version) {
  return SealBinding::KeyVersion(vault, name, version).Context();
}

class BarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/coffre-barrier-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/master.key";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteFile(const std::string& content, mode_t mode) {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(fd);
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }

  mode_t FileMode() {
    struct stat st = {};
    EXPECT_EQ(::stat(path_.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  // Whether a blob sealed by `a` opens with `b` (i.e. both hold the same key).
  static bool SameKey(const Barrier& a, const Barrier& b) {
    auto sealed = a.Seal(AsBytes("probe"), "ctx");
    if (!sealed.ok()) return false;
    auto opened = b.Open(*sealed, "ctx");
    return opened.ok() && ToBytes(*opened) == Bytes{'p', 'r', 'o', 'b', 'e'};
  }

  std::string dir_;
  std::string path_;
};

TEST_F(BarrierTest, RoundTrip) {
  Barrier barrier(crypto::RandomSecureBytes(32));
  const Bytes secret = crypto::RandomBytes(200);
  const std::string ctx = KeyContext("vault", "key", "0123abcd");
  auto sealed = barrier.Seal(secret, ctx);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  ASSERT_EQ(sealed->size(), 1 + 12 + secret.size() + 16);
  EXPECT_EQ((*sealed)[0], 0x01);
  auto opened = barrier.Open(*sealed, ctx);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(ToBytes(*opened), secret);
}

TEST_F(BarrierTest, WrongContextOrFormatFails) {
  Barrier barrier(crypto::RandomSecureBytes(32));
  auto sealed = barrier.Seal(AsBytes("key material"), KeyContext("v", "a", "1"));
  ASSERT_TRUE(sealed.ok());
  EXPECT_FALSE(barrier.Open(*sealed, KeyContext("v", "b", "1")).ok());
  EXPECT_FALSE(barrier.Open(*sealed, KeyContext("v", "a", "2")).ok());
  EXPECT_FALSE(barrier.Open(*sealed, KeyContext("w", "a", "1")).ok());
  EXPECT_FALSE(barrier.Open(*sealed, "").ok());

  Bytes wrong_version = *sealed;
  wrong_version[0] = 0x02;
  auto opened = barrier.Open(wrong_version, KeyContext("v", "a", "1"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message(), "unable to open sealed data");
  EXPECT_FALSE(barrier.Open({}, KeyContext("v", "a", "1")).ok());
  EXPECT_FALSE(
      barrier.Open(ByteSpan(sealed->data() + 1, sealed->size() - 1), KeyContext("v", "a", "1"))
          .ok());

  Barrier other(crypto::RandomSecureBytes(32));
  EXPECT_FALSE(other.Open(*sealed, KeyContext("v", "a", "1")).ok());
}

TEST_F(BarrierTest, ContextIsCaseInsensitiveAndUnambiguous) {
  EXPECT_EQ(KeyContext("MyVault", "MyKey", "abc"), KeyContext("myvault", "MYKEY", "abc"));
  const std::string ctx = KeyContext("MyVault", "MyKey", "abc");
  EXPECT_EQ(ctx.rfind("coffre/key-material/v1", 0), 0u);
  EXPECT_EQ(ctx.find('M'), std::string::npos);
  EXPECT_NE(KeyContext("a", "b-c", "1"), KeyContext("a-b", "c", "1"));
  EXPECT_NE(KeyContext("ab", "c", "1"), KeyContext("a", "bc", "1"));

  Barrier barrier(crypto::RandomSecureBytes(32));
  auto sealed = barrier.Seal(AsBytes("x"), KeyContext("Vault1", "Key-A", "v1"));
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(barrier.Open(*sealed, KeyContext("vault1", "KEY-a", "v1")).ok());
}

TEST_F(BarrierTest, CreatesKeyFileWithMode0600AndReloads) {
  // Even with a permissive umask the file must be private.
  mode_t old_umask = ::umask(0);
  auto created = Barrier::LoadOrCreate(path_);
  ::umask(old_umask);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(FileMode(), 0600);
  EXPECT_EQ(std::filesystem::file_size(path_), 32u);

  auto reloaded = Barrier::LoadOrCreate(path_);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_TRUE(SameKey(*created, *reloaded));
  EXPECT_TRUE(SameKey(*reloaded, *created));

  // A different file gives a different key.
  auto other = Barrier::LoadOrCreate(dir_ + "/other.key");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(SameKey(*created, *other));
}

TEST_F(BarrierTest, RefusesFileReadableByOthers) {
  const SecureBytes key = crypto::RandomSecureBytes(32);
  const std::string hex = HexEncode(key);
  WriteFile(hex, 0644);
  auto loaded = Barrier::LoadOrCreate(path_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find(path_), std::string::npos);
  EXPECT_EQ(loaded.status().message().find(hex), std::string::npos);
  // The file is left alone (not replaced with a new key).
  std::ifstream in(path_);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, hex);

  ASSERT_EQ(::chmod(path_.c_str(), 0640), 0);
  EXPECT_FALSE(Barrier::LoadOrCreate(path_).ok());
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  EXPECT_TRUE(Barrier::LoadOrCreate(path_).ok());
}

TEST_F(BarrierTest, AcceptsHexFile) {
  const SecureBytes key = crypto::RandomSecureBytes(32);
  Barrier direct{SecureBytes(key)};
  for (const std::string& content : {HexEncode(key), HexEncode(key) + "\n", [&] {
                                       std::string upper = HexEncode(key);
                                       for (char& c : upper) c = static_cast<char>(std::toupper(c));
                                       return upper;
                                     }()}) {
    WriteFile(content, 0600);
    auto loaded = Barrier::LoadOrCreate(path_);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_TRUE(SameKey(direct, *loaded));
  }
  // Raw 32 bytes work too.
  WriteFile(std::string(key.begin(), key.end()), 0600);
  auto raw = Barrier::LoadOrCreate(path_);
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE(SameKey(direct, *raw));
}

TEST_F(BarrierTest, RejectsMalformedFile) {
  const std::string hex = HexEncode(crypto::RandomBytes(32));
  for (const std::string& content :
       {std::string(), std::string(31, 'x'), std::string(33, 'x'), hex.substr(0, 63), hex + "0",
        hex + "\n\n", hex + " ", hex + "\r\n", "g" + hex.substr(1), std::string(100, 'a')}) {
    WriteFile(content, 0600);
    auto loaded = Barrier::LoadOrCreate(path_);
    EXPECT_FALSE(loaded.ok()) << content.size();
  }
}

TEST_F(BarrierTest, MissingDirectoryFails) {
  auto loaded = Barrier::LoadOrCreate(dir_ + "/no/such/dir/master.key");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().kind(), ErrorKind::kInternal);
}

TEST_F(BarrierTest, WrongSizedKeyFailsCleanly) {
  Barrier barrier(crypto::RandomSecureBytes(16));
  EXPECT_FALSE(barrier.Seal(AsBytes("x"), "ctx").ok());
}

}  // namespace
}  // namespace coffre::service
