// What GET /metrics and GET /readyz need beyond the process-wide counters (common/metrics.h):
// figures read from the store when scraped, and whether the store and the audit log take writes.
// The app layer implements it over the running server's store and audit log.
#pragma once

#include "coffre/status.h"
#include "common/metrics.h"

namespace coffre::http {

class OperationsProbe {
 public:
  virtual ~OperationsProbe() = default;
  // Gauges computed now (keys and secrets per vault).
  virtual void AppendMetrics(metrics::ExpositionWriter& out) = 0;
  // OK if the store and the audit log both accept writes now; the first that does not otherwise.
  virtual Status Ready() = 0;
};

}  // namespace coffre::http
