#include "audit/audit_query.h"

#include <dirent.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <ctime>
#include <deque>
#include <fstream>

#include "common/strings.h"

namespace coffre::audit {
namespace json = boost::json;
namespace {

// The seq a file name starts at (audit-<seq>.jsonl), or -1.
int64_t FirstSeqOf(const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1);
  if (!base.starts_with("audit-") || !base.ends_with(".jsonl")) return -1;
  std::string digits = base.substr(6, base.size() - 12);
  if (digits.empty() || digits.size() > 18 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return -1;
  }
  return std::stoll(digits);
}

std::string StringMember(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                  : std::string();
}

int64_t IntMember(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_int64() ? it->value().get_int64() : 0;
}

bool Matches(const json::object& line, const AuditFilter& f, int64_t time_ms) {
  if (IntMember(line, "seq") <= f.after_seq) return false;
  if (f.since_ms && time_ms < *f.since_ms) return false;
  if (f.until_ms && time_ms >= *f.until_ms) return false;
  if (!f.vault.empty() && AsciiLower(StringMember(line, "vault")) != AsciiLower(f.vault)) {
    return false;
  }
  if (!f.caller.empty() && StringMember(line, "callerObjectId") != f.caller &&
      StringMember(line, "callerAppId") != f.caller) {
    return false;
  }
  if (!f.operation.empty() &&
      AsciiLower(StringMember(line, "operation")).find(AsciiLower(f.operation)) ==
          std::string::npos) {
    return false;
  }
  if (f.status != 0) {
    int64_t status = IntMember(line, "status");
    if (f.status < 10 ? status / 100 != f.status : status != f.status) return false;
  }
  return true;
}

// Calls `visit(object, time_ms)` for each complete line of the directory's files that may hold
// seq > after_seq, oldest first. Returns the newest seq seen.
template <typename Visit>
Result<int64_t> ForEachLine(const std::string& directory, int64_t after_seq, Visit visit) {
  std::vector<std::string> files = AuditFiles(directory);
  int64_t last_seq = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    // A file whose successor starts at or before after_seq + 1 holds nothing newer.
    if (i + 1 < files.size()) {
      int64_t next_first = FirstSeqOf(files[i + 1]);
      if (next_first > 0 && next_first <= after_seq + 1) continue;
    }
    std::ifstream in(files[i], std::ios::binary);
    if (!in) return Status::Internal("An audit file cannot be read.");
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // no newline yet: a write in progress
      if (line.empty()) continue;
      boost::system::error_code ec;
      json::value parsed = json::parse(line, ec);
      if (ec || !parsed.is_object()) {
        return Status::Internal("The audit log holds a line that is not valid JSON.");
      }
      json::object& o = parsed.as_object();
      last_seq = std::max(last_seq, IntMember(o, "seq"));
      int64_t time_ms = ParseAuditTime(StringMember(o, "time")).value_or(0);
      visit(o, time_ms);
    }
  }
  return last_seq;
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

std::optional<int64_t> ParseAuditTime(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS.mmmZ
  if (text.size() != 24 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != '.' || text[23] != 'Z') {
    return std::nullopt;
  }
  auto number = [&](size_t at, size_t length) -> std::optional<int> {
    int value = 0;
    for (size_t i = at; i < at + length; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  auto year = number(0, 4), month = number(5, 2), day = number(8, 2), hour = number(11, 2),
       minute = number(14, 2), second = number(17, 2), millis = number(20, 3);
  if (!year || !month || !day || !hour || !minute || !second || !millis) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + *millis;
}

std::vector<std::string> AuditFiles(const std::string& directory) {
  std::vector<std::string> files;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return files;
  while (dirent* entry = readdir(dir)) {
    std::string path = directory + "/" + entry->d_name;
    if (FirstSeqOf(path) >= 0) files.push_back(std::move(path));
  }
  closedir(dir);
  std::sort(files.begin(), files.end());  // zero-padded: name order is seq order
  return files;
}

Result<AuditPage> ReadAudit(const std::string& directory, const AuditFilter& filter) {
  AuditPage page;
  std::deque<std::string> newest;
  size_t matched = 0;
  auto last = ForEachLine(directory, filter.after_seq, [&](json::object& o, int64_t time_ms) {
    if (!Matches(o, filter, time_ms)) return;
    ++matched;
    // The chain members say nothing to a reader; the check is VerifyAuditDirectory's.
    o.erase("prev");
    o.erase("mac");
    o.erase("hash");
    newest.push_back(json::serialize(o));
    if (newest.size() > filter.top) newest.pop_front();
  });
  if (!last.ok()) return last.status();
  page.last_seq = *last;
  page.more = matched > newest.size();
  page.lines.assign(newest.begin(), newest.end());
  return page;
}

Result<AuditSummary> SummarizeAudit(const std::string& directory, const AuditFilter& filter,
                                    int64_t bucket_seconds, int64_t now_ms) {
  AuditSummary summary;
  summary.bucket_seconds = std::max<int64_t>(1, bucket_seconds);
  summary.since_ms = filter.since_ms.value_or(now_ms - 3600 * 1000);
  const int64_t until_ms = filter.until_ms.value_or(now_ms);
  const int64_t width_ms = summary.bucket_seconds * 1000;
  summary.buckets = static_cast<size_t>(
      std::clamp<int64_t>((until_ms - summary.since_ms + width_ms - 1) / width_ms, 1, 1440));
  AuditFilter bounded = filter;
  bounded.since_ms = summary.since_ms;
  std::map<std::string, std::vector<double>> latencies;
  auto last = ForEachLine(directory, filter.after_seq, [&](json::object& o, int64_t time_ms) {
    if (!Matches(o, bounded, time_ms)) return;
    std::string operation = StringMember(o, "operation");
    OperationSummary& s = summary.operations[operation];
    if (s.per_bucket.empty()) s.per_bucket.assign(summary.buckets, 0);
    ++s.count;
    if (IntMember(o, "status") >= 400) ++s.errors;
    // Lines of the current second (after `now`, which has whole seconds) count in the last.
    size_t bucket =
        static_cast<size_t>(std::max<int64_t>(0, time_ms - summary.since_ms) / width_ms);
    ++s.per_bucket[std::min(bucket, summary.buckets - 1)];
    latencies[operation].push_back(static_cast<double>(IntMember(o, "latencyUs")) / 1000.0);
  });
  if (!last.ok()) return last.status();
  for (auto& [operation, values] : latencies) {
    OperationSummary& s = summary.operations[operation];
    double total = 0;
    for (double v : values) total += v;
    s.mean_latency_ms = values.empty() ? 0 : total / static_cast<double>(values.size());
    s.p95_latency_ms = Percentile(values, 0.95);
  }
  return summary;
}

VerifyResult VerifyAuditDirectory(const AuditSource& source) {
  VerifyResult result;
  for (int attempt = 0; attempt < 2; ++attempt) {
    VerifyOptions options;
    options.allow_partial = true;  // older files may have been rotated away
    options.key = source.key;
    if (source.head) options.head = source.head();
    result = VerifyAuditFiles(AuditFiles(source.directory), options);
    if (result.ok) break;
  }
  return result;
}

}  // namespace coffre::audit
