#include "service/barrier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "crypto/aead.h"
#include "crypto/digest.h"
#include "crypto/random.h"

namespace coffre::service {
namespace {

constexpr uint8_t kFormatVersion = 0x01;
constexpr size_t kMasterKeySize = crypto::kAes256KeySize;

// Same error as the AEAD layer, so the version byte check reveals nothing more.
Status OpenError() { return Status::BadParameter("unable to open sealed data"); }

std::string ErrnoText() { return std::strerror(errno); }

int HexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting failure (a failed close after write can mean lost data).
  bool Close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

std::string ParentDirectory(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool WriteAll(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Creates the key file with a fresh key. O_EXCL makes a concurrent creator lose cleanly (it
// then loads the winner's key) and refuses to follow a planted symlink. Returns nullopt if the
// file appeared in the meantime.
Result<std::optional<SecureBytes>> CreateKeyFile(const std::string& path) {
  int raw_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (raw_fd < 0) {
    if (errno == EEXIST) return std::optional<SecureBytes>();
    return Status::Internal("cannot create master key file " + path + ": " + ErrnoText());
  }
  Fd fd(raw_fd);
  SecureBytes key = crypto::RandomSecureBytes(kMasterKeySize);
  // A partly written file would be loaded as a wrong key on the next start; remove it instead.
  auto fail = [&path](const std::string& what) -> Status {
    std::string message = "cannot " + what + " master key file " + path + ": " + ErrnoText();
    ::unlink(path.c_str());
    return Status::Internal(message);
  };
  // The umask can only remove bits from 0600, but make the mode explicit anyway.
  if (::fchmod(fd.get(), 0600) != 0) return fail("set mode of");
  if (!WriteAll(fd.get(), key.data(), key.size())) return fail("write");
  if (::fsync(fd.get()) != 0) return fail("sync");
  if (!fd.Close()) return fail("close");
  // Make the new directory entry durable too, or a crash could lose the key while the data
  // sealed with it survives.
  Fd dir(::open(ParentDirectory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
    return fail("sync the directory of");
  }
  return std::optional<SecureBytes>(std::move(key));
}

// Loads an existing key file. Returns nullopt if it does not exist.
Result<std::optional<SecureBytes>> ReadKeyFile(const std::string& path) {
  // Symlinks are followed on purpose: secret mounts (e.g. Kubernetes) are symlinks, and the
  // mode check below applies to the target.
  int raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw_fd < 0) {
    if (errno == ENOENT) return std::optional<SecureBytes>();
    return Status::Internal("cannot open master key file " + path + ": " + ErrnoText());
  }
  Fd fd(raw_fd);
  struct stat st = {};
  if (::fstat(fd.get(), &st) != 0) {
    return Status::Internal("cannot stat master key file " + path + ": " + ErrnoText());
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::Internal("master key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::Internal("master key file " + path +
                            " is accessible by group or others; restrict it with chmod 600");
  }

  // Longest accepted form: 64 hex characters and a newline. Read one byte more to notice a
  // longer file.
  constexpr size_t kMaxFileSize = 2 * kMasterKeySize + 1;
  SecureBytes content(kMaxFileSize + 1);
  size_t size = 0;
  while (size < content.size()) {
    ssize_t n = ::read(fd.get(), content.data() + size, content.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal("cannot read master key file " + path + ": " + ErrnoText());
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }

  const Status bad_format = Status::Internal(
      "master key file " + path + " must hold 32 raw bytes or 64 hexadecimal characters");
  if (size == kMasterKeySize) {
    content.resize(kMasterKeySize);
    return std::optional<SecureBytes>(std::move(content));
  }
  size_t hex_size = size;
  if (hex_size == 2 * kMasterKeySize + 1 && content[hex_size - 1] == '\n') --hex_size;
  if (hex_size != 2 * kMasterKeySize) return bad_format;
  SecureBytes key(kMasterKeySize);
  for (size_t i = 0; i < kMasterKeySize; ++i) {
    int hi = HexValue(content[2 * i]);
    int lo = HexValue(content[2 * i + 1]);
    if (hi < 0 || lo < 0) return bad_format;
    key[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return std::optional<SecureBytes>(std::move(key));
}

}  // namespace

Barrier::Barrier(SecureBytes master_key) : master_key_(std::move(master_key)) {}

Result<Barrier> Barrier::LoadOrCreate(const std::string& path) {
  // Two rounds: if another process creates the file between our read and our create, the
  // second read picks up its key.
  for (int attempt = 0; attempt < 2; ++attempt) {
    COFFRE_ASSIGN_OR_RETURN(std::optional<SecureBytes> key, ReadKeyFile(path));
    if (key) return Barrier(std::move(*key));
    COFFRE_ASSIGN_OR_RETURN(std::optional<SecureBytes> created, CreateKeyFile(path));
    if (created) return Barrier(std::move(*created));
  }
  return Status::Internal("cannot load or create master key file " + path);
}

Result<Bytes> Barrier::Seal(ByteSpan plaintext, std::string_view context) const {
  COFFRE_ASSIGN_OR_RETURN(Bytes sealed,
                          crypto::SealAes256Gcm(master_key_, plaintext, AsBytes(context)));
  Bytes out;
  out.reserve(1 + sealed.size());
  out.push_back(kFormatVersion);
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<SecureBytes> Barrier::Open(ByteSpan sealed, std::string_view context) const {
  if (sealed.empty() || sealed[0] != kFormatVersion) return OpenError();
  return crypto::OpenAes256Gcm(master_key_, sealed.subspan(1), AsBytes(context));
}

SecureBytes Barrier::DeriveKey(std::string_view purpose) const {
  return crypto::HkdfSha256(master_key_, purpose, crypto::kAes256KeySize);
}

}  // namespace coffre::service
