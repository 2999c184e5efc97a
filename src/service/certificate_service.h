// CertificateService: Key Vault certificate semantics over the Store. A certificate is three
// views of one object written together (Store::AddCertificateVersion): the certificate, a key
// (usable for the operations its policy allows) and a managed secret holding the PFX (no
// password) or PEM with the private key. Issuer "Self" signs at once, so a create answers with
// its operation already completed; "Unknown" leaves an operation holding a PKCS#10 request that
// a merge of the signed certificate completes. Private keys are sealed by the MaterialBarrier
// before the store sees them, also while an operation waits; an import's password is never kept.
// Every method is blocking; errors come back as Key Vault errors ready for the wire.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "service/certificate_policy.h"
#include "service/key_model.h"
#include "service/material_barrier.h"
#include "store/store.h"

namespace coffre::service {

// The longest chain an import or merge takes.
inline constexpr size_t kMaxCertificateChain = 10;
// The largest PFX or PEM an import takes (decoded).
inline constexpr size_t kMaxCertificateImportBytes = 64 * 1024;

struct CertificateBundle {
  std::string name;
  std::string version;
  Bytes cer;
  Bytes x5t;
  CertificatePolicy policy;
  int64_t policy_updated = 0;
  KeyAttributes attributes;
  Tags tags;
};

// A list entry: no certificate, no policy.
struct CertificateItem {
  std::string name;
  std::string version;  // empty in /certificates and /deletedcertificates listings
  Bytes x5t;
  KeyAttributes attributes;
  Tags tags;
};

struct DeletedCertificateItem {
  CertificateItem item;
  DeletionInfo deletion;
};

// An issuer as Key Vault shows it, without its id and attributes: "provider", "credentials"
// (account_id only: the password is sealed apart and never shown) and "org_details".
struct CertificateIssuer {
  std::string name;
  boost::json::object document;
  bool enabled = true;
  int64_t created = 0;
  int64_t updated = 0;
};

struct CertificateContact {
  std::optional<std::string> email;
  std::optional<std::string> name;
  std::optional<std::string> phone;
};

// The issuer provider Coffre itself serves: a per-server private CA.
inline constexpr std::string_view kCoffreIssuerProvider = "Coffre";

struct CertificateOperation {
  std::string name;
  std::string request_id;
  std::string status;  // inProgress, completed, failed, cancelled
  std::optional<std::string> status_details;
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  bool cancellation_requested = false;
  std::string issuer;
  std::optional<std::string> certificate_type;
  Bytes csr;
  std::string target_version;  // set when completed
};

struct DeletedCertificateBundle {
  CertificateBundle bundle;
  DeletionInfo deletion;
};

struct CreateCertificateRequest {
  std::string name;
  CertificatePolicy policy;  // already parsed (ParseCertificatePolicy over the defaults)
  AttributeChanges attributes;
  std::optional<Tags> tags;
};

struct ImportCertificateRequest {
  std::string name;
  SecureString value;  // base64 PFX, or PEM text
  SecureString password;
  std::optional<CertificatePolicy> policy;  // content type decides PFX or PEM when given
  AttributeChanges attributes;
  std::optional<Tags> tags;
};

class CertificateService {
 public:
  // `vault_url(vault)` yields a vault's base URL ("https://name.vault.azure.net"), for the
  // managed secret's key id.
  CertificateService(store::Store& store, MaterialBarrier& material, const Clock& clock,
                     std::function<std::string(const store::VaultRecord&)> vault_url);

