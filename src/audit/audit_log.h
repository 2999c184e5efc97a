// AuditLog: one JSON line per request, durable before the response is sent, hash-chained.
//
// Every line carries "seq" (1, 2, 3, ... across files and restarts) and "prev", the SHA-256 of
// the previous line's bytes (64 zeros before the first line), so editing, dropping, reordering
// or inserting a line breaks the chain. Files are DIR/audit-<first seq>.jsonl (zero-padded, so
// they sort), rotated by size; the chain continues across files and restarts.
//
// Appends from many threads are group-committed: a flusher thread writes what has queued and
// syncs once, then completes every append whose line is on disk. The asynchronous form lets the
// server answer a request from that completion instead of parking a thread per sync.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "coffre/status.h"

namespace coffre::audit {

struct AuditRecord {
  int64_t time_ms = 0;  // unix milliseconds
  std::string request_id;
  std::string caller_object_id;
  std::string caller_app_id;
  std::string client_address;
  std::string vault;
  std::string operation;  // e.g. "CreateKey", "Decrypt", "VaultCreate"
  std::string key_name;
  std::string key_version;
  int status = 0;
  double latency_ms = 0;
};

class AuditLog {
 public:
  static constexpr size_t kDefaultRotateBytes = 64 * 1024 * 1024;

  // Opens (creating) the directory and continues the chain from the newest file's last line.
  // A damaged last line is an error: the log refuses to start rather than fork the chain.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& directory,
                                                size_t rotate_bytes = kDefaultRotateBytes);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line and returns once it is on disk. An error means it is not: the caller
  // must not report success for the request.
  Status Append(const AuditRecord& record);
  // Queues one line; `done` runs once with OK when the line is on disk, or with the error that
  // kept it off. It runs on the log's writer thread (or at once, on the caller's, if the log has
  // already failed or is closed), so it must be short and must not call back into the log.
  void AppendAsync(const AuditRecord& record, std::function<void(Status)> done);
  // OK until a write or sync has failed; from then on the error, for good (every later append
  // fails too, so callers refuse work up front rather than run it unaudited).
  Status Health();

  const std::string& directory() const { return directory_; }

 private:
  AuditLog(std::string directory, size_t rotate_bytes);
  void FlushLoop();
  Status OpenFileForSeq(int64_t first_seq);
  Status WriteBatch(const std::vector<std::string>& lines, int64_t first_seq);

  const std::string directory_;
  const size_t rotate_bytes_;
  int fd_ = -1;
  size_t file_bytes_ = 0;

  std::mutex mutex_;
  std::condition_variable queued_;
  struct Pending {
    AuditRecord record;
    std::function<void(Status)> done;
  };
  std::deque<Pending> pending_;
  int64_t next_seq_ = 1;   // seq of the next line to be written
  std::string prev_hash_;  // hex SHA-256 of the last line written
  Status failure_;         // sticky: once writing failed, every append fails
  bool stopping_ = false;
  std::thread flusher_;
};

// The result of checking files of the chain, in order.
struct VerifyResult {
  bool ok = true;
  int64_t lines = 0;
  std::string problem;  // "FILE:LINE: what is wrong" for the first bad line
};

// Checks that each line is valid JSON with seq and prev, that seq goes up by one and that prev
// is the SHA-256 of the line before it (across files in the order given). The first line of the
// first file must have seq 1 and an all-zero prev unless `allow_partial` (a later segment).
VerifyResult VerifyAuditFiles(const std::vector<std::string>& files, bool allow_partial = false);

}  // namespace coffre::audit
