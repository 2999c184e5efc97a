// Reading the audit log back: the lines that match a filter (the admin API's audit route, the
// web console's audit page), a per-operation summary of request counts and latency (the
// console's dashboard), and the chain check that `coffre audit verify` does, against the live
// log directory. Lines name keys and secrets but never hold their values, so nothing read here
// is secret; who may read it is the caller's decision (the admin API asks for the admin token).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "common/bytes.h"

namespace coffre::audit {

// Where a running server's log is and how to check it.
struct AuditSource {
  std::string directory;
  SecureBytes key;                    // the chain key (empty: unkeyed lines only)
  std::function<std::string()> head;  // the head anchored in the store ("" if none)
};

struct AuditFilter {
  std::optional<int64_t> since_ms;  // time >= since
  std::optional<int64_t> until_ms;  // time < until
  int64_t after_seq = 0;            // seq > after (the console's live tail)
  std::string vault;                // exact, case-insensitive
  std::string caller;               // callerObjectId or callerAppId, exact
  std::string operation;            // substring, case-insensitive
  int status = 0;                   // exact code (e.g. 403), or 2..5 for a class (4 = 4xx)
  size_t top = 100;                 // the newest `top` matching lines are returned
};

struct AuditPage {
  std::vector<std::string> lines;  // JSON objects (without prev/mac/hash), oldest first
  int64_t last_seq = 0;            // the newest seq seen in the log (matching or not)
  bool more = false;               // more lines matched than `top`
};

// Every audit-*.jsonl file of the directory, oldest first.
std::vector<std::string> AuditFiles(const std::string& directory);

// The newest `filter.top` matching lines. A half-written last line (a write in progress) is
// skipped; a line that is not valid JSON is an error.
Result<AuditPage> ReadAudit(const std::string& directory, const AuditFilter& filter);

// Requests per operation over the filtered lines: count, errors (status >= 400), mean and 95th
// percentile latency, and the count per time bucket (bucket_seconds wide, from since).
struct OperationSummary {
  int64_t count = 0;
  int64_t errors = 0;
  double mean_latency_ms = 0;
  double p95_latency_ms = 0;
  std::vector<int64_t> per_bucket;
};
struct AuditSummary {
  int64_t since_ms = 0;
  int64_t bucket_seconds = 60;
  size_t buckets = 0;
  std::map<std::string, OperationSummary> operations;
};
Result<AuditSummary> SummarizeAudit(const std::string& directory, const AuditFilter& filter,
                                    int64_t bucket_seconds, int64_t now_ms);

// The chain check of `coffre audit verify` over the whole directory (with the key and the
// anchored head). A line being written as it is read can look damaged: checked twice before
// a problem is reported.
VerifyResult VerifyAuditDirectory(const AuditSource& source);

// "2026-01-02T03:04:05.678Z" (the audit line's time) as unix milliseconds.
std::optional<int64_t> ParseAuditTime(std::string_view text);

}  // namespace coffre::audit
