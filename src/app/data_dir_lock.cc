#include "app/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "app/data_dir.h"

namespace coffre::app {
namespace {

// The PID the holder wrote, or "" if the file holds none (yet).
std::string HolderPid(int fd) {
  char buffer[32] = {};
  ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && buffer[i] >= '0' && buffer[i] <= '9'; ++i) pid += buffer[i];
  return pid;
}

}  // namespace

Result<DataDirLock> DataDirLock::Acquire(const std::string& data_dir) {
  COFFRE_RETURN_IF_ERROR(EnsurePrivateDirectory(data_dir));
  const std::string path = JoinPath(data_dir, "server.lock");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Internal("Cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    std::string pid = error == EWOULDBLOCK ? HolderPid(fd) : "";
    ::close(fd);
    if (error != EWOULDBLOCK) {
      return Status::Internal("Cannot lock " + path + ": " + std::strerror(error));
    }
    return Status::Conflict("data dir " + data_dir + " in use by PID " +
                            (pid.empty() ? std::string("(unknown)") : pid) +
                            ": another coffre server runs on it. Stop that server or give this "
                            "one another --data-dir.");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int error = errno;
    ::close(fd);
    return Status::Internal("Cannot write " + path + ": " + std::strerror(error));
  }
  return DataDirLock(fd);
}

DataDirLock::~DataDirLock() {
  // Closing the descriptor releases the lock; the file stays (removing it would race with a
  // server that just opened it).
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace coffre::app
