#include "app/data_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/random.h"

namespace coffre::app {

std::string JoinPath(const std::string& dir, std::string_view name) {
  return (std::filesystem::path(dir) / std::string(name)).string();
}

Status RequireExistingStore(const std::string& data_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    return Status::BadParameter(
        "The data dir " + data_dir +
        " does not exist. Give the --data-dir of the server (it creates its "
        "data dir on first start: coffre server --dev --data-dir DIR).");
  }
  const std::string db = JoinPath(data_dir, "coffre.db");
  if (!std::filesystem::is_regular_file(db, ec) || std::filesystem::file_size(db, ec) == 0 || ec) {
    return Status::BadParameter("The data dir " + data_dir +
                                " holds no Coffre store (no coffre.db). Give the --data-dir of the "
                                "server, which creates the store on first start.");
  }
  return Status::Ok();
}

Status EnsurePrivateDirectory(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::Internal("Cannot create directory " + path + ": " + ec.message());
  if (::chmod(path.c_str(), 0700) != 0) {
    return Status::Internal("Cannot set the mode of " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, std::string_view content, int mode) {
  std::string temp = path + ".tmp-" + crypto::RandomHex(6);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::Internal("Cannot create " + temp + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(temp.c_str());
      return Status::Internal("Cannot write " + temp + ": " + std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(temp.c_str());
    return Status::Internal("Cannot sync " + temp + ": " + std::strerror(errno));
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Status::Internal("Cannot rename " + temp + ": " + std::strerror(errno));
  }
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

Result<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::optional<std::string>{};
    return Status::Internal("Cannot read " + path);
  }
  std::ostringstream content;
  content << in.rdbuf();
  return std::optional<std::string>{content.str()};
}

Result<std::optional<std::string>> ReadPrivateFileIfExists(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return Status::Internal("Cannot read " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::Internal(path + " is readable by group or others; run chmod 600 " + path);
  }
  return ReadFileIfExists(path);
}

}  // namespace coffre::app
