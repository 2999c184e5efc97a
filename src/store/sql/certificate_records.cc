// Certificates: their versions, policy, pending operation, soft delete, recover and purge, with
// the key and the managed secret of the same name written, deleted, recovered and purged in the
// same transaction (object_steps.h), so the three views never disagree. The rules are written
// once for both engines (sql_store.h says how they stay safe under concurrency).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "store/sql/object_steps.h"
#include "store/sql/record_codec.h"
#include "store/sql/sql_store.h"

namespace coffre::store::sql {
namespace {

using Mode = Engine::Mode;

// Every certificate query selects the same columns so one decoder reads them all.
#define COFFRE_CERT_SELECT                                                                 \
  "SELECT c.vault, c.name, v.version, v.sequence, v.cer, v.x5t, v.enabled, v.not_before, " \
  "v.expires, v.created, v.updated, v.tags, v.key_version, v.secret_version, c.name_key, " \
  "c.deleted_date, c.scheduled_purge_date, c.policy "                                      \
  "FROM certificates c JOIN certificate_versions v ON v.vault = c.vault AND v.name_key = " \
  "c.name_key "

constexpr char kGetVersionSql[] = COFFRE_CERT_SELECT
    "WHERE c.vault = $1 AND c.name_key = $2 AND c.deleted_date IS NULL AND v.version = $3";
// $3: true for a soft-deleted certificate, false for an active one.
constexpr char kGetLatestSql[] = COFFRE_CERT_SELECT
    "WHERE c.vault = $1 AND c.name_key = $2 AND (c.deleted_date IS NOT NULL) = $3 "
    "ORDER BY v.sequence DESC LIMIT 1";
constexpr char kListLatestSql[] = COFFRE_CERT_SELECT
    "WHERE c.vault = $1 AND (c.deleted_date IS NOT NULL) = $2 AND c.name_key > $3 "
    "AND v.sequence = (SELECT MAX(m.sequence) FROM certificate_versions m "
    "WHERE m.vault = c.vault AND m.name_key = c.name_key) "
    "ORDER BY c.name_key LIMIT $4";
constexpr char kListVersionsSql[] = COFFRE_CERT_SELECT
    "WHERE c.vault = $1 AND c.name_key = $2 AND c.deleted_date IS NULL AND v.sequence > $3 "
    "ORDER BY v.sequence LIMIT $4";
#undef COFFRE_CERT_SELECT

#define COFFRE_CERT_STATE \
  "SELECT name, deleted_date, next_sequence, policy, policy_updated FROM certificates "
constexpr char kStateSql[] = COFFRE_CERT_STATE "WHERE vault = $1 AND name_key = $2";
// Held until the transaction ends by every call that changes the certificate or what it owns.
constexpr char kLockSql[] = COFFRE_CERT_STATE "WHERE vault = $1 AND name_key = $2 FOR UPDATE";
#undef COFFRE_CERT_STATE
constexpr char kOwnsSql[] = "SELECT 1 FROM certificates WHERE vault = $1 AND name_key = $2";
constexpr char kKeyExistsSql[] = "SELECT 1 FROM keys WHERE vault = $1 AND name_key = $2";
constexpr char kSecretExistsSql[] = "SELECT 1 FROM secrets WHERE vault = $1 AND name_key = $2";
// Waits for a concurrent creator (PostgreSQL) and then inserts nothing.
constexpr char kInsertCertificateSql[] =
    "INSERT INTO certificates (vault, name_key, name, deleted_date, scheduled_purge_date, "
    "next_sequence, policy, policy_updated) VALUES ($1, $2, $3, NULL, NULL, 1, $4, $5) "
    "ON CONFLICT (vault, name_key) DO NOTHING";
constexpr char kBumpSequenceSql[] =
    "UPDATE certificates SET next_sequence = next_sequence + 1 WHERE vault = $1 AND name_key = $2";
constexpr char kSetPolicySql[] =
    "UPDATE certificates SET policy = $3, policy_updated = $4 WHERE vault = $1 AND name_key = $2";
constexpr char kVersionExistsSql[] =
    "SELECT 1 FROM certificate_versions WHERE vault = $1 AND name_key = $2 AND version = $3";
constexpr char kHasVersionsSql[] =
    "SELECT 1 FROM certificate_versions WHERE vault = $1 AND name_key = $2 LIMIT 1";
constexpr char kInsertVersionSql[] =
    "INSERT INTO certificate_versions (vault, name_key, version, sequence, cer, x5t, enabled, "
    "not_before, expires, created, updated, tags, key_version, secret_version) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
constexpr char kUpdateVersionSql[] =
    "UPDATE certificate_versions SET enabled = $1, not_before = $2, expires = $3, tags = $4, "
    "updated = $5 WHERE vault = $6 AND name_key = $7 AND version = $8";
constexpr char kSetDeletedSql[] =
    "UPDATE certificates SET deleted_date = $3, scheduled_purge_date = $4 "
    "WHERE vault = $1 AND name_key = $2";
// Versions and the operation go by ON DELETE CASCADE; the key and secret by their own steps.
constexpr char kDeleteCertificateSql[] =
    "DELETE FROM certificates WHERE vault = $1 AND name_key = $2";
// In one order, so two replicas purging at once cannot deadlock.
constexpr char kExpiredSql[] =
    "SELECT vault, name_key FROM certificates WHERE deleted_date IS NOT NULL AND "
    "scheduled_purge_date <= $1 ORDER BY vault, name_key FOR UPDATE";

#define COFFRE_OPERATION_SELECT                                                                \
  "SELECT c.vault, c.name, o.request_id, o.status, o.status_details, o.error_code, "           \
  "o.error_message, o.cancellation_requested, o.issuer, o.target_version, o.csr, o.key_type, " \
  "o.public_key, o.sealed_private_key, o.created, o.updated "                                  \
  "FROM certificate_operations o JOIN certificates c ON c.vault = o.vault AND "                \
  "c.name_key = o.name_key "
constexpr char kGetOperationSql[] =
    COFFRE_OPERATION_SELECT "WHERE o.vault = $1 AND o.name_key = $2 AND c.deleted_date IS NULL";
#undef COFFRE_OPERATION_SELECT
constexpr char kPutOperationSql[] =
    "INSERT INTO certificate_operations (vault, name_key, request_id, status, status_details, "
    "error_code, error_message, cancellation_requested, issuer, target_version, csr, key_type, "
    "public_key, sealed_private_key, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
    "$9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (vault, name_key) DO UPDATE SET "
    "request_id = excluded.request_id, status = excluded.status, "
    "status_details = excluded.status_details, error_code = excluded.error_code, "
    "error_message = excluded.error_message, "
    "cancellation_requested = excluded.cancellation_requested, issuer = excluded.issuer, "
    "target_version = excluded.target_version, csr = excluded.csr, key_type = excluded.key_type, "
    "public_key = excluded.public_key, sealed_private_key = excluded.sealed_private_key, "
    "created = excluded.created, updated = excluded.updated";
constexpr char kUpdateOperationSql[] =
    "UPDATE certificate_operations SET status = $3, status_details = $4, error_code = $5, "
    "error_message = $6, cancellation_requested = $7, updated = $8 "
    "WHERE vault = $1 AND name_key = $2 AND request_id = $9";
constexpr char kDeleteOperationSql[] =
    "DELETE FROM certificate_operations WHERE vault = $1 AND name_key = $2";
// Only one operation of a certificate runs at a time.
constexpr char kInProgress[] = "inProgress";

Status CertificateNotFound(std::string_view name) {
  return Status::NotFound("NotFound", "certificate '" + std::string(name) + "' not found");
}

Status CertificateVersionNotFound(std::string_view name, std::string_view version) {
  return Status::NotFound("NotFound", "certificate '" + std::string(name) + "' version " +
                                          std::string(version) + " not found");
}

Status DeletedCertificateNotFound(std::string_view name) {
  return Status::NotFound("NotFound", "deleted certificate '" + std::string(name) + "' not found");
}

Status OperationNotFound(std::string_view name) {
  return Status::NotFound("NotFound",
                          "certificate '" + std::string(name) + "' has no pending operation");
}

struct CertificateState {
  std::string name;  // display name
  bool deleted = false;
  int64_t next_sequence = 1;
  std::string policy;
  int64_t policy_updated = 0;
};

Result<std::optional<CertificateState>> LoadState(Transaction& txn, const char* sql,
                                                  std::string_view vault,
                                                  std::string_view name_key) {
  std::optional<CertificateState> state;
  COFFRE_RETURN_IF_ERROR(
      txn.Query(sql, Params().Text(vault).Text(name_key), [&](const Row& row) -> Status {
        CertificateState s;
        std::optional<int64_t> deleted_date;
        if (!row.Text(0, &s.name) || !row.OptInt(1, &deleted_date) ||
            !row.Int(2, &s.next_sequence) || s.next_sequence < 1 || !row.Document(3, &s.policy) ||
            !row.Int(4, &s.policy_updated)) {
          return Corrupt("certificates");
        }
        s.deleted = deleted_date.has_value();
        state = std::move(s);
        return Status::Ok();
      }));
  return state;
}

struct CertificateRow {
  DeletedCertificateRecord record;  // dates are 0 for an active certificate
  std::string name_key;
};

Status ReadCertificateRow(const Row& row, CertificateRow* out) {
  CertificateVersionRecord& v = out->record.latest;
  std::string tags;
  std::optional<int64_t> deleted_date;
  std::optional<int64_t> purge_date;
  if (!row.Text(0, &v.vault) || !row.Text(1, &v.name) || !row.Text(2, &v.version) ||
      !row.Int(3, &v.sequence) || !row.Blob(4, &v.cer) || !row.Blob(5, &v.x5t) ||
      !row.Bool(6, &v.enabled) || !row.OptInt(7, &v.not_before) || !row.OptInt(8, &v.expires) ||
      !row.Int(9, &v.created) || !row.Int(10, &v.updated) || !row.Document(11, &tags) ||
      !row.Text(12, &v.key_version) || !row.Text(13, &v.secret_version) ||
      !row.Text(14, &out->name_key) || !row.OptInt(15, &deleted_date) ||
      !row.OptInt(16, &purge_date) || !row.Document(17, &out->record.policy) ||
      !DecodeTags(tags, &v.tags)) {
    return Corrupt("certificate_versions");
  }
  out->record.deleted_date = deleted_date.value_or(0);
  out->record.scheduled_purge_date = purge_date.value_or(0);
  return Status::Ok();
}

Result<std::vector<CertificateRow>> QueryRows(Transaction& txn, const char* sql,
                                              const Params& params) {
  return QueryAll<CertificateRow>(txn, sql, params, ReadCertificateRow);
}

Result<CertificateRow> LoadLatest(Transaction& txn, std::string_view vault,
                                  std::string_view name_key, bool deleted,
                                  std::string_view display_name) {
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<CertificateRow> rows,
      QueryRows(txn, kGetLatestSql, Params().Text(vault).Text(name_key).Bool(deleted)));
  if (rows.empty()) {
    return deleted ? DeletedCertificateNotFound(display_name) : CertificateNotFound(display_name);
  }
  return std::move(rows.front());
}

Status ReadOperation(const Row& row, CertificateOperationRecord* o) {
  if (!row.Text(0, &o->vault) || !row.Text(1, &o->name) || !row.Text(2, &o->request_id) ||
      !row.Text(3, &o->status) || !row.OptText(4, &o->status_details) ||
      !row.OptText(5, &o->error_code) || !row.OptText(6, &o->error_message) ||
      !row.Bool(7, &o->cancellation_requested) || !row.Text(8, &o->issuer) ||
      !row.Text(9, &o->target_version) || !row.Blob(10, &o->csr) || !row.Text(11, &o->key_type) ||
      !row.Blob(12, &o->public_key) || !row.Blob(13, &o->sealed_private_key) ||
      !row.Int(14, &o->created) || !row.Int(15, &o->updated)) {
    return Corrupt("certificate_operations");
  }
  return Status::Ok();
}

Result<std::optional<CertificateOperationRecord>> LoadOperation(Transaction& txn,
                                                                std::string_view vault,
                                                                std::string_view name_key) {
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<CertificateOperationRecord> rows,
      QueryAll<CertificateOperationRecord>(txn, kGetOperationSql,
                                           Params().Text(vault).Text(name_key), ReadOperation));
  if (rows.empty()) return std::optional<CertificateOperationRecord>();
  return std::optional<CertificateOperationRecord>(std::move(rows.front()));
}

