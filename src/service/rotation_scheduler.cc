#include "service/rotation_scheduler.h"

#include <spdlog/spdlog.h>

namespace coffre::service {

Result<RotationRunSummary> RotationScheduler::RunOnce() {
  RotationRunSummary summary;
  COFFRE_ASSIGN_OR_RETURN(auto policies, store_.ListRotationPolicies());
  const int64_t now = clock_.NowSeconds();
  for (const auto& record : policies) {
    auto policy = FromRecord(record);
    auto vault = vaults_.Find(record.vault);
    auto latest = store_.GetKeyVersion(record.vault, record.name, "");
    if (!policy.ok() || !vault.ok() || !vault->has_value() || !latest.ok()) {
      // The key may have been deleted since the listing; anything else is worth a log line.
      if (latest.ok()) ++summary.failed;
      continue;
    }
    for (const auto& action : policy->actions) {
      auto due = ActionDueTime(action, latest->created, latest->expires);
      if (!due || now < *due) continue;
      if (action.type == LifetimeActionType::kRotate) {
        auto rotated = keys_.RotateIfLatest(**vault, *latest);
        if (rotated.ok()) {
          ++summary.rotated;
          spdlog::info("rotated key {} in vault {} (policy)", record.name, record.vault);
        } else if (!store::HasReason(rotated.status(), store::reason::kStale)) {
          ++summary.failed;
          spdlog::warn("automatic rotation of key {} in vault {} failed: {}", record.name,
                       record.vault, rotated.status().message());
        }
        break;  // the new version has its own triggers
      }
      store::KeyEventRecord event{record.vault, record.name, latest->version, "NearExpiry", now};
      auto recorded = store_.RecordKeyEvent(event);
      if (recorded.ok() && *recorded) {
        ++summary.notified;
        spdlog::info("key {} in vault {} is near expiry (version {})", record.name, record.vault,
                     latest->version);
      }
    }
  }
  return summary;
}

}  // namespace coffre::service
