// Steps of the key and secret rules that run inside a caller's transaction, so a certificate
// writes, deletes, recovers and purges its key and secret in its own transaction
// (certificate_records.cc) by the same rules the keys and secrets calls follow. Names are
// lowercase (vault_key, name_key). Internal to store/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "store/sql/sql_engine.h"
#include "store/store.h"

namespace coffre::store::sql {

// What AddKeyVersionStep and AddSecretVersionStep stored.
struct AddedVersion {
  std::string display_name;  // the name as first written
  std::string version;       // lowercase
  int64_t sequence = 0;
};

// The body of Store::AddKeyVersion (which see), including its errors. `for_certificate`: the
// version backs a certificate of the same name (otherwise a name owned by a certificate is
// refused with reason::kManaged).
Result<AddedVersion> AddKeyVersionStep(Transaction& txn, const KeyVersionRecord& record,
                                       std::optional<int64_t> expected_latest_sequence,
                                       bool for_certificate);
// The body of Store::AddSecretVersion (which see), including its errors.
Result<AddedVersion> AddSecretVersionStep(Transaction& txn, const SecretVersionRecord& record,
                                          bool for_certificate);

// Sets (or, with nullopt, clears) the deletion dates of a key or a secret, locking its row
// first. Returns false if there is no such key or secret.
Result<bool> SetKeyDeletedStep(Transaction& txn, std::string_view vault_key,
                               std::string_view name_key, std::optional<int64_t> deleted_date,
                               std::optional<int64_t> scheduled_purge_date);
Result<bool> SetSecretDeletedStep(Transaction& txn, std::string_view vault_key,
                                  std::string_view name_key, std::optional<int64_t> deleted_date,
                                  std::optional<int64_t> scheduled_purge_date);
// Removes a key or a secret and everything that belongs to it.
Status RemoveKeyStep(Transaction& txn, std::string_view vault_key, std::string_view name_key);
Status RemoveSecretStep(Transaction& txn, std::string_view vault_key, std::string_view name_key);
// Writes enabled, not_before, expires and updated of one key or secret version.
Status SetKeyVersionAttributesStep(Transaction& txn, std::string_view vault_key,
                                   std::string_view name_key, std::string_view version,
                                   bool enabled, std::optional<int64_t> not_before,
                                   std::optional<int64_t> expires, int64_t updated);
Status SetSecretVersionAttributesStep(Transaction& txn, std::string_view vault_key,
                                      std::string_view name_key, std::string_view version,
                                      bool enabled, std::optional<int64_t> not_before,
                                      std::optional<int64_t> expires, int64_t updated);

// True if a certificate (active, deleted or only pending) of that name owns the key and secret
// of that name.
Result<bool> CertificateOwnsName(Transaction& txn, std::string_view vault_key,
                                 std::string_view name_key);
// kConflict (reason::kManaged) when a certificate owns the name: keys and secrets calls do not
// change what a certificate manages.
Status RefuseIfCertificateOwns(Transaction& txn, std::string_view vault_key,
                               std::string_view name_key, std::string_view what);

}  // namespace coffre::store::sql