Status PutOperation(Transaction& txn, std::string_view vault, std::string_view name_key,
                    const CertificateOperationRecord& o) {
  Params params;
  params.Text(vault)
      .Text(name_key)
      .Text(AsciiLower(o.request_id))
      .Text(o.status)
      .OptText(o.status_details)
      .OptText(o.error_code)
      .OptText(o.error_message)
      .Bool(o.cancellation_requested)
      .Text(o.issuer)
      .Text(AsciiLower(o.target_version))
      .Blob(o.csr)
      .Text(o.key_type)
      .Blob(o.public_key)
      .Blob(o.sealed_private_key)
      .Int(o.created)
      .Int(o.updated);
  return txn.Exec(kPutOperationSql, params).status();
}

// Locks the certificate's row, creating it (with `policy`) if absent. Refuses a soft-deleted
// certificate, and a name whose key or secret exists without a certificate owning it.
Result<CertificateState> ClaimCertificate(Transaction& txn, const std::string& vault,
                                          const std::string& name_key,
                                          const std::string& display_name, std::string_view policy,
                                          int64_t now) {
  COFFRE_RETURN_IF_ERROR(CheckVaultExists(txn, vault));
  COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                          LoadState(txn, kLockSql, vault, name_key));
  if (!state.has_value()) {
    for (const char* sql : {kKeyExistsSql, kSecretExistsSql}) {
      COFFRE_ASSIGN_OR_RETURN(bool taken, Exists(txn, sql, Params().Text(vault).Text(name_key)));
      if (taken) {
        return Status::Conflict("'" + display_name + "' is a key or secret of no certificate",
                                std::string(reason::kManaged));
      }
    }
    COFFRE_ASSIGN_OR_RETURN(
        int64_t inserted,
        txn.Exec(kInsertCertificateSql,
                 Params().Text(vault).Text(name_key).Text(display_name).Document(policy).Int(now)));
    if (inserted == 1) return CertificateState{display_name, false, 1, std::string(policy), now};
    COFFRE_ASSIGN_OR_RETURN(state, LoadState(txn, kLockSql, vault, name_key));
    if (!state.has_value()) return txn.RunAgain("certificate '" + display_name + "' changed");
  }
  if (state->deleted) {
    return Status::Conflict("certificate '" + display_name + "' is deleted",
                            std::string(reason::kDeleted));
  }
  return std::move(*state);
}

