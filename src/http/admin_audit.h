// The admin API's read-only audit routes, under /coffre-admin/v1/audit (admin token, checked by
// HandleAdminRequest before these run):
//   GET audit          the newest matching lines (since, until: unix ms; after: seq; vault,
//                      caller, operation, status, top), and with verify=true the chain status
//   GET audit/summary  requests per operation: count, errors, mean and p95 latency, count per
//                      time bucket (since, until, bucket: seconds) -- the console's dashboard
//   GET audit/verify   the chain status alone, as `coffre audit verify` computes it
// docs/admin-api.md describes the shapes.
#pragma once

#include "audit/audit_query.h"
#include "common/clock.h"
#include "http/api_request.h"
#include "http/request_target.h"

namespace coffre::http {

// `source` null: the server keeps no audit log (404). `segments` are the request's, from "audit".
ApiResponse HandleAuditRead(const audit::AuditSource* source, const Clock& clock,
                            const ApiRequest& request, const RequestTarget& target);

}  // namespace coffre::http
