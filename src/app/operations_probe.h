// The running server's OperationsProbe: per-vault counts read from the store when /metrics is
// scraped, and /readyz's checks (a setting written to the store, the audit log's health).
#pragma once

#include "common/clock.h"
#include "http/operations_probe.h"
#include "store/store.h"

namespace coffre::audit {
class AuditLog;
}

namespace coffre::app {

class ServerOperationsProbe final : public http::OperationsProbe {
 public:
  // Counting stops at this many objects per vault and kind (the gauge then reads this figure).
  static constexpr int64_t kMaxCounted = 1000000;

  ServerOperationsProbe(store::Store& store, audit::AuditLog* audit_log, const Clock& clock)
      : store_(store), audit_log_(audit_log), clock_(clock) {}

  void AppendMetrics(metrics::ExpositionWriter& out) override;
  Status Ready() override;

 private:
  store::Store& store_;
  audit::AuditLog* audit_log_;
  const Clock& clock_;
};

}  // namespace coffre::app