Result<std::vector<CertificateRow>> ListLatest(Transaction& txn, std::string_view vault,
                                               bool deleted, std::string_view cursor, int limit,
                                               std::string* next_cursor) {
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<CertificateRow> rows,
      QueryRows(txn, kListLatestSql,
                Params().Text(vault).Bool(deleted).Text(cursor).Int(int64_t{limit} + 1)));
  if (rows.size() > static_cast<size_t>(limit)) {
    rows.resize(static_cast<size_t>(limit));
    *next_cursor = rows.back().name_key;
  }
  return rows;
}

// Sets or clears the deletion dates of the certificate, its key and its secret.
Status SetAllDeleted(Transaction& txn, const std::string& vault, const std::string& name_key,
                     std::optional<int64_t> deleted_date,
                     std::optional<int64_t> scheduled_purge_date) {
  COFFRE_RETURN_IF_ERROR(
      txn.Exec(
             kSetDeletedSql,
             Params().Text(vault).Text(name_key).OptInt(deleted_date).OptInt(scheduled_purge_date))
          .status());
  COFFRE_ASSIGN_OR_RETURN(
      bool key_found, SetKeyDeletedStep(txn, vault, name_key, deleted_date, scheduled_purge_date));
  COFFRE_ASSIGN_OR_RETURN(
      bool secret_found,
      SetSecretDeletedStep(txn, vault, name_key, deleted_date, scheduled_purge_date));
  if (!key_found || !secret_found) {
    return Status::Internal("store: certificate '" + name_key + "' lacks its key or secret");
  }
  return Status::Ok();
}

