#include "http/fault_injector.h"

#include <algorithm>

#include "common/strings.h"
#include "http/router.h"

namespace coffre::http {
namespace {

bool SameName(std::string_view a, std::string_view b) { return AsciiLower(a) == AsciiLower(b); }

// The operation as the tables spell it ("sign" -> "Sign"); empty if no table has it.
std::string CanonicalOperation(std::string_view name) {
  if (name == "*") return "*";
  for (const auto& row : DataPlaneOperations()) {
    if (SameName(row.name, name)) return std::string(row.name);
  }
  return {};
}

}  // namespace

Result<Fault> FaultInjector::Add(FaultSpec spec) {
  if (spec.operation.size() > 64 || spec.vault.size() > 64) {
    return Status::BadParameter("The operation and vault names are at most 64 characters.");
  }
  std::string operation = CanonicalOperation(spec.operation);
  if (operation.empty()) {
    return Status::BadParameter(
        "\"operation\" must name a data-plane operation as the audit log does (Sign, GetKey, "
        "CreateKey, GetSecret, SetSecret, ...) or be \"*\".");
  }
  spec.operation = std::move(operation);
  spec.vault = AsciiLower(spec.vault);
  if (spec.status != 0 && (spec.status < 400 || spec.status > 599)) {
    return Status::BadParameter("\"status\" must be an HTTP error status (400-599).");
  }
  if (spec.status == 0 && spec.delay_ms == 0 && !spec.close_connection) {
    return Status::BadParameter("A fault needs a status, a delay or closeConnection.");
  }
  if (spec.status != 0 && spec.close_connection) {
    return Status::BadParameter("A fault either answers with a status or closes the connection.");
  }
  if (spec.delay_ms < 0 || spec.delay_ms > kMaxDelayMs) {
    return Status::BadParameter("\"delayMs\" must be between 0 and 60000.");
  }
  if (spec.retry_after < -1 || spec.retry_after > 3600) {
    return Status::BadParameter("\"retryAfter\" must be between 0 and 3600 seconds.");
  }
  if (spec.count < 1 || spec.count > kMaxCount) {
    return Status::BadParameter("\"count\" must be between 1 and 1000000.");
  }
  std::lock_guard lock(mutex_);
  if (faults_.size() >= kMaxFaults) {
    return Status(ErrorKind::kConflict, "Conflict",
                  "At most 100 faults can be set at once; clear some first.");
  }
  Fault fault{std::to_string(next_id_++), std::move(spec), 0};
  fault.remaining = fault.spec.count;
  faults_.push_back(fault);
  any_.store(true, std::memory_order_release);
  return fault;
}

std::vector<Fault> FaultInjector::List() const {
  std::lock_guard lock(mutex_);
  return faults_;
}

void FaultInjector::Clear() {
  std::lock_guard lock(mutex_);
  faults_.clear();
  any_.store(false, std::memory_order_release);
}

bool FaultInjector::Remove(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto it =
      std::find_if(faults_.begin(), faults_.end(), [&](const Fault& f) { return f.id == id; });
  if (it == faults_.end()) return false;
  faults_.erase(it);
  any_.store(!faults_.empty(), std::memory_order_release);
  return true;
}

std::optional<Fault> FaultInjector::Take(std::string_view operation, std::string_view vault) {
  if (!any_.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard lock(mutex_);
  // The oldest matching fault applies first.
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->spec.operation != "*" && it->spec.operation != operation) continue;
    if (!it->spec.vault.empty() && it->spec.vault != AsciiLower(vault)) continue;
    Fault taken = *it;
    if (--it->remaining <= 0) faults_.erase(it);
    any_.store(!faults_.empty(), std::memory_order_release);
    return taken;
  }
  return std::nullopt;
}

}  // namespace coffre::http
