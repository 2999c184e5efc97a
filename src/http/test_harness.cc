#include "http/test_harness.h"

#include <boost/json.hpp>
#include <cctype>

#include "common/utc_time.h"
#include "http/key_json.h"
#include "http/router.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

constexpr int64_t kMaxTravelSeconds = 100LL * 366 * 86400;

ApiResponse Json(int status, const json::value& body) {
  return JsonResponse(status, json::serialize(body));
}

ApiResponse NotFound() {
  return ErrorResponse(Status::NotFound("NotFound", "Unknown admin resource."));
}

ApiResponse MethodNotAllowed() {
  return ErrorResponse(Status(ErrorKind::kMethodNotAllowed, "MethodNotAllowed",
                              "The HTTP method is not supported for this admin resource."));
}

Result<json::object> Body(const ApiRequest& request) {
  if (request.body.empty()) return json::object{};
  return ParseJsonObject(request.body);
}

json::object ClockJson(const OffsetClock& clock) {
  const int64_t now = clock.NowSeconds();
  return json::object{{"now", FormatUtcTime(now)},
                      {"nowSeconds", now},
                      {"offsetSeconds", clock.offset_seconds()},
                      {"realNow", FormatUtcTime(now - clock.offset_seconds())}};
}

ApiResponse ClockMoved(TestHarness& harness) {
  json::object out = ClockJson(*harness.clock);
  if (harness.clock_moved) {
    service::BackgroundRunSummary jobs = harness.clock_moved(harness.clock->offset_seconds());
    out["backgroundJobs"] = json::object{{"ran", jobs.leased},
                                         {"purgedKeys", jobs.purged},
                                         {"purgedSecrets", jobs.purged_secrets},
                                         {"rotatedKeys", jobs.rotations.rotated},
                                         {"nearExpiryEvents", jobs.rotations.notified}};
  }
  return Json(200, out);
}

ApiResponse Clock(TestHarness& harness, const ApiRequest& request,
                  const std::vector<std::string>& seg) {
  if (harness.clock == nullptr) return NotFound();
  OffsetClock& clock = *harness.clock;
  if (seg.size() == 4) {
    if (request.method != "GET") return MethodNotAllowed();
    return Json(200, ClockJson(clock));
  }
  if (seg.size() != 5) return NotFound();
  const std::string& action = seg[4];
  if (action != "advance" && action != "set" && action != "reset") return NotFound();
  if (request.method != "POST") return MethodNotAllowed();
  auto body = Body(request);
  if (!body.ok()) return ErrorResponse(body.status());
  if (action == "reset") {
    clock.Reset();
    return ClockMoved(harness);
  }
  const char* field = action == "advance" ? "by" : "to";
  const json::value* value = body->if_contains(field);
  if (action == "advance") {
    std::optional<int64_t> by;
    if (value != nullptr && value->is_string()) by = ParseHarnessDuration(value->get_string());
    if (value != nullptr && value->is_int64() && value->get_int64() > 0 &&
        value->get_int64() <= kMaxTravelSeconds) {
      by = value->get_int64();
    }
    if (!by) {
      return ErrorResponse(Status::BadParameter(
          "\"by\" is a duration such as \"30d\", \"12h\", \"1d12h\" (s, m, h, d, w) or seconds, "
          "up to 100 years."));
    }
    if (clock.offset_seconds() + *by > kMaxTravelSeconds) {
      return ErrorResponse(Status::BadParameter("The clock cannot move more than 100 years."));
    }
    clock.Advance(*by);
    return ClockMoved(harness);
  }
  std::optional<int64_t> to;
  if (value != nullptr && value->is_string()) to = ParseUtcTime(value->get_string());
  if (!to) {
    return ErrorResponse(
        Status::BadParameter("\"to\" is a UTC time such as \"2027-01-01T00:00:00Z\"."));
  }
  const int64_t offset = *to - (clock.NowSeconds() - clock.offset_seconds());
  if (offset > kMaxTravelSeconds || offset < -kMaxTravelSeconds) {
    return ErrorResponse(Status::BadParameter("The clock cannot move more than 100 years."));
  }
  clock.SetOffset(offset);
  return ClockMoved(harness);
}