Status RemoveAll(Transaction& txn, std::string_view vault, std::string_view name_key) {
  COFFRE_RETURN_IF_ERROR(RemoveKeyStep(txn, vault, name_key));
  COFFRE_RETURN_IF_ERROR(RemoveSecretStep(txn, vault, name_key));
  return txn.Exec(kDeleteCertificateSql, Params().Text(vault).Text(name_key)).status();
}

}  // namespace

Result<bool> CertificateOwnsName(Transaction& txn, std::string_view vault_key,
                                 std::string_view name_key) {
  return Exists(txn, kOwnsSql, Params().Text(vault_key).Text(name_key));
}

Status RefuseIfCertificateOwns(Transaction& txn, std::string_view vault_key,
                               std::string_view name_key, std::string_view what) {
  COFFRE_ASSIGN_OR_RETURN(bool owned, CertificateOwnsName(txn, vault_key, name_key));
  if (!owned) return Status::Ok();
  return Status::Conflict(
      std::string(what) + " '" + std::string(name_key) + "' is managed by a certificate",
      std::string(reason::kManaged));
}

// ---- certificates

Status SqlStore::AddCertificateVersion(CertificateVersionRecord& certificate, KeyVersionRecord& key,
                                       SecretVersionRecord& secret, std::string_view policy,
                                       const std::optional<CertificateOperationRecord>& operation) {
  if (certificate.name.empty() || certificate.version.empty()) {
    return Status::BadParameter("certificate name and version must not be empty");
  }
  const std::string vault = AsciiLower(certificate.vault);
  const std::string name_key = AsciiLower(certificate.name);
  const std::string version = AsciiLower(certificate.version);
  if (AsciiLower(key.vault) != vault || AsciiLower(key.name) != name_key ||
      AsciiLower(secret.vault) != vault || AsciiLower(secret.name) != name_key) {
    return Status::BadParameter("a certificate's key and secret must carry its name");
  }
  if (!secret.managed) return Status::BadParameter("a certificate's secret must be managed");
  const std::string tags = EncodeTags(certificate.tags);
  AddedVersion key_added;
  AddedVersion secret_added;
  CertificateState state;
  Status status = Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(state, ClaimCertificate(txn, vault, name_key, certificate.name, policy,
                                                    certificate.created));
    COFFRE_ASSIGN_OR_RETURN(bool exists, Exists(txn, kVersionExistsSql,
                                                Params().Text(vault).Text(name_key).Text(version)));
    if (exists) {
      return Status::Conflict(
          "certificate '" + certificate.name + "' already has version " + version,
          std::string(reason::kVersionExists));
    }
    // Only the completion of the operation in progress may add a version while it runs.
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateOperationRecord> current,
                            LoadOperation(txn, vault, name_key));
    if (current.has_value() && current->status == kInProgress &&
        (!operation.has_value() ||
         AsciiLower(operation->request_id) != AsciiLower(current->request_id))) {
      return Status::Conflict("certificate '" + state.name + "' has an operation in progress",
                              std::string(reason::kPending));
    }
    COFFRE_ASSIGN_OR_RETURN(key_added, AddKeyVersionStep(txn, key, std::nullopt, true));
    COFFRE_ASSIGN_OR_RETURN(secret_added, AddSecretVersionStep(txn, secret, true));
    Params params;
    params.Text(vault)
        .Text(name_key)
        .Text(version)
        .Int(state.next_sequence)
        .Blob(certificate.cer)
        .Blob(certificate.x5t)
        .Bool(certificate.enabled)
        .OptInt(certificate.not_before)
        .OptInt(certificate.expires)
        .Int(certificate.created)
        .Int(certificate.updated)
        .Document(tags)
        .Text(key_added.version)
        .Text(secret_added.version);
    COFFRE_RETURN_IF_ERROR(txn.Exec(kInsertVersionSql, params).status());
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(kBumpSequenceSql, Params().Text(vault).Text(name_key)).status());
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(kSetPolicySql,
                 Params().Text(vault).Text(name_key).Document(policy).Int(certificate.updated))
            .status());
    if (operation.has_value()) {
      COFFRE_RETURN_IF_ERROR(PutOperation(txn, vault, name_key, *operation));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  certificate.vault = key.vault = secret.vault = vault;
  certificate.name = state.name;
  certificate.version = version;
  certificate.sequence = state.next_sequence;
  certificate.key_version = key_added.version;
  certificate.secret_version = secret_added.version;
  key.name = std::move(key_added.display_name);
  key.version = key_added.version;
  key.sequence = key_added.sequence;
  secret.name = std::move(secret_added.display_name);
  secret.version = secret_added.version;
  secret.sequence = secret_added.sequence;
  return Status::Ok();
}

