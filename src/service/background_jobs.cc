#include "service/background_jobs.h"

#include <spdlog/spdlog.h>

namespace coffre::service {
namespace {

constexpr std::string_view kLeaseName = "background-jobs";

}  // namespace

BackgroundRunSummary BackgroundJobs::RunOnce() {
  std::lock_guard round(round_mutex_);
  BackgroundRunSummary summary;
  auto leased = store_.maintenance().TryAcquireJobLease(kLeaseName, holder_, clock_.NowSeconds(),
                                                        2 * interval_.count());
  if (!leased.ok()) {
    spdlog::debug("background jobs: the lease could not be taken: {}", leased.status().message());
    return summary;
  }
  if (!*leased) return summary;
  summary.leased = true;

  auto purged = keys_.PurgeExpiredKeys();
  if (!purged.ok()) {
    spdlog::warn("scheduled purge failed: {}", purged.status().message());
  } else {
    summary.purged = *purged;
    if (*purged > 0) spdlog::info("scheduled purge removed {} deleted keys", *purged);
  }
  // Certificates before secrets: a certificate's key and secret go with it.
  if (auto certificates = store_.PurgeExpiredCertificates(clock_.NowSeconds());
      !certificates.ok()) {
    spdlog::warn("scheduled purge of certificates failed: {}", certificates.status().message());
  } else if (*certificates > 0) {
    spdlog::info("scheduled purge removed {} deleted certificates", *certificates);
  }
  if (secrets_ != nullptr) {
    auto purged_secrets = secrets_->PurgeExpiredSecrets();
    if (!purged_secrets.ok()) {
      spdlog::warn("scheduled purge of secrets failed: {}", purged_secrets.status().message());
    } else {
      summary.purged_secrets = *purged_secrets;
      if (*purged_secrets > 0) {
        spdlog::info("scheduled purge removed {} deleted secrets", *purged_secrets);
      }
    }
  }
  auto rotated = rotations_.RunOnce();
  if (!rotated.ok()) {
    spdlog::warn("rotation run failed: {}", rotated.status().message());
  } else {
    summary.rotations = *rotated;
  }
  return summary;
}

}  // namespace coffre::service