json::object FaultJson(const Fault& fault) {
  json::object o{{"id", fault.id},
                 {"operation", fault.spec.operation},
                 {"count", fault.spec.count},
                 {"remaining", fault.remaining}};
  if (!fault.spec.vault.empty()) o["vault"] = fault.spec.vault;
  if (fault.spec.status != 0) o["status"] = fault.spec.status;
  if (fault.spec.retry_after >= 0) o["retryAfter"] = fault.spec.retry_after;
  if (fault.spec.delay_ms > 0) o["delayMs"] = fault.spec.delay_ms;
  if (fault.spec.close_connection) o["closeConnection"] = true;
  return o;
}

Result<FaultSpec> FaultSpecOf(const json::object& body) {
  FaultSpec spec;
  auto text = [&body](const char* name, std::string& out) -> Status {
    const json::value* v = body.if_contains(name);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (!v->is_string()) return Status::BadParameter(std::string("\"") + name + "\" must be text.");
    out = std::string(v->get_string());
    return Status::Ok();
  };
  auto number = [&body](const char* name, int& out) -> Status {
    const json::value* v = body.if_contains(name);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (!v->is_int64() || v->get_int64() < -1 || v->get_int64() > 100000000) {
      return Status::BadParameter(std::string("\"") + name + "\" must be an integer.");
    }
    out = static_cast<int>(v->get_int64());
    return Status::Ok();
  };
  COFFRE_RETURN_IF_ERROR(text("operation", spec.operation));
  COFFRE_RETURN_IF_ERROR(text("vault", spec.vault));
  COFFRE_RETURN_IF_ERROR(number("status", spec.status));
  COFFRE_RETURN_IF_ERROR(number("retryAfter", spec.retry_after));
  COFFRE_RETURN_IF_ERROR(number("delayMs", spec.delay_ms));
  COFFRE_RETURN_IF_ERROR(number("count", spec.count));
  if (const json::value* v = body.if_contains("closeConnection"); v != nullptr && !v->is_null()) {
    if (!v->is_bool()) return Status::BadParameter("\"closeConnection\" must be true or false.");
    spec.close_connection = v->get_bool();
  }
  return spec;
}

ApiResponse Faults(TestHarness& harness, const ApiRequest& request,
                   const std::vector<std::string>& seg) {
  if (seg.size() == 5) {
    if (request.method != "DELETE") return MethodNotAllowed();
    if (!harness.faults.Remove(seg[4])) {
      return ErrorResponse(Status::NotFound("NotFound", "No fault has this id."));
    }
    ApiResponse response;
    response.status = 204;
    return response;
  }
  if (seg.size() != 4) return NotFound();
  if (request.method == "GET") {
    json::array value;
    for (const auto& fault : harness.faults.List()) value.push_back(FaultJson(fault));
    return Json(200, json::object{{"value", std::move(value)}});
  }
  if (request.method == "DELETE") {
    harness.faults.Clear();
    ApiResponse response;
    response.status = 204;
    return response;
  }
  if (request.method != "POST") return MethodNotAllowed();
  auto body = Body(request);
  if (!body.ok()) return ErrorResponse(body.status());
  auto spec = FaultSpecOf(*body);
  if (!spec.ok()) return ErrorResponse(spec.status());
  auto added = harness.faults.Add(std::move(*spec));
  if (!added.ok()) return ErrorResponse(added.status());
  return Json(201, FaultJson(*added));
}