Status SqlStore::BeginCertificateOperation(std::string_view policy,
                                           const CertificateOperationRecord& operation) {
  if (operation.name.empty() || operation.request_id.empty()) {
    return Status::BadParameter("certificate name and request id must not be empty");
  }
  const std::string vault = AsciiLower(operation.vault);
  const std::string name_key = AsciiLower(operation.name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(
        CertificateState state,
        ClaimCertificate(txn, vault, name_key, operation.name, policy, operation.created));
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateOperationRecord> current,
                            LoadOperation(txn, vault, name_key));
    if (current.has_value() && current->status == kInProgress) {
      return Status::Conflict("certificate '" + state.name + "' has an operation in progress",
                              std::string(reason::kPending));
    }
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(kSetPolicySql,
                 Params().Text(vault).Text(name_key).Document(policy).Int(operation.created))
            .status());
    return PutOperation(txn, vault, name_key, operation);
  });
}

Result<CertificateOperationRecord> SqlStore::GetCertificateOperation(std::string_view vault,
                                                                     std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<CertificateOperationRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateOperationRecord> op,
                            LoadOperation(txn, AsciiLower(vault), AsciiLower(name)));
    if (!op.has_value()) return OperationNotFound(name);
    return std::move(*op);
  });
}

Result<CertificateOperationRecord> SqlStore::UpdateCertificateOperation(
    const CertificateOperationRecord& operation) {
  const std::string vault = AsciiLower(operation.vault);
  const std::string name_key = AsciiLower(operation.name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<CertificateOperationRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                            LoadState(txn, kLockSql, vault, name_key));
    if (!state.has_value() || state->deleted) return OperationNotFound(operation.name);
    Params params;
    params.Text(vault)
        .Text(name_key)
        .Text(operation.status)
        .OptText(operation.status_details)
        .OptText(operation.error_code)
        .OptText(operation.error_message)
        .Bool(operation.cancellation_requested)
        .Int(operation.updated)
        .Text(AsciiLower(operation.request_id));
    COFFRE_ASSIGN_OR_RETURN(int64_t updated, txn.Exec(kUpdateOperationSql, params));
    if (updated == 0) return OperationNotFound(operation.name);
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateOperationRecord> op,
                            LoadOperation(txn, vault, name_key));
    if (!op.has_value()) return Status::Internal("store: updated operation vanished");
    return std::move(*op);
  });
}

Result<CertificateOperationRecord> SqlStore::DeleteCertificateOperation(std::string_view vault,
                                                                        std::string_view name) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<CertificateOperationRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                            LoadState(txn, kLockSql, vault_key, name_key));
    if (!state.has_value() || state->deleted) return OperationNotFound(name);
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateOperationRecord> op,
                            LoadOperation(txn, vault_key, name_key));
    if (!op.has_value()) return OperationNotFound(name);
    COFFRE_ASSIGN_OR_RETURN(bool has_versions,
                            Exists(txn, kHasVersionsSql, Params().Text(vault_key).Text(name_key)));
    // A certificate that never got a version was only its operation.
    const char* sql = has_versions ? kDeleteOperationSql : kDeleteCertificateSql;
    COFFRE_RETURN_IF_ERROR(txn.Exec(sql, Params().Text(vault_key).Text(name_key)).status());
    return std::move(*op);
  });
}

Result<CertificateVersionRecord> SqlStore::GetCertificateVersion(std::string_view vault,
                                                                 std::string_view name,
                                                                 std::string_view version) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<CertificateVersionRecord> {
    if (version.empty()) {
      COFFRE_ASSIGN_OR_RETURN(CertificateRow row,
                              LoadLatest(txn, vault_key, name_key, false, name));
      return std::move(row.record.latest);
    }
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<CertificateRow> rows,
        QueryRows(txn, kGetVersionSql,
                  Params().Text(vault_key).Text(name_key).Text(AsciiLower(version))));
    if (rows.empty()) return CertificateVersionNotFound(name, version);
    return std::move(rows.front().record.latest);
  });
}

Result<Page<CertificateVersionRecord>> SqlStore::ListCertificates(std::string_view vault,
                                                                  std::string_view cursor,
                                                                  int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<Page<CertificateVersionRecord>> {
    Page<CertificateVersionRecord> page;
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<CertificateRow> rows,
        ListLatest(txn, AsciiLower(vault), false, cursor, limit, &page.next_cursor));
    for (CertificateRow& row : rows) page.items.push_back(std::move(row.record.latest));
    return page;
  });
}

Result<Page<CertificateVersionRecord>> SqlStore::ListCertificateVersions(std::string_view vault,
                                                                         std::string_view name,
                                                                         std::string_view cursor,
                                                                         int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_ASSIGN_OR_RETURN(int64_t after, ParseSequenceCursor(cursor));
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kSnapshot, [&](Transaction& txn) -> Result<Page<CertificateVersionRecord>> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                            LoadState(txn, kStateSql, vault_key, name_key));
    if (!state.has_value() || state->deleted) return CertificateNotFound(name);
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<CertificateRow> rows,
        QueryRows(txn, kListVersionsSql,
                  Params().Text(vault_key).Text(name_key).Int(after).Int(int64_t{limit} + 1)));
    Page<CertificateVersionRecord> page;
    if (rows.size() > static_cast<size_t>(limit)) {
      rows.resize(static_cast<size_t>(limit));
      page.next_cursor = std::to_string(rows.back().record.latest.sequence);
    }
    for (CertificateRow& row : rows) page.items.push_back(std::move(row.record.latest));
    return page;
  });
}

