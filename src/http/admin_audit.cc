#include "http/admin_audit.h"

#include <boost/json.hpp>
#include <charconv>

#include "http/router.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

constexpr size_t kMaxFilterLength = 256;
constexpr size_t kMaxTop = 1000;

Result<std::optional<int64_t>> IntegerParameter(const RequestTarget& target, std::string_view name,
                                                int64_t min, int64_t max) {
  auto it = target.query.find(name);
  if (it == target.query.end() || it->second.empty()) return std::optional<int64_t>{};
  int64_t value = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Status::BadParameter("\"" + std::string(name) + "\" must be an integer from " +
                                std::to_string(min) + " to " + std::to_string(max) + ".");
  }
  return std::optional<int64_t>{value};
}

Result<std::string> TextParameter(const RequestTarget& target, std::string_view name) {
  auto it = target.query.find(name);
  if (it == target.query.end()) return std::string();
  if (it->second.size() > kMaxFilterLength) {
    return Status::BadParameter("\"" + std::string(name) + "\" is longer than " +
                                std::to_string(kMaxFilterLength) + " characters.");
  }
  return it->second;
}

Result<audit::AuditFilter> Filter(const RequestTarget& target) {
  audit::AuditFilter f;
  constexpr int64_t kMaxMs = int64_t{1} << 50;
  COFFRE_ASSIGN_OR_RETURN(f.since_ms, IntegerParameter(target, "since", 0, kMaxMs));
  COFFRE_ASSIGN_OR_RETURN(f.until_ms, IntegerParameter(target, "until", 0, kMaxMs));
  COFFRE_ASSIGN_OR_RETURN(auto after, IntegerParameter(target, "after", 0, kMaxMs));
  f.after_seq = after.value_or(0);
  COFFRE_ASSIGN_OR_RETURN(f.vault, TextParameter(target, "vault"));
  COFFRE_ASSIGN_OR_RETURN(f.caller, TextParameter(target, "caller"));
  COFFRE_ASSIGN_OR_RETURN(f.operation, TextParameter(target, "operation"));
  COFFRE_ASSIGN_OR_RETURN(std::string status, TextParameter(target, "status"));
  if (!status.empty()) {
    // "403", or a class: "4xx".
    if (status.size() == 3 && status[0] >= '2' && status[0] <= '5' && status.substr(1) == "xx") {
      f.status = status[0] - '0';
    } else {
      COFFRE_ASSIGN_OR_RETURN(auto code, IntegerParameter(target, "status", 100, 599));
      f.status = static_cast<int>(*code);
    }
  }
  COFFRE_ASSIGN_OR_RETURN(auto top, IntegerParameter(target, "top", 1, kMaxTop));
  f.top = static_cast<size_t>(top.value_or(100));
  return f;
}

json::object ChainJson(const audit::VerifyResult& r, bool keyed) {
  json::object o{{"intact", r.ok},
                 {"lines", r.lines},
                 {"unkeyedLines", r.unkeyed_lines},
                 {"anchoredSeq", r.anchored_seq},
                 {"keyed", keyed}};
  if (!r.ok) {
    // "FILE:LINE: what": the file's name is enough, not the server's directory layout.
    std::string problem = r.problem;
    if (size_t slash = problem.rfind('/', problem.find(".jsonl")); slash != std::string::npos) {
      problem = problem.substr(slash + 1);
    }
    o["problem"] = problem;
  }
  return o;
}

}  // namespace

ApiResponse HandleAuditRead(const audit::AuditSource* source, const Clock& clock,
                            const ApiRequest& request, const RequestTarget& target) {
  const auto& seg = target.segments;  // coffre-admin, v1, audit, ...
  if (source == nullptr) {
    return ErrorResponse(Status::NotFound("NotFound", "This server keeps no audit log."));
  }
  const std::string sub = seg.size() > 3 ? seg[3] : std::string();
  if (seg.size() > 4 || (sub != "" && sub != "summary" && sub != "verify")) {
    return ErrorResponse(Status::NotFound("NotFound", "Unknown admin resource."));
  }
  if (request.method != "GET") {
    return ErrorResponse(Status(ErrorKind::kMethodNotAllowed, "MethodNotAllowed",
                                "The HTTP method is not supported for this admin resource."));
  }
  if (sub == "verify") {
    return JsonResponse(200, json::serialize(ChainJson(audit::VerifyAuditDirectory(*source),
                                                       !source->key.empty())));
  }
  auto filter = Filter(target);
  if (!filter.ok()) return ErrorResponse(filter.status());
  if (sub == "summary") {
    auto bucket = IntegerParameter(target, "bucket", 1, 86400);
    if (!bucket.ok()) return ErrorResponse(bucket.status());
    auto summary = audit::SummarizeAudit(source->directory, *filter, bucket->value_or(60),
                                         clock.NowSeconds() * 1000);
    if (!summary.ok()) return ErrorResponse(summary.status());
    json::array operations;
    for (const auto& [name, s] : summary->operations) {
      json::array per_bucket;
      for (int64_t n : s.per_bucket) per_bucket.push_back(n);
      operations.push_back(json::object{{"operation", name},
                                        {"count", s.count},
                                        {"errors", s.errors},
                                        {"meanLatencyMs", s.mean_latency_ms},
                                        {"p95LatencyMs", s.p95_latency_ms},
                                        {"perBucket", std::move(per_bucket)}});
    }
    return JsonResponse(200,
                        json::serialize(json::object{{"since", summary->since_ms},
                                                     {"bucketSeconds", summary->bucket_seconds},
                                                     {"buckets", summary->buckets},
                                                     {"operations", std::move(operations)}}));
  }
  auto page = audit::ReadAudit(source->directory, *filter);
  if (!page.ok()) return ErrorResponse(page.status());
  // The lines are JSON already: spliced in rather than parsed again.
  std::string body = "{\"value\":[";
  for (size_t i = 0; i < page->lines.size(); ++i) {
    if (i > 0) body += ',';
    body += page->lines[i];
  }
  body += "],\"lastSeq\":" + std::to_string(page->last_seq) +
          ",\"more\":" + (page->more ? "true" : "false");
  if (auto it = target.query.find("verify"); it != target.query.end() && it->second == "true") {
    body += ",\"chain\":" +
            json::serialize(ChainJson(audit::VerifyAuditDirectory(*source), !source->key.empty()));
  }
  body += "}";
  return JsonResponse(200, std::move(body));
}

}  // namespace coffre::http
