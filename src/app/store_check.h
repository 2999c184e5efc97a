// `coffre store check`: verifies a store offline or beside a running server.
//
// Opening the store applies pending migrations and refuses a schema newer than this build. The
// check then asks the store for its own integrity and cross-row consistency
// (Store::CheckConsistency) and scans every version of every key, active and soft-deleted
// (Store::ScanKeyVersions): each sealed private key must open with the master key under its own
// row's binding, parse as a key of the stored type, and (RSA, EC) match the stored public key.
// Every version of every secret (Store::ScanSecretVersions) too: each sealed value must open under
// its row's binding. Problems name vaults, keys, secrets and versions; key material and secret
// values never appear in the report.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "coffre/status.h"
#include "service/material_barrier.h"
#include "store/store.h"

namespace coffre::app {

struct StoreCheckConfig {
  std::string data_dir = "./coffre-data";
  std::string storage;          // empty: SQLite DATA_DIR/coffre.db; or sqlite:PATH, postgresql://
  std::string master_key_file;  // empty: DATA_DIR/master.key
};

struct StoreCheckReport {
  int64_t keys = 0;                   // every key seen by the scan, soft-deleted ones included
  int64_t deleted_keys = 0;           // of which soft-deleted
  int64_t versions = 0;               // every version checked
  int64_t unopened = 0;               // versions whose sealed private key did not open
  int64_t secrets = 0;                // every secret seen by the scan, soft-deleted ones included
  int64_t secret_versions = 0;        // every secret version checked
  int64_t unopened_secrets = 0;       // secret versions whose sealed value did not open
  std::vector<std::string> problems;  // empty: the store is sound

  bool ok() const { return problems.empty(); }
};

// Checks an open store, opening its sealed material through `material` (which holds the master
// key). An error status means the check could not run to its end (e.g. the database failed
// mid-scan); problems found are in the report.
Result<StoreCheckReport> CheckStore(store::Store& store, const service::MaterialBarrier& material,
                                    int page_size = 256);

// The command: opens the store and the master key (neither is created if missing), checks, and
// writes the report to `out` (errors that stop the check to `err`). Returns the exit code: 0 when
// the store is sound, 1 when it is damaged or cannot be checked.
int StoreCheckCommand(const StoreCheckConfig& config, std::ostream& out, std::ostream& err);

}  // namespace coffre::app