Result<CertificateVersionRecord> SqlStore::UpdateCertificateVersion(
    const CertificateVersionRecord& record) {
  const std::string vault = AsciiLower(record.vault);
  const std::string name_key = AsciiLower(record.name);
  const std::string tags = EncodeTags(record.tags);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<CertificateVersionRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                            LoadState(txn, kLockSql, vault, name_key));
    if (!state.has_value() || state->deleted) return CertificateNotFound(record.name);
    std::string version = AsciiLower(record.version);
    CertificateRow current;
    if (version.empty()) {
      COFFRE_ASSIGN_OR_RETURN(current, LoadLatest(txn, vault, name_key, false, record.name));
      version = current.record.latest.version;
    } else {
      COFFRE_ASSIGN_OR_RETURN(
          std::vector<CertificateRow> rows,
          QueryRows(txn, kGetVersionSql, Params().Text(vault).Text(name_key).Text(version)));
      if (rows.empty()) return CertificateVersionNotFound(record.name, version);
      current = std::move(rows.front());
    }
    Params params;
    params.Bool(record.enabled)
        .OptInt(record.not_before)
        .OptInt(record.expires)
        .Document(tags)
        .Int(record.updated)
        .Text(vault)
        .Text(name_key)
        .Text(version);
    COFFRE_RETURN_IF_ERROR(txn.Exec(kUpdateVersionSql, params).status());
    // The key and secret versions follow the certificate's attributes.
    COFFRE_RETURN_IF_ERROR(SetKeyVersionAttributesStep(
        txn, vault, name_key, current.record.latest.key_version, record.enabled, record.not_before,
        record.expires, record.updated));
    COFFRE_RETURN_IF_ERROR(SetSecretVersionAttributesStep(
        txn, vault, name_key, current.record.latest.secret_version, record.enabled,
        record.not_before, record.expires, record.updated));
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<CertificateRow> rows,
        QueryRows(txn, kGetVersionSql, Params().Text(vault).Text(name_key).Text(version)));
    if (rows.empty()) return Status::Internal("store: updated certificate version vanished");
    return std::move(rows.front().record.latest);
  });
}

Result<CertificatePolicyRecord> SqlStore::GetCertificatePolicy(std::string_view vault,
                                                               std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<CertificatePolicyRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                            LoadState(txn, kStateSql, AsciiLower(vault), AsciiLower(name)));
    if (!state.has_value() || state->deleted) return CertificateNotFound(name);
    return CertificatePolicyRecord{AsciiLower(vault), state->name, state->policy,
                                   state->policy_updated};
  });
}

Result<CertificatePolicyRecord> SqlStore::PutCertificatePolicy(
    const CertificatePolicyRecord& policy) {
  const std::string vault = AsciiLower(policy.vault);
  const std::string name_key = AsciiLower(policy.name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<CertificatePolicyRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                            LoadState(txn, kLockSql, vault, name_key));
    if (!state.has_value() || state->deleted) return CertificateNotFound(policy.name);
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(kSetPolicySql,
                 Params().Text(vault).Text(name_key).Document(policy.policy).Int(policy.updated))
            .status());
    return CertificatePolicyRecord{vault, state->name, policy.policy, policy.updated};
  });
}

Result<DeletedCertificateRecord> SqlStore::DeleteCertificate(std::string_view vault,
                                                             std::string_view name,
                                                             int64_t deleted_date,
                                                             int64_t scheduled_purge_date) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<DeletedCertificateRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                            LoadState(txn, kLockSql, vault_key, name_key));
    if (!state.has_value() || state->deleted) return CertificateNotFound(name);
    COFFRE_ASSIGN_OR_RETURN(bool has_versions,
                            Exists(txn, kHasVersionsSql, Params().Text(vault_key).Text(name_key)));
    if (!has_versions) return CertificateNotFound(name);
    // A pending operation ends with the certificate.
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(kDeleteOperationSql, Params().Text(vault_key).Text(name_key)).status());
    COFFRE_RETURN_IF_ERROR(
        SetAllDeleted(txn, vault_key, name_key, deleted_date, scheduled_purge_date));
    COFFRE_ASSIGN_OR_RETURN(CertificateRow row, LoadLatest(txn, vault_key, name_key, true, name));
    return std::move(row.record);
  });
}

Result<DeletedCertificateRecord> SqlStore::GetDeletedCertificate(std::string_view vault,
                                                                 std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<DeletedCertificateRecord> {
    COFFRE_ASSIGN_OR_RETURN(CertificateRow row,
                            LoadLatest(txn, AsciiLower(vault), AsciiLower(name), true, name));
    return std::move(row.record);
  });
}

Result<Page<DeletedCertificateRecord>> SqlStore::ListDeletedCertificates(std::string_view vault,
                                                                         std::string_view cursor,
                                                                         int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<Page<DeletedCertificateRecord>> {
    Page<DeletedCertificateRecord> page;
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<CertificateRow> rows,
        ListLatest(txn, AsciiLower(vault), true, cursor, limit, &page.next_cursor));
    for (CertificateRow& row : rows) page.items.push_back(std::move(row.record));
    return page;
  });
}

Result<CertificateVersionRecord> SqlStore::RecoverCertificate(std::string_view vault,
                                                              std::string_view name) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<CertificateVersionRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                            LoadState(txn, kLockSql, vault_key, name_key));
    if (!state.has_value() || !state->deleted) return DeletedCertificateNotFound(name);
    COFFRE_RETURN_IF_ERROR(SetAllDeleted(txn, vault_key, name_key, std::nullopt, std::nullopt));
    COFFRE_ASSIGN_OR_RETURN(CertificateRow row, LoadLatest(txn, vault_key, name_key, false, name));
    return std::move(row.record.latest);
  });
}

