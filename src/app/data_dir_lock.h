// One server per data dir: the server holds an exclusive flock on DATA_DIR/server.lock for its
// whole life, so that a second server on the same data dir refuses to start instead of rewriting
// dev.env, the admin token and the dev certificate under the first. The kernel drops the lock
// when the process ends, however it ends (kill -9 included), so a stale file never blocks.
#pragma once

#include <string>

#include "coffre/status.h"

namespace coffre::app {

class DataDirLock {
 public:
  // Creates the data dir if needed, then takes the lock and writes this process's PID into the
  // file. Fails with "data dir DIR in use by PID N" when another process holds it.
  static Result<DataDirLock> Acquire(const std::string& data_dir);

  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&&) = delete;
  DataDirLock(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace coffre::app