  Result<CertificateOperation> CreateCertificate(const store::VaultRecord& vault,
                                                 const CreateCertificateRequest& request);
  Result<CertificateOperation> GetOperation(const store::VaultRecord& vault, std::string_view name);
  Result<CertificateOperation> CancelOperation(const store::VaultRecord& vault,
                                               std::string_view name);
  Result<CertificateOperation> DeleteOperation(const store::VaultRecord& vault,
                                               std::string_view name);
  // `x5c`: each entry DER, or PEM text (the caller decoded the base64 of the wire).
  Result<CertificateBundle> MergeCertificate(const store::VaultRecord& vault, std::string_view name,
                                             const std::vector<Bytes>& x5c,
                                             AttributeChanges attributes, std::optional<Tags> tags);
  Result<CertificateBundle> ImportCertificate(const store::VaultRecord& vault,
                                              const ImportCertificateRequest& request);
  Result<CertificateBundle> GetCertificate(const store::VaultRecord& vault, std::string_view name,
                                           std::string_view version);
  Result<CertificatePolicy> GetPolicy(const store::VaultRecord& vault, std::string_view name,
                                      int64_t* updated);
  Result<CertificatePolicy> UpdatePolicy(const store::VaultRecord& vault, std::string_view name,
                                         const boost::json::value& patch, int64_t* updated);
  Result<DeletedCertificateBundle> DeleteCertificate(const store::VaultRecord& vault,
                                                     std::string_view name);
  Result<CertificateBundle> RecoverDeletedCertificate(const store::VaultRecord& vault,
                                                      std::string_view name);
  Status PurgeDeletedCertificate(const store::VaultRecord& vault, std::string_view name);
  Result<DeletedCertificateBundle> GetDeletedCertificate(const store::VaultRecord& vault,
                                                         std::string_view name);
  // Attributes and tags of a version (empty: latest); a policy given replaces the policy's
  // members it names, as UpdatePolicy does.
  Result<CertificateBundle> UpdateCertificate(const store::VaultRecord& vault,
                                              std::string_view name, std::string_view version,
                                              const AttributeChanges& attributes,
                                              const std::optional<Tags>& tags,
                                              const boost::json::value* policy);
  Result<Page<CertificateItem>> ListCertificates(const store::VaultRecord& vault,
                                                 const PageRequest& page);
  Result<Page<CertificateItem>> ListCertificateVersions(const store::VaultRecord& vault,
                                                        std::string_view name,
                                                        const PageRequest& page);
  Result<Page<DeletedCertificateItem>> ListDeletedCertificates(const store::VaultRecord& vault,
                                                               const PageRequest& page);
  // An opaque blob sealed under a backup key of this server (every version with its private
  // key and secret value), and back. A restore over an existing name is a conflict.
  Result<Bytes> BackupCertificate(const store::VaultRecord& vault, std::string_view name);
  Result<CertificateBundle> RestoreCertificate(const store::VaultRecord& vault, ByteSpan backup);

  // Issuers: `body` is the wire's IssuerBundle ("provider", "credentials", "org_details",
  // "attributes"). Set replaces, Update changes what it names.
  Result<CertificateIssuer> SetIssuer(const store::VaultRecord& vault, std::string_view name,
                                      const boost::json::value& body);
  Result<CertificateIssuer> UpdateIssuer(const store::VaultRecord& vault, std::string_view name,
                                         const boost::json::value& body);
  Result<CertificateIssuer> GetIssuer(const store::VaultRecord& vault, std::string_view name);
  Result<CertificateIssuer> DeleteIssuer(const store::VaultRecord& vault, std::string_view name);
  Result<Page<CertificateIssuer>> ListIssuers(const store::VaultRecord& vault,
                                              const PageRequest& page);

  // Contacts: `body` is {"contacts":[{"email","name","phone"}]}.
  Result<std::vector<CertificateContact>> SetContacts(const store::VaultRecord& vault,
                                                      const boost::json::value& body);
  Result<std::vector<CertificateContact>> GetContacts(const store::VaultRecord& vault);
  Result<std::vector<CertificateContact>> DeleteContacts(const store::VaultRecord& vault);

  static Status CertificateNotFound(std::string_view name);

 private:
  // Writes a version: the certificate `chain` (leaf first) for `key`, its key version and its
  // secret per the policy, in one store transaction.
  Result<CertificateBundle> StoreVersion(const store::VaultRecord& vault, const std::string& name,
                                         const std::string& version, const crypto::KeyAndChain& kc,
                                         const CertificatePolicy& policy,
                                         const AttributeChanges& attributes,
                                         const std::optional<Tags>& tags,
                                         std::optional<store::CertificateOperationRecord> op);
  // The three records of a version, the key sealed and the secret built and sealed.
  Result<store::CertificateVersionViews> BuildViews(const store::VaultRecord& vault,
                                                    const std::string& name,
                                                    const std::string& version,
                                                    const crypto::KeyAndChain& kc,
                                                    const CertificatePolicy& policy, bool enabled,
                                                    const Tags& tags, int64_t now);
  // Issuer "Self", "Unknown", or a named issuer that exists in the vault.
  Status CheckIssuerExists(const store::VaultRecord& vault, const CertificatePolicy& policy);
  Result<CertificateBundle> BundleOf(const store::VaultRecord& vault,
                                     const store::CertificateVersionRecord& record,
                                     std::string_view policy_document);

  store::Store& store_;
  MaterialBarrier& material_;
  const Clock& clock_;
  std::function<std::string(const store::VaultRecord&)> vault_url_;
};

}  // namespace coffre::service