Status SqlStore::PurgeCertificate(std::string_view vault, std::string_view name) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateState> state,
                            LoadState(txn, kLockSql, vault_key, name_key));
    if (!state.has_value() || !state->deleted) return DeletedCertificateNotFound(name);
    return RemoveAll(txn, vault_key, name_key);
  });
}

Result<int> SqlStore::PurgeExpiredCertificates(int64_t now) {
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<int> {
    std::vector<std::pair<std::string, std::string>> expired;
    COFFRE_RETURN_IF_ERROR(txn.Query(kExpiredSql, Params().Int(now), [&](const Row& row) {
      std::pair<std::string, std::string> item;
      if (!row.Text(0, &item.first) || !row.Text(1, &item.second)) return Corrupt("certificates");
      expired.push_back(std::move(item));
      return Status::Ok();
    }));
    for (const auto& [vault, name_key] : expired) {
      COFFRE_RETURN_IF_ERROR(RemoveAll(txn, vault, name_key));
    }
    return static_cast<int>(expired.size());
  });
}

}  // namespace coffre::store::sql

// ---- restore

namespace coffre::store::sql {

Status SqlStore::RestoreCertificate(std::vector<CertificateVersionViews>& versions,
                                    std::string_view policy) {
  if (versions.empty()) {
    return Status::BadParameter("a restored certificate needs at least one version");
  }
  const std::string vault = AsciiLower(versions.front().certificate.vault);
  const std::string name_key = AsciiLower(versions.front().certificate.name);
  const std::string display_name = versions.front().certificate.name;
  if (name_key.empty()) return Status::BadParameter("certificate name must not be empty");
  for (const CertificateVersionViews& v : versions) {
    for (const std::string* n : {&v.certificate.name, &v.key.name, &v.secret.name}) {
      if (AsciiLower(*n) != name_key) {
        return Status::BadParameter("restored versions must all belong to one certificate");
      }
    }
    for (const std::string* n : {&v.certificate.vault, &v.key.vault, &v.secret.vault}) {
      if (AsciiLower(*n) != vault) {
        return Status::BadParameter("restored versions must all belong to one vault");
      }
    }
    if (v.certificate.version.empty() || !v.secret.managed) {
      return Status::BadParameter("a restored version needs a version id and a managed secret");
    }
  }
  const int64_t created = versions.front().certificate.created;
  return Run(Mode::kWrite, [&](Transaction& txn) -> Status {
    COFFRE_RETURN_IF_ERROR(CheckVaultExists(txn, vault));
    for (const char* sql : {kOwnsSql, kKeyExistsSql, kSecretExistsSql}) {
      COFFRE_ASSIGN_OR_RETURN(bool taken, Exists(txn, sql, Params().Text(vault).Text(name_key)));
      if (taken) {
        return Status::Conflict("certificate '" + display_name + "' already exists",
                                std::string(reason::kExists));
      }
    }
    COFFRE_ASSIGN_OR_RETURN(
        int64_t inserted,
        txn.Exec(
            kInsertCertificateSql,
            Params().Text(vault).Text(name_key).Text(display_name).Document(policy).Int(created)));
    if (inserted != 1) {
      return Status::Conflict("certificate '" + display_name + "' already exists",
                              std::string(reason::kExists));
    }
    int64_t sequence = 1;
    for (CertificateVersionViews& v : versions) {
      const std::string version = AsciiLower(v.certificate.version);
      COFFRE_ASSIGN_OR_RETURN(
          bool duplicate,
          Exists(txn, kVersionExistsSql, Params().Text(vault).Text(name_key).Text(version)));
      if (duplicate) {
        return Status::BadParameter("restored version " + version + " appears twice",
                                    std::string(reason::kDuplicateVersion));
      }
      COFFRE_ASSIGN_OR_RETURN(AddedVersion key_added,
                              AddKeyVersionStep(txn, v.key, std::nullopt, true));
      COFFRE_ASSIGN_OR_RETURN(AddedVersion secret_added, AddSecretVersionStep(txn, v.secret, true));
      Params params;
      params.Text(vault)
          .Text(name_key)
          .Text(version)
          .Int(sequence)
          .Blob(v.certificate.cer)
          .Blob(v.certificate.x5t)
          .Bool(v.certificate.enabled)
          .OptInt(v.certificate.not_before)
          .OptInt(v.certificate.expires)
          .Int(v.certificate.created)
          .Int(v.certificate.updated)
          .Document(EncodeTags(v.certificate.tags))
          .Text(key_added.version)
          .Text(secret_added.version);
      COFFRE_RETURN_IF_ERROR(txn.Exec(kInsertVersionSql, params).status());
      COFFRE_RETURN_IF_ERROR(
          txn.Exec(kBumpSequenceSql, Params().Text(vault).Text(name_key)).status());
      v.certificate.sequence = sequence++;
    }
    return Status::Ok();
  });
}

// ---- issuers and contacts

namespace {

constexpr char kSettingSelectSql[] =
    "SELECT vault, kind, name, document, sealed, created, updated, name_key "
    "FROM certificate_settings ";
constexpr char kPutSettingSql[] =
    "INSERT INTO certificate_settings (vault, kind, name_key, name, document, sealed, created, "
    "updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (vault, kind, name_key) DO "
    "UPDATE SET document = excluded.document, sealed = excluded.sealed, "
    "updated = excluded.updated";
constexpr char kAddSettingSql[] =
    "INSERT INTO certificate_settings (vault, kind, name_key, name, document, sealed, created, "
    "updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (vault, kind, name_key) DO "
    "NOTHING";
constexpr char kDeleteSettingSql[] =
    "DELETE FROM certificate_settings WHERE vault = $1 AND kind = $2 AND name_key = $3";

struct SettingRow {
  CertificateSettingRecord record;
  std::string name_key;
};

Status ReadSetting(const Row& row, SettingRow* out) {
  CertificateSettingRecord& s = out->record;
  if (!row.Text(0, &s.vault) || !row.Text(1, &s.kind) || !row.Text(2, &s.name) ||
      !row.Document(3, &s.document) || !row.Blob(4, &s.sealed) || !row.Int(5, &s.created) ||
      !row.Int(6, &s.updated) || !row.Text(7, &out->name_key)) {
    return Corrupt("certificate_settings");
  }
  return Status::Ok();
}

Result<std::optional<CertificateSettingRecord>> LoadSetting(Transaction& txn,
                                                            std::string_view vault,
                                                            std::string_view kind,
                                                            std::string_view name_key) {
  static const std::string sql =
      std::string(kSettingSelectSql) + "WHERE vault = $1 AND kind = $2 AND name_key = $3";
  COFFRE_ASSIGN_OR_RETURN(
      std::vector<SettingRow> rows,
      QueryAll<SettingRow>(txn, sql.c_str(), Params().Text(vault).Text(kind).Text(name_key),
                           ReadSetting));
  if (rows.empty()) return std::optional<CertificateSettingRecord>();
  return std::optional<CertificateSettingRecord>(std::move(rows.front().record));
}

Status SettingNotFound(std::string_view kind, std::string_view name) {
  return Status::NotFound("NotFound", std::string(kind) + " '" + std::string(name) + "' not found");
}

}  // namespace

Result<CertificateSettingRecord> SqlStore::PutCertificateSetting(
    const CertificateSettingRecord& setting, bool replace) {
  const std::string vault = AsciiLower(setting.vault);
  const std::string name_key = AsciiLower(setting.name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<CertificateSettingRecord> {
    COFFRE_RETURN_IF_ERROR(CheckVaultExists(txn, vault));
    Params params;
    params.Text(vault)
        .Text(setting.kind)
        .Text(name_key)
        .Text(setting.name)
        .Document(setting.document)
        .Blob(setting.sealed)
        .Int(setting.created)
        .Int(setting.updated);
    COFFRE_RETURN_IF_ERROR(txn.Exec(replace ? kPutSettingSql : kAddSettingSql, params).status());
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateSettingRecord> stored,
                            LoadSetting(txn, vault, setting.kind, name_key));
    if (!stored.has_value()) return Status::Internal("store: a written setting vanished");
    return std::move(*stored);
  });
}

