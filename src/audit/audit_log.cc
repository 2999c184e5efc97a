#include "audit/audit_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <future>
#include <optional>

#include "common/base64url.h"
#include "crypto/digest.h"
#include "crypto/key_operations.h"

namespace coffre::audit {
namespace json = boost::json;
namespace {

const std::string kZeroHash(64, '0');
constexpr std::string_view kHashMember = ",\"hash\":\"";  // unkeyed lines
constexpr std::string_view kMacMember = ",\"mac\":\"";    // keyed lines
constexpr std::string_view kHeadVersion = "v1";

std::string HexSha256(std::string_view text) {
  auto digest = crypto::Sha256(AsBytes(text));
  return HexEncode(digest);
}

// Empty if the HMAC cannot be computed (then nothing verifies).
std::string HexHmac(ByteSpan key, std::string_view text) {
  auto mac = crypto::Hmac(crypto::HashAlgorithm::kSha256, key, AsBytes(text));
  return mac.ok() ? HexEncode(*mac) : std::string();
}

bool SameHex(std::string_view a, std::string_view b) {
  return !a.empty() && crypto::ConstantTimeEquals(a, b);
}

std::string FileName(int64_t first_seq) {
  char name[64];
  std::snprintf(name, sizeof(name), "audit-%012lld.jsonl", static_cast<long long>(first_seq));
  return name;
}

std::string Rfc3339(int64_t time_ms) {
  std::time_t seconds = static_cast<std::time_t>(time_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03lldZ", buffer, static_cast<long long>(time_ms % 1000));
  return out;
}

// The line for a record: the JSON object with "mac" (HMAC of the object without it under the
// chain key) as its last member; without a key, "hash" (its SHA-256).
std::string FormatLine(const AuditRecord& r, int64_t seq, const std::string& prev,
                       const SecureBytes& key, std::string* mac) {
  json::object o;
  o["seq"] = seq;
  o["prev"] = prev;
  o["time"] = Rfc3339(r.time_ms);
  o["requestId"] = r.request_id;
  o["callerObjectId"] = r.caller_object_id;
  o["callerAppId"] = r.caller_app_id;
  o["clientAddress"] = r.client_address;
  o["vault"] = r.vault;
  o["operation"] = r.operation;
  o["keyName"] = r.key_name;
  o["keyVersion"] = r.key_version;
  o["status"] = r.status;
  o["latencyUs"] = static_cast<int64_t>(r.latency_ms * 1000);
  std::string body = json::serialize(o);
  std::string hash = key.empty() ? HexSha256(body) : HexHmac(key, body);
  body.pop_back();  // the closing brace
  body += key.empty() ? kHashMember : kMacMember;
  body += hash;
  body += "\"}";
  if (mac != nullptr) *mac = key.empty() ? std::string() : std::move(hash);
  return body;
}

std::vector<std::string> AuditFiles(const std::string& directory) {
  std::vector<std::string> names;
  if (DIR* dir = ::opendir(directory.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name.starts_with("audit-") && name.ends_with(".jsonl")) names.push_back(name);
    }
    ::closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void SyncDirectory(const std::string& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Checks a line's own "mac" (with `key`) or "hash" member against its text; returns the seq and
// prev it carries.
struct ParsedLine {
  int64_t seq = 0;
  std::string prev;
  bool keyed = false;
  std::string mac;  // keyed lines
};
std::optional<ParsedLine> ParseLine(std::string_view line, const SecureBytes& key,
                                    std::string& problem) {
  ParsedLine parsed;
  size_t at = std::string_view::npos;
  for (std::string_view member : {kMacMember, kHashMember}) {
    size_t found = line.rfind(member);
    if (found != std::string_view::npos && line.ends_with("\"}") &&
        line.size() == found + member.size() + 64 + 2) {
      at = found;
      parsed.keyed = member == kMacMember;
      break;
    }
  }
  if (at == std::string_view::npos) {
    problem = "the line has no hash";
    return std::nullopt;
  }
  const size_t member_size = parsed.keyed ? kMacMember.size() : kHashMember.size();
  std::string body = std::string(line.substr(0, at)) + "}";
  std::string_view stored = line.substr(at + member_size, 64);
  if (parsed.keyed) {
    if (key.empty()) {
      problem = "the line is keyed: checking it needs the master key (give --data-dir)";
      return std::nullopt;
    }
    if (!SameHex(HexHmac(key, body), stored)) {
      problem = "the line was changed or forged (its MAC does not match its content)";
      return std::nullopt;
    }
    parsed.mac = std::string(stored);
  } else if (HexSha256(body) != stored) {
    problem = "the line was changed (its hash does not match its content)";
    return std::nullopt;
  }
  json::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) {
    problem = "the line is not a JSON object";
    return std::nullopt;
  }
  const json::object& o = value.get_object();
  auto seq = o.find("seq");
  auto prev = o.find("prev");
  if (seq == o.end() || !seq->value().is_int64() || prev == o.end() || !prev->value().is_string()) {
    problem = "the line has no seq or prev";
    return std::nullopt;
  }
  parsed.seq = seq->value().get_int64();
  parsed.prev = std::string(prev->value().get_string());
  return parsed;
}

std::string HeadTagInput(int64_t seq, const std::string& mac) {
  return "coffre-audit-head:" + std::string(kHeadVersion) + ":" + std::to_string(seq) + ":" + mac;
}

struct Head {
  int64_t seq = 0;
  std::string mac;
};
std::optional<Head> ParseHead(const std::string& text, const SecureBytes& key) {
  // v1:<seq>:<mac>:<tag>
  size_t a = text.find(':');
  size_t b = a == std::string::npos ? a : text.find(':', a + 1);
  size_t c = b == std::string::npos ? b : text.find(':', b + 1);
  if (c == std::string::npos || text.substr(0, a) != kHeadVersion) return std::nullopt;
  std::string digits = text.substr(a + 1, b - a - 1);
  if (digits.empty() || digits.size() > 18 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  Head head{std::stoll(digits), text.substr(b + 1, c - b - 1)};
  if (!SameHex(HexHmac(key, HeadTagInput(head.seq, head.mac)), text.substr(c + 1))) {
    return std::nullopt;
  }
  return head;
}

}  // namespace

AuditLog::AuditLog(std::string directory, size_t rotate_bytes, AuditChain chain)
    : directory_(std::move(directory)),
      rotate_bytes_(rotate_bytes),
      chain_(std::move(chain)),
      prev_hash_(kZeroHash) {}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& directory, size_t rotate_bytes,
                                                 AuditChain chain) {
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Internal("Cannot create the audit directory " + directory + ": " +
                            std::strerror(errno));
  }
  std::unique_ptr<AuditLog> log(new AuditLog(directory, rotate_bytes, std::move(chain)));
  const SecureBytes& key = log->chain_.key;
  auto files = AuditFiles(directory);
  if (files.empty()) {
    COFFRE_RETURN_IF_ERROR(log->OpenFileForSeq(1));
  } else {
    std::string path = directory + "/" + files.back();
    std::ifstream in(path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A line without its newline was never acknowledged (the process died before the sync
    // finished): drop it so the chain continues from the last complete line.
    size_t complete = content.rfind('\n');
    complete = complete == std::string::npos ? 0 : complete + 1;
    if (complete != content.size()) {
      if (::truncate(path.c_str(), static_cast<off_t>(complete)) != 0) {
        return Status::Internal("Cannot repair the audit file " + path);
      }
      content.resize(complete);
    }
    if (!content.empty()) {
      content.pop_back();
      std::string_view last = content;
      if (size_t nl = last.rfind('\n'); nl != std::string_view::npos) last = last.substr(nl + 1);
      std::string problem;
      auto parsed = ParseLine(last, key, problem);
      if (!parsed)
        return Status::Internal("The last audit line in " + path + " is damaged: " + problem);
      log->next_seq_ = parsed->seq + 1;
      log->prev_hash_ = HexSha256(last);
      log->last_mac_ = parsed->mac;
    } else {
      // An empty newest file: its name says which seq it starts at; the previous file ends
      // the chain.
      if (files.size() > 1) {
        std::string before = directory + "/" + files[files.size() - 2];
        VerifyOptions options;
        options.allow_partial = true;
        options.key = key;
        auto result = VerifyAuditFiles({before}, options);
        if (!result.ok) return Status::Internal("The audit file " + before + " is damaged.");
        std::ifstream prev_in(before, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(prev_in)),
                         std::istreambuf_iterator<char>());
        if (!text.empty()) text.pop_back();
        std::string_view last = text;
        if (size_t nl = last.rfind('\n'); nl != std::string_view::npos) last = last.substr(nl + 1);
        std::string problem;
        auto parsed = ParseLine(last, key, problem);
        if (!parsed) return Status::Internal("The audit file " + before + " is damaged.");
        log->next_seq_ = parsed->seq + 1;
        log->prev_hash_ = HexSha256(last);
        log->last_mac_ = parsed->mac;
      }
    }
    log->fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (log->fd_ < 0) return Status::Internal("Cannot open the audit file " + path);
    log->file_bytes_ = content.size() + (content.empty() ? 0 : 1);
  }
  // The anchorer first: the flusher reads whether it exists.
  if (!log->chain_.key.empty() && log->chain_.record_head) {
    log->anchorer_ = std::thread([raw = log.get()] { raw->AnchorLoop(); });
  }
  log->flusher_ = std::thread([raw = log.get()] { raw->FlushLoop(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  // The flusher is done: the last head it handed over is recorded before the anchorer stops.
  {
    std::lock_guard lock(anchor_mutex_);
    anchor_stopping_ = true;
  }
  anchor_ready_.notify_all();
  if (anchorer_.joinable()) anchorer_.join();
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::AnchorLoop() {
  std::unique_lock lock(anchor_mutex_);
  while (true) {
    anchor_ready_.wait(lock, [&] { return anchor_stopping_ || !pending_head_.empty(); });
    if (pending_head_.empty()) return;  // stopping, nothing left
    std::string head = std::move(pending_head_);
    pending_head_.clear();
    lock.unlock();
    chain_.record_head(head);
    lock.lock();
  }
}

Status AuditLog::OpenFileForSeq(int64_t first_seq) {
  std::string path = directory_ + "/" + FileName(first_seq);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("Cannot create the audit file " + path);
  SyncDirectory(directory_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  file_bytes_ = 0;
  return Status::Ok();
}

Status AuditLog::Append(const AuditRecord& record) {
  std::promise<Status> written;
  std::future<Status> result = written.get_future();
  AppendAsync(record, [&written](Status status) { written.set_value(std::move(status)); });
  return result.get();
}

Status AuditLog::Health() {
  std::lock_guard lock(mutex_);
  return failure_;
}

void AuditLog::AppendAsync(const AuditRecord& record, std::function<void(Status)> done) {
  Status refused;
  {
    std::lock_guard lock(mutex_);
    if (!failure_.ok()) {
      refused = failure_;
    } else if (stopping_) {
      refused = Status::Unavailable("The audit log is closed.");
    } else {
      pending_.push_back(Pending{record, std::move(done)});
      queued_.notify_one();
      return;
    }
  }
  done(std::move(refused));
}

Status AuditLog::WriteBatch(const std::vector<std::string>& lines, int64_t first_seq) {
  std::string buffer;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (file_bytes_ > 0 && file_bytes_ + buffer.size() + line.size() + 1 > rotate_bytes_) {
      // Finish the current file, then continue the chain in a new one.
      if (!buffer.empty() &&
          ::write(fd_, buffer.data(), buffer.size()) != static_cast<ssize_t>(buffer.size())) {
        return Status::Internal("Writing the audit log failed.");
      }
      file_bytes_ += buffer.size();
      buffer.clear();
      if (::fdatasync(fd_) != 0) return Status::Internal("Syncing the audit log failed.");
      COFFRE_RETURN_IF_ERROR(OpenFileForSeq(first_seq + static_cast<int64_t>(i)));
    }
    buffer += line;
    buffer += '\n';
  }
  size_t written = 0;
  while (written < buffer.size()) {
    ssize_t n = ::write(fd_, buffer.data() + written, buffer.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal("Writing the audit log failed.");
    }
    written += static_cast<size_t>(n);
  }
  file_bytes_ += buffer.size();
  if (::fdatasync(fd_) != 0) return Status::Internal("Syncing the audit log failed.");
  return Status::Ok();
}

void AuditLog::FlushLoop() {
  std::unique_lock lock(mutex_);
  while (true) {
    queued_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty() && stopping_) return;
    std::deque<Pending> batch;
    batch.swap(pending_);
    Status written = failure_;
    lock.unlock();
    if (written.ok()) {
      std::vector<std::string> lines;
      lines.reserve(batch.size());
      std::string prev = prev_hash_;
      std::string mac = last_mac_;
      const int64_t first_seq = next_seq_;
      int64_t seq = first_seq;
      for (const auto& pending : batch) {
        lines.push_back(FormatLine(pending.record, seq++, prev, chain_.key, &mac));
        prev = HexSha256(lines.back());
      }
      written = WriteBatch(lines, first_seq);
      if (written.ok()) {
        next_seq_ = seq;
        prev_hash_ = std::move(prev);
        last_mac_ = std::move(mac);
      }
    }
    for (auto& pending : batch) pending.done(written);
    // The head goes to the store once the group is on disk (never ahead of the files), after
    // the responses and off this thread: a crash in between leaves lines past the anchor, never
    // an anchor past them.
    if (written.ok() && anchorer_.joinable() && !last_mac_.empty()) {
      std::string head = AuditHeadText(chain_.key, next_seq_ - 1, last_mac_);
      {
        std::lock_guard anchor_lock(anchor_mutex_);
        pending_head_ = std::move(head);
      }
      anchor_ready_.notify_one();
    }
    lock.lock();
    if (!written.ok()) failure_ = written;
  }
}

VerifyResult VerifyAuditFiles(const std::vector<std::string>& files, bool allow_partial) {
  VerifyOptions options;
  options.allow_partial = allow_partial;
  return VerifyAuditFiles(files, options);
}

VerifyResult VerifyAuditFiles(const std::vector<std::string>& files, const VerifyOptions& options) {
  VerifyResult result;
  std::optional<std::string> expected_prev;
  int64_t expected_seq = 0;
  if (!options.allow_partial) {
    expected_prev = kZeroHash;
    expected_seq = 1;
  }
  std::optional<Head> head;
  if (!options.head.empty()) {
    head = ParseHead(options.head, options.key);
    if (!head) {
      result.ok = false;
      result.problem = "the head recorded in the store is not valid for this key (changed?)";
      return result;
    }
  }
  bool seen_keyed = false;
  int64_t last_seq = 0;
  std::string last_file;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      result.ok = false;
      result.problem = file + ": cannot be read";
      return result;
    }
    last_file = file;
    // A file is named after the seq of its first line: a dropped first line shows.
    std::optional<int64_t> first_seq;
    std::string base = file.substr(file.rfind('/') + 1);
    if (base.starts_with("audit-") && base.ends_with(".jsonl")) {
      std::string digits = base.substr(6, base.size() - 12);
      if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
          digits.size() < 19) {
        first_seq = std::stoll(digits);
      }
    }
    std::string line;
    int64_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      auto fail = [&](const std::string& what) {
        result.ok = false;
        result.problem = file + ":" + std::to_string(line_number) + ": " + what;
        return result;
      };
      std::string problem;
      auto parsed = ParseLine(line, options.key, problem);
      if (!parsed) return fail(problem);
      if (!parsed->keyed && seen_keyed) {
        return fail("an unkeyed line after keyed lines: the line was rewritten without the key");
      }
      if (expected_prev && parsed->prev != *expected_prev) {
        return fail(
            "the chain is broken here: the previous line was changed, dropped, moved or "
            "this line was inserted");
      }
      if (line_number == 1 && first_seq && parsed->seq != *first_seq) {
        return fail("the file should start at seq " + std::to_string(*first_seq) + ", found " +
                    std::to_string(parsed->seq) + " (its first line was dropped or moved)");
      }
      if (line_number == 1 && parsed->seq == 1 && parsed->prev != kZeroHash) {
        return fail("the first line of the log must follow no other line");
      }
      if (expected_seq != 0 && parsed->seq != expected_seq) {
        return fail("expected seq " + std::to_string(expected_seq) + ", found " +
                    std::to_string(parsed->seq) + " (a line was dropped, moved or inserted)");
      }
      if (head && parsed->seq == head->seq && !SameHex(parsed->mac, head->mac)) {
        return fail("this is not the line the store's anchor recorded at seq " +
                    std::to_string(head->seq));
      }
      seen_keyed = seen_keyed || parsed->keyed;
      if (!parsed->keyed) ++result.unkeyed_lines;
      expected_prev = HexSha256(line);
      expected_seq = parsed->seq + 1;
      last_seq = parsed->seq;
      ++result.lines;
    }
  }
  if (head) {
    if (last_seq < head->seq) {
      result.ok = false;
      result.problem = (last_file.empty() ? std::string("the log") : last_file) +
                       ": the log ends at seq " + std::to_string(last_seq) +
                       " but the store's anchor records line " + std::to_string(head->seq) +
                       " as written: lines were removed from the end";
      return result;
    }
    result.anchored_seq = head->seq;
  }
  return result;
}

std::string AuditHeadText(ByteSpan key, int64_t seq, const std::string& mac) {
  return std::string(kHeadVersion) + ":" + std::to_string(seq) + ":" + mac + ":" +
         HexHmac(key, HeadTagInput(seq, mac));
}

std::string AuditHeadSetting(const std::string& directory) { return "audit_head:" + directory; }

}  // namespace coffre::audit
