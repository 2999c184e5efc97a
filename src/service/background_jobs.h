// BackgroundJobs: the work a server does on its own schedule, not for a request: the scheduled
// purge of deleted keys and secrets past their retention, then a run of the rotation policies.
//
// Replicas sharing a store take turns: a round runs only on the replica holding the job lease,
// which lasts two intervals, so a holder that stops (crashes, is shut down) is replaced within
// two rounds while a live holder keeps renewing it. Whoever calls RunOnce decides when rounds
// happen (the server: every interval(), on a worker thread).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <utility>

#include "common/clock.h"
#include "service/key_service.h"
#include "service/rotation_scheduler.h"
#include "service/secret_service.h"
#include "store/store.h"

namespace coffre::service {

struct BackgroundRunSummary {
  bool leased = false;  // false: another replica holds the lease; nothing ran
  int purged = 0;          // keys
  int purged_secrets = 0;  // secrets
  RotationRunSummary rotations;
};

class BackgroundJobs {
 public:
  static constexpr std::chrono::seconds kDefaultInterval{60};

  // `holder` names this replica in the lease; it must differ between replicas.
  BackgroundJobs(store::Store& store, KeyService& keys, SecretService* secrets,
                 RotationScheduler& rotations, const Clock& clock, std::string holder,
                 std::chrono::seconds interval = kDefaultInterval)
      : store_(store),
        keys_(keys),
        secrets_(secrets),
        rotations_(rotations),
        clock_(clock),
        holder_(std::move(holder)),
        interval_(interval) {}
  // Without secrets: keys only.
  BackgroundJobs(store::Store& store, KeyService& keys, RotationScheduler& rotations,
                 const Clock& clock, std::string holder,
                 std::chrono::seconds interval = kDefaultInterval)
      : BackgroundJobs(store, keys, nullptr, rotations, clock, std::move(holder), interval) {}

  // One round. A failing job is logged and does not stop the others. Rounds never overlap (the
  // test harness runs one at once when its clock moves, besides the periodic ones).
  BackgroundRunSummary RunOnce();

  std::chrono::seconds interval() const { return interval_; }

 private:
  store::Store& store_;
  KeyService& keys_;
  SecretService* secrets_;  // null: no secrets to purge
  RotationScheduler& rotations_;
  const Clock& clock_;
  const std::string holder_;
  const std::chrono::seconds interval_;
  std::mutex round_mutex_;
};

}  // namespace coffre::service