Result<CertificateSettingRecord> SqlStore::GetCertificateSetting(std::string_view vault,
                                                                 std::string_view kind,
                                                                 std::string_view name) {
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<CertificateSettingRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateSettingRecord> stored,
                            LoadSetting(txn, AsciiLower(vault), kind, AsciiLower(name)));
    if (!stored.has_value()) return SettingNotFound(kind, name);
    return std::move(*stored);
  });
}

Result<Page<CertificateSettingRecord>> SqlStore::ListCertificateSettings(std::string_view vault,
                                                                         std::string_view kind,
                                                                         std::string_view cursor,
                                                                         int limit) {
  COFFRE_RETURN_IF_ERROR(CheckLimit(limit));
  COFFRE_RETURN_IF_ERROR(ParseKeyCursor(cursor));
  static const std::string sql = std::string(kSettingSelectSql) +
                                 "WHERE vault = $1 AND kind = $2 AND name_key > $3 "
                                 "ORDER BY name_key LIMIT $4";
  return Run(Mode::kRead, [&](Transaction& txn) -> Result<Page<CertificateSettingRecord>> {
    COFFRE_ASSIGN_OR_RETURN(
        std::vector<SettingRow> rows,
        QueryAll<SettingRow>(
            txn, sql.c_str(),
            Params().Text(AsciiLower(vault)).Text(kind).Text(cursor).Int(int64_t{limit} + 1),
            ReadSetting));
    Page<CertificateSettingRecord> page;
    if (rows.size() > static_cast<size_t>(limit)) {
      rows.resize(static_cast<size_t>(limit));
      page.next_cursor = rows.back().name_key;
    }
    for (SettingRow& row : rows) page.items.push_back(std::move(row.record));
    return page;
  });
}

Result<CertificateSettingRecord> SqlStore::DeleteCertificateSetting(std::string_view vault,
                                                                    std::string_view kind,
                                                                    std::string_view name) {
  const std::string vault_key = AsciiLower(vault);
  const std::string name_key = AsciiLower(name);
  return Run(Mode::kWrite, [&](Transaction& txn) -> Result<CertificateSettingRecord> {
    COFFRE_ASSIGN_OR_RETURN(std::optional<CertificateSettingRecord> stored,
                            LoadSetting(txn, vault_key, kind, name_key));
    if (!stored.has_value()) return SettingNotFound(kind, name);
    COFFRE_RETURN_IF_ERROR(
        txn.Exec(kDeleteSettingSql, Params().Text(vault_key).Text(kind).Text(name_key)).status());
    return std::move(*stored);
  });
}

}  // namespace coffre::store::sql
