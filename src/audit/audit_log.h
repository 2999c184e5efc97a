// AuditLog: one JSON line per request, durable before the response is sent, hash-chained and
// keyed.
//
// Every line carries "seq" (1, 2, 3, ... across files and restarts) and "prev", the SHA-256 of
// the previous line's bytes (64 zeros before the first line), so editing, dropping, reordering
// or inserting a line breaks the chain. Its last member is "mac": an HMAC-SHA256 of the line
// without it, under a key derived from the master key, so nobody without that key can recompute
// a changed line (logs written before keyed chains, or without a key, end in "hash": an unkeyed
// SHA-256, checked as such and reported as unkeyed). After each committed group the log hands
// its head (last seq and its MAC, itself MACed) to `record_head`, which the server keeps in the
// store, outside the audit directory: lines dropped from the end then show too.
//
// What the chain proves: every line up to the anchored head is as written, in order, none
// missing. What it cannot: lines written after the last anchor (a crash between the disk sync
// and the store write) are only chained, and whoever holds the master key (or the data dir) and
// can write the store can rewrite both consistently.
//
// Files are DIR/audit-<first seq>.jsonl (zero-padded, so they sort), rotated by size; the chain
// continues across files and restarts.
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
#include "common/bytes.h"

namespace coffre::audit {

// How a log is keyed and where its head is anchored.
struct AuditChain {
  SecureBytes key;  // HMAC key (32 bytes); empty: unkeyed lines (tests, tools)
  // Stores the head text (AuditHeadText) after committed groups, on a thread of its own, the
  // newest head first (one superseded while a store write ran is skipped); errors are the
  // callback's to report (the lines are on disk already).
  std::function<void(const std::string& head)> record_head;
};

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
                                                size_t rotate_bytes = kDefaultRotateBytes,
                                                AuditChain chain = {});
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
  AuditLog(std::string directory, size_t rotate_bytes, AuditChain chain);
  void FlushLoop();
  Status OpenFileForSeq(int64_t first_seq);
  Status WriteBatch(const std::vector<std::string>& lines, int64_t first_seq);

  const std::string directory_;
  const size_t rotate_bytes_;
  const AuditChain chain_;
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
  std::string last_mac_;   // "mac" of the last line written (keyed logs)
  Status failure_;         // sticky: once writing failed, every append fails
  bool stopping_ = false;
  std::thread flusher_;

  // The head waiting to be recorded: the anchor thread writes the newest one, so a slow store
  // write never holds up the next group's sync (heads it had no time for are superseded).
  void AnchorLoop();
  std::mutex anchor_mutex_;
  std::condition_variable anchor_ready_;
  std::string pending_head_;
  bool anchor_stopping_ = false;
  std::thread anchorer_;
};

// The result of checking files of the chain, in order.
struct VerifyResult {
  bool ok = true;
  int64_t lines = 0;
  int64_t unkeyed_lines = 0;  // lines with only an unkeyed hash (written before keyed chains)
  int64_t anchored_seq = 0;   // the head the anchor vouched for (0: no anchor checked)
  std::string problem;        // "FILE:LINE: what is wrong" for the first bad line
};

struct VerifyOptions {
  // The files are a later segment: the first need not start at seq 1.
  bool allow_partial = false;
  SecureBytes key;  // the chain key; keyed lines cannot be checked without it
  // The head recorded in the store (AuditHeadText), if any: the files must reach it, and the
  // line at its seq must be the one it names.
  std::string head;
};

// Checks that each line is valid JSON with seq and prev, that its MAC (or, for lines written
// before keyed chains, its hash) matches, that seq goes up by one and that prev is the SHA-256
// of the line before it (across files in the order given), and that no unkeyed line follows a
// keyed one. The first line of the first file must have seq 1 and an all-zero prev unless
// allow_partial.
VerifyResult VerifyAuditFiles(const std::vector<std::string>& files, const VerifyOptions& options);
VerifyResult VerifyAuditFiles(const std::vector<std::string>& files, bool allow_partial = false);

// The anchor text for a head: "v1:<seq>:<mac>:<tag>", tag an HMAC of the rest under `key`, so
// it cannot be moved back to an earlier line without the key.
std::string AuditHeadText(ByteSpan key, int64_t seq, const std::string& mac);
// The setting name under which a server keeps the head of the log in `directory` (absolute).
std::string AuditHeadSetting(const std::string& directory);

}  // namespace coffre::audit