ApiResponse Throttle(TestHarness& harness, const ApiRequest& request,
                     const std::vector<std::string>& seg) {
  if (seg.size() != 4) return NotFound();
  if (request.method != "GET") return MethodNotAllowed();
  if (harness.throttle == nullptr) return Json(200, json::object{{"enabled", false}});
  const ThrottleLimits& limits = harness.throttle->limits();
  auto at = [&limits](ThrottleClass c) { return limits.per_window[static_cast<size_t>(c)]; };
  return Json(200, json::object{{"enabled", true},
                                {"windowSeconds", limits.window.count()},
                                {"keyCreate", at(ThrottleClass::kKeyCreate)},
                                {"keyOther", at(ThrottleClass::kKeyOther)},
                                {"secretCreate", at(ThrottleClass::kSecretCreate)},
                                {"secretOther", at(ThrottleClass::kSecretOther)}});
}

const char* ErrorCodeOf(int status) {
  switch (status) {
    case 408:
      return "RequestTimeout";
    case 429:
      return "Throttled";
    case 500:
      return "InternalServerError";
    case 502:
      return "BadGateway";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "GatewayTimeout";
    default:
      return "InjectedFault";
  }
}

ApiResponse FaultResponse(const FaultSpec& spec) {
  if (spec.status == 429) {
    return ThrottledResponse(spec.retry_after >= 0 ? spec.retry_after : 1);
  }
  json::object error{{"code", ErrorCodeOf(spec.status)},
                     {"message", "The test harness injected this failure (coffre dev fault)."}};
  ApiResponse response = JsonResponse(spec.status, json::serialize(json::object{{"error", error}}));
  if (spec.retry_after >= 0) {
    response.headers.emplace_back("Retry-After", std::to_string(spec.retry_after));
  }
  return response;
}

}  // namespace

std::optional<int64_t> ParseHarnessDuration(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t number = 0;
    size_t digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && digits < 12) {
      number = number * 10 + (text[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || i == text.size()) return std::nullopt;
    int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        return std::nullopt;
    }
    ++i;
    total += number * unit;
    if (total > kMaxTravelSeconds) return std::nullopt;
  }
  if (total <= 0) return std::nullopt;
  return total;
}

ApiResponse ThrottledResponse(int64_t retry_after_seconds) {
  // Key Vault's own words for a vault over its limits.
  json::object error{{"code", "Throttled"},
                     {"message",
                      "Request was not processed because too many requests were received. "
                      "Reason: VaultRequestTypeLimitReached"}};
  ApiResponse response = JsonResponse(429, json::serialize(json::object{{"error", error}}));
  response.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return response;
}

Intercepted InterceptRequest(TestHarness& harness, std::string_view vault,
                             std::string_view operation) {
  Intercepted out;
  if (auto fault = harness.faults.Take(operation, vault)) {
    const FaultSpec& spec = fault->spec;
    out.delay = std::chrono::milliseconds(spec.delay_ms);
    if (spec.close_connection) {
      FaultSpec closed;
      closed.status = 503;
      out.response = FaultResponse(closed);
      out.response->drop_connection = true;
      out.audit_note = " (injected fault " + fault->id + ": connection closed)";
    } else if (spec.status != 0) {
      out.response = FaultResponse(spec);
      out.audit_note = " (injected fault " + fault->id + ": " + std::to_string(spec.status) + ")";
    } else {
      out.audit_note = " (injected fault " + fault->id + ": delayed)";
    }
    if (out.response) return out;
  }
  if (harness.throttle != nullptr) {
    if (int64_t wait = harness.throttle->Admit(vault, ThrottleClassOf(operation)); wait > 0) {
      out.response = ThrottledResponse(wait);
      out.audit_note += " (throttled)";
    }
  }
  return out;
}

ApiResponse HandleHarnessRequest(TestHarness* harness, const ApiRequest& request,
                                 const std::vector<std::string>& seg) {
  // /coffre-admin/v1/dev/<resource>/...
  if (harness == nullptr || seg.size() < 4) return NotFound();
  const std::string& resource = seg[3];
  if (resource == "clock") return Clock(*harness, request, seg);
  if (resource == "faults") return Faults(*harness, request, seg);
  if (resource == "throttle") return Throttle(*harness, request, seg);
  return NotFound();
}

}  // namespace coffre::http
