// RotationScheduler: applies rotation policies. Each run looks at every key with a policy and
// - rotates it when a Rotate trigger is due for its latest version (the new version gets
//   exp = now + expiryTime), and
// - records a "NearExpiry" event when a Notify trigger is due (once per version).
// Decisions are made from the latest version's own times, and the rotation only lands if that
// version is still the latest, so a run after a restart, or two runs at once, never rotate the
// same key twice for one trigger.
#pragma once

#include "coffre/status.h"
#include "common/clock.h"
#include "service/key_service.h"
#include "service/vault_directory.h"
#include "store/store.h"

namespace coffre::service {

struct RotationRunSummary {
  int rotated = 0;
  int notified = 0;
  int failed = 0;
};

class RotationScheduler {
 public:
  RotationScheduler(store::Store& store, KeyService& keys, VaultDirectory& vaults,
                    const Clock& clock)
      : store_(store), keys_(keys), vaults_(vaults), clock_(clock) {}

  Result<RotationRunSummary> RunOnce();

 private:
  store::Store& store_;
  KeyService& keys_;
  VaultDirectory& vaults_;
  const Clock& clock_;
};

}  // namespace coffre::service
