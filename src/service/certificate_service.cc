#include "service/certificate_service.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

#include "common/base64url.h"
#include "crypto/random.h"
#include "service/key_service.h"

namespace coffre::service {
namespace {

constexpr char kInProgress[] = "inProgress";
constexpr char kCompleted[] = "completed";
constexpr char kCancelled[] = "cancelled";
constexpr size_t kMaxTags = 15;

Status Bad(std::string message) { return Status::BadParameter(std::move(message)); }

Status CheckTags(const Tags& tags) {
  if (tags.size() > kMaxTags) return Bad("The number of tags exceeds the limit of 15.");
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 256) return Bad("Tag names must be 1 to 256 characters long.");
    if (v.size() > 256) return Bad("Tag values must be at most 256 characters long.");
  }
  return Status::Ok();
}

Tags Sorted(Tags tags) {
  std::sort(tags.begin(), tags.end());
  return tags;
}

Status InvalidName(std::string_view name) {
  return Bad("The request URI contains an invalid name: " + std::string(name.substr(0, 127)));
}

Status ConflictDeleted(std::string_view name) {
  return Status::Conflict("Certificate " + std::string(name) +
                              " is currently in a deleted but recoverable state, and its name "
                              "cannot be reused; in this state, the certificate can only be "
                              "recovered or purged.",
                          "ObjectIsDeletedButRecoverable");
}

Status NameTaken(std::string_view name) {
  return Status::Conflict("A key or secret named " + std::string(name) +
                              " exists that no certificate owns; a certificate needs the name "
                              "of its key and secret.",
                          "Conflict");
}

Status PendingNotFound(std::string_view name) {
  return Status::NotFound("Pending certificate not found: " + std::string(name),
                          "PendingCertificateNotFound");
}

Status MapWriteError(const Status& status, std::string_view name) {
  if (store::HasReason(status, store::reason::kDeleted)) return ConflictDeleted(name);
  if (store::HasReason(status, store::reason::kManaged)) return NameTaken(name);
  if (store::HasReason(status, store::reason::kPending)) {
    return Status::Conflict(
        "Certificate " + std::string(name) + " has a pending operation; cancel or delete it first.",
        "Conflict");
  }
  return status;
}

Result<crypto::AsymmetricKey> NewKey(const CertificatePolicy& policy) {
  if (policy.is_ec()) {
    auto curve = crypto::CurveFromName(policy.curve);
    if (!curve) return Bad("The curve is not supported.");
    return crypto::AsymmetricKey::GenerateEc(*curve);
  }
  return crypto::AsymmetricKey::GenerateRsa(policy.key_size);
}

// The key operations a certificate's key allows, from its policy's key usage.
std::vector<std::string> KeyOpsOf(const CertificatePolicy& policy, bool ec) {
  std::vector<std::string> ops;
  auto has = [&](std::string_view usage) {
    return policy.x509.key_usage.empty() ||
           std::find(policy.x509.key_usage.begin(), policy.x509.key_usage.end(), usage) !=
               policy.x509.key_usage.end();
  };
  if (has("digitalSignature") || has("nonRepudiation")) {
    ops.push_back("sign");
    ops.push_back("verify");
  }
  if (!ec && (has("keyEncipherment") || has("dataEncipherment"))) {
    ops.push_back("encrypt");
    ops.push_back("decrypt");
    ops.push_back("wrapKey");
    ops.push_back("unwrapKey");
  }
  return ops;
}

std::string KeyTypeOf(const crypto::AsymmetricKey& key, const CertificatePolicy& policy) {
  const bool hsm = policy.kty.ends_with("-HSM");
  if (key.family() == crypto::KeyFamily::kEc) return hsm ? "EC-HSM" : "EC";
  return hsm ? "RSA-HSM" : "RSA";
}

CertificateOperation OperationOf(const store::CertificateOperationRecord& r,
                                 const CertificatePolicy* policy) {
  CertificateOperation op;
  op.name = r.name;
  op.request_id = r.request_id;
  op.status = r.status;
  op.status_details = r.status_details;
  op.error_code = r.error_code;
  op.error_message = r.error_message;
  op.cancellation_requested = r.cancellation_requested;
  op.issuer = r.issuer;
  if (policy != nullptr) op.certificate_type = policy->certificate_type;
  op.csr = r.csr;
  if (r.status == kCompleted) op.target_version = r.target_version;
  return op;
}

}  // namespace

CertificateService::CertificateService(store::Store& store, MaterialBarrier& material,
                                       const Clock& clock,
                                       std::function<std::string(const store::VaultRecord&)> url)
    : store_(store), material_(material), clock_(clock), vault_url_(std::move(url)) {}

Status CertificateService::CertificateNotFound(std::string_view name) {
  return Status::NotFound("A certificate with (name/id) " + std::string(name) +
                              " was not found in this key vault. If you recently deleted this "
                              "certificate you may be able to recover it using the correct "
                              "recovery command.",
                          "CertificateNotFound");
}

Result<CertificateBundle> CertificateService::StoreVersion(
    const store::VaultRecord& vault, const std::string& name, const std::string& version,
    const crypto::KeyAndChain& kc, const CertificatePolicy& policy,
    const AttributeChanges& attributes, const std::optional<Tags>& tags,
    std::optional<store::CertificateOperationRecord> op) {
  Tags sorted = Sorted(tags.value_or(Tags{}));
  COFFRE_RETURN_IF_ERROR(CheckTags(sorted));
  COFFRE_ASSIGN_OR_RETURN(crypto::CertificateFacts facts, crypto::ReadCertificate(kc.chain[0]));
  const int64_t now = clock_.NowSeconds();
  const bool enabled = attributes.enabled.value_or(policy.enabled);

  store::CertificateVersionRecord cert;
  cert.vault = vault.name;
  cert.name = name;
  cert.version = version;
  cert.cer = kc.chain[0];
  cert.x5t = crypto::Thumbprint(kc.chain[0]);
  cert.enabled = enabled;
  cert.not_before = facts.not_before;
  cert.expires = facts.not_after;
  cert.created = cert.updated = now;
  cert.tags = sorted;

  store::KeyVersionRecord key;
  key.vault = vault.name;
  key.name = name;
  key.version = version;
  key.key_type = KeyTypeOf(kc.key, policy);
  key.key_ops = KeyOpsOf(policy, kc.key.family() == crypto::KeyFamily::kEc);
  key.enabled = enabled;
  key.not_before = facts.not_before;
  key.expires = facts.not_after;
  key.created = key.updated = now;
  key.public_key = kc.key.PublicDer();
  SecureBytes private_der = kc.key.PrivateDer();
  COFFRE_ASSIGN_OR_RETURN(key.sealed_private_key, material_.SealKeyVersion(key, private_der));

  store::SecretVersionRecord secret;
  secret.vault = vault.name;
  secret.name = name;
  secret.version = version;
  secret.content_type = policy.content_type;
  secret.enabled = enabled;
  secret.not_before = facts.not_before;
  secret.expires = facts.not_after;
  secret.created = secret.updated = now;
  secret.managed = true;
  secret.key_id = vault_url_(vault) + "/keys/" + name + "/" + version;
  SecureString value;
  if (policy.content_type == kPemContentType) {
    COFFRE_ASSIGN_OR_RETURN(value, crypto::BuildPem(kc));
  } else {
    COFFRE_ASSIGN_OR_RETURN(Bytes pfx, crypto::BuildPkcs12(kc));
    std::string encoded = Base64Encode(pfx);
    value.assign(encoded.begin(), encoded.end());
    OPENSSL_cleanse(pfx.data(), pfx.size());
    OPENSSL_cleanse(encoded.data(), encoded.size());
  }
  COFFRE_ASSIGN_OR_RETURN(
      secret.sealed_value,
      material_.Seal(SealBinding::SecretVersion(vault.name, name, version), AsBytes(value)));

  Status added =
      store_.AddCertificateVersion(cert, key, secret, EncodeCertificatePolicy(policy), op);
  if (added.kind() == ErrorKind::kNotFound) {
    return Status::NotFound("The vault " + vault.name + " does not exist.", "VaultNotFound");
  }
  COFFRE_RETURN_IF_ERROR(MapWriteError(added, name));
  CertificateBundle bundle;
  bundle.name = cert.name;
  bundle.version = cert.version;
  bundle.cer = cert.cer;
  bundle.x5t = cert.x5t;
  bundle.policy = policy;
  bundle.policy_updated = now;
  bundle.attributes.enabled = cert.enabled;
  bundle.attributes.not_before = cert.not_before;
  bundle.attributes.expires = cert.expires;
  bundle.attributes.created = cert.created;
  bundle.attributes.updated = cert.updated;
  bundle.attributes.recoverable_days = vault.retention_days;
  bundle.attributes.recovery_level = RecoveryLevel(vault);
  bundle.tags = cert.tags;
  return bundle;
}

Result<CertificateOperation> CertificateService::CreateCertificate(
    const store::VaultRecord& vault, const CreateCertificateRequest& request) {
  if (!IsValidObjectName(request.name)) return InvalidName(request.name);
  const CertificatePolicy& policy = request.policy;
  if (policy.issuer != "Self" && policy.issuer != "Unknown") {
    return Bad("Issuer " + policy.issuer.substr(0, 127) + " is not found.");
  }
  if (request.tags) COFFRE_RETURN_IF_ERROR(CheckTags(*request.tags));
  COFFRE_ASSIGN_OR_RETURN(crypto::AsymmetricKey key, NewKey(policy));
  const int64_t now = clock_.NowSeconds();
  store::CertificateOperationRecord op;
  op.vault = vault.name;
  op.name = request.name;
  op.request_id = crypto::RandomHex(16);
  op.issuer = policy.issuer;
  op.target_version = crypto::RandomHex(16);
  op.key_type = KeyTypeOf(key, policy);
  op.public_key = key.PublicDer();
  op.created = op.updated = now;
  COFFRE_ASSIGN_OR_RETURN(op.csr, crypto::CreateCertificateRequest(key, policy.x509));
  if (policy.issuer == "Self") {
    COFFRE_ASSIGN_OR_RETURN(Bytes der, crypto::SelfSignCertificate(key, policy.x509, now));
    op.status = kCompleted;
    crypto::KeyAndChain kc{key, {std::move(der)}};
    COFFRE_ASSIGN_OR_RETURN(CertificateBundle bundle,
                            StoreVersion(vault, request.name, op.target_version, kc, policy,
                                         request.attributes, request.tags, op));
    op.name = bundle.name;
    return OperationOf(op, &policy);
  }
  // Unknown: the key waits, sealed, for the signed certificate.
  op.status = kInProgress;
  op.status_details = "Pending certificate created. Please Perform Merge to complete the request.";
  SecureBytes private_der = key.PrivateDer();
  COFFRE_ASSIGN_OR_RETURN(op.sealed_private_key,
                          material_.Seal(SealBinding{"certificate-operation/v1", vault.name,
                                                     request.name, op.request_id},
                                         private_der));
  Status begun = store_.BeginCertificateOperation(EncodeCertificatePolicy(policy), op);
  if (begun.kind() == ErrorKind::kNotFound) {
    return Status::NotFound("The vault " + vault.name + " does not exist.", "VaultNotFound");
  }
  COFFRE_RETURN_IF_ERROR(MapWriteError(begun, request.name));
  return OperationOf(op, &policy);
}

Result<CertificateOperation> CertificateService::GetOperation(const store::VaultRecord& vault,
                                                              std::string_view name) {
  auto op = store_.GetCertificateOperation(vault.name, name);
  if (op.status().kind() == ErrorKind::kNotFound) return PendingNotFound(name);
  COFFRE_RETURN_IF_ERROR(op.status());
  auto policy = store_.GetCertificatePolicy(vault.name, name);
  std::optional<CertificatePolicy> parsed;
  if (policy.ok()) {
    auto decoded = DecodeCertificatePolicy(policy->policy);
    if (decoded.ok()) parsed = std::move(decoded).value();
  }
  return OperationOf(*op, parsed ? &*parsed : nullptr);
}

Result<CertificateOperation> CertificateService::CancelOperation(const store::VaultRecord& vault,
                                                                 std::string_view name) {
  auto op = store_.GetCertificateOperation(vault.name, name);
  if (op.status().kind() == ErrorKind::kNotFound) return PendingNotFound(name);
  COFFRE_RETURN_IF_ERROR(op.status());
  store::CertificateOperationRecord change = *op;
  if (change.status == kInProgress) {
    // No outside issuer works on it: the cancellation takes effect at once.
    change.cancellation_requested = true;
    change.status = kCancelled;
    change.status_details = "The certificate operation was cancelled.";
  }
  change.updated = clock_.NowSeconds();
  auto updated = store_.UpdateCertificateOperation(change);
  if (updated.status().kind() == ErrorKind::kNotFound) return PendingNotFound(name);
  COFFRE_RETURN_IF_ERROR(updated.status());
  return OperationOf(*updated, nullptr);
}

Result<CertificateOperation> CertificateService::DeleteOperation(const store::VaultRecord& vault,
                                                                 std::string_view name) {
  auto op = store_.DeleteCertificateOperation(vault.name, name);
  if (op.status().kind() == ErrorKind::kNotFound) return PendingNotFound(name);
  COFFRE_RETURN_IF_ERROR(op.status());
  return OperationOf(*op, nullptr);
}

Result<CertificateBundle> CertificateService::MergeCertificate(const store::VaultRecord& vault,
                                                               std::string_view name,
                                                               const std::vector<Bytes>& x5c,
                                                               AttributeChanges attributes,
                                                               std::optional<Tags> tags) {
  if (x5c.empty()) return Bad("Property x5c is required and must hold the certificate chain.");
  if (x5c.size() > kMaxCertificateChain) return Bad("The certificate chain is too long.");
  auto op = store_.GetCertificateOperation(vault.name, name);
  if (op.status().kind() == ErrorKind::kNotFound) return PendingNotFound(name);
  COFFRE_RETURN_IF_ERROR(op.status());
  if (op->status != kInProgress) return PendingNotFound(name);
  std::vector<Bytes> chain;
  for (const Bytes& entry : x5c) {
    COFFRE_ASSIGN_OR_RETURN(std::vector<Bytes> certs,
                            crypto::ParseCertificates(entry, kMaxCertificateChain));
    for (Bytes& c : certs) chain.push_back(std::move(c));
    if (chain.size() > kMaxCertificateChain) return Bad("The certificate chain is too long.");
  }
  COFFRE_ASSIGN_OR_RETURN(crypto::CertificateFacts leaf, crypto::ReadCertificate(chain[0]));
  if (leaf.public_key != op->public_key) {
    return Bad(
        "Public key from x5c property of merge request does not match the public key of "
        "the pending certificate.");
  }
  COFFRE_ASSIGN_OR_RETURN(
      SecureBytes private_der,
      material_.Open(SealBinding{"certificate-operation/v1", vault.name, op->name, op->request_id},
                     op->sealed_private_key));
  COFFRE_ASSIGN_OR_RETURN(crypto::AsymmetricKey key,
                          crypto::AsymmetricKey::FromPrivateDer(private_der));
  COFFRE_ASSIGN_OR_RETURN(store::CertificatePolicyRecord stored,
                          store_.GetCertificatePolicy(vault.name, name));
  COFFRE_ASSIGN_OR_RETURN(CertificatePolicy policy, DecodeCertificatePolicy(stored.policy));
  store::CertificateOperationRecord done = *op;
  done.status = kCompleted;
  done.status_details.reset();
  done.sealed_private_key.clear();  // the key version holds it now
  done.updated = clock_.NowSeconds();
  crypto::KeyAndChain kc{std::move(key), std::move(chain)};
  return StoreVersion(vault, op->name, op->target_version, kc, policy, attributes, tags, done);
}

Result<CertificateBundle> CertificateService::ImportCertificate(
    const store::VaultRecord& vault, const ImportCertificateRequest& request) {
  if (!IsValidObjectName(request.name)) return InvalidName(request.name);
  CertificatePolicy policy = request.policy.value_or(DefaultCertificatePolicy());
  std::string_view text(request.value.data(), request.value.size());
  if (text.size() > kMaxCertificateImportBytes * 2) return Bad("The certificate is too large.");
  const bool pem = text.find("-----BEGIN") != std::string_view::npos;
  std::optional<crypto::KeyAndChain> kc;
  if (pem) {
    if (!request.policy) policy.content_type = kPemContentType;
    COFFRE_ASSIGN_OR_RETURN(kc, crypto::ParsePemBundle(text, kMaxCertificateChain));
  } else {
    auto pfx = Base64UrlDecodeSecure(text);
    if (!pfx || pfx->empty()) return Bad("The certificate value is not valid base64.");
    COFFRE_ASSIGN_OR_RETURN(
        kc, crypto::ParsePkcs12(*pfx,
                                std::string_view(request.password.data(), request.password.size()),
                                kMaxCertificateChain));
  }
  // The policy follows what was imported: its key and its subject.
  policy.issuer = "Unknown";
  if (kc->key.family() == crypto::KeyFamily::kEc) {
    policy.kty = policy.kty.ends_with("-HSM") ? "EC-HSM" : "EC";
    policy.curve = std::string(crypto::CurveName(*kc->key.curve()));
    policy.key_size = 0;
  } else {
    policy.kty = policy.kty.ends_with("-HSM") ? "RSA-HSM" : "RSA";
    policy.curve.clear();
    policy.key_size = kc->key.bits();
  }
  COFFRE_ASSIGN_OR_RETURN(crypto::CertificateFacts facts, crypto::ReadCertificate(kc->chain[0]));
  policy.x509.subject = facts.subject;
  return StoreVersion(vault, request.name, crypto::RandomHex(16), *kc, policy, request.attributes,
                      request.tags, std::nullopt);
}

Result<CertificateBundle> CertificateService::BundleOf(const store::VaultRecord& vault,
                                                       const store::CertificateVersionRecord& r,
                                                       std::string_view policy_document) {
  CertificateBundle bundle;
  bundle.name = r.name;
  bundle.version = r.version;
  bundle.cer = r.cer;
  bundle.x5t = r.x5t;
  COFFRE_ASSIGN_OR_RETURN(bundle.policy, DecodeCertificatePolicy(policy_document));
  bundle.attributes.enabled = r.enabled;
  bundle.attributes.not_before = r.not_before;
  bundle.attributes.expires = r.expires;
  bundle.attributes.created = r.created;
  bundle.attributes.updated = r.updated;
  bundle.attributes.recoverable_days = vault.retention_days;
  bundle.attributes.recovery_level = RecoveryLevel(vault);
  bundle.tags = r.tags;
  return bundle;
}

Result<CertificateBundle> CertificateService::GetCertificate(const store::VaultRecord& vault,
                                                             std::string_view name,
                                                             std::string_view version) {
  if (!version.empty() && !IsValidVersion(version)) return CertificateNotFound(name);
  auto record = store_.GetCertificateVersion(vault.name, name, version);
  if (record.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
  COFFRE_RETURN_IF_ERROR(record.status());
  auto policy = store_.GetCertificatePolicy(vault.name, name);
  if (policy.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
  COFFRE_RETURN_IF_ERROR(policy.status());
  COFFRE_ASSIGN_OR_RETURN(CertificateBundle bundle, BundleOf(vault, *record, policy->policy));
  bundle.policy_updated = policy->updated;
  return bundle;
}

Result<CertificatePolicy> CertificateService::GetPolicy(const store::VaultRecord& vault,
                                                        std::string_view name, int64_t* updated) {
  auto policy = store_.GetCertificatePolicy(vault.name, name);
  if (policy.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
  COFFRE_RETURN_IF_ERROR(policy.status());
  *updated = policy->updated;
  return DecodeCertificatePolicy(policy->policy);
}

Result<CertificatePolicy> CertificateService::UpdatePolicy(const store::VaultRecord& vault,
                                                           std::string_view name,
                                                           const boost::json::value& patch,
                                                           int64_t* updated) {
  int64_t ignored = 0;
  COFFRE_ASSIGN_OR_RETURN(CertificatePolicy current, GetPolicy(vault, name, &ignored));
  COFFRE_ASSIGN_OR_RETURN(CertificatePolicy next, ParseCertificatePolicy(patch, current));
  if (next.issuer != "Self" && next.issuer != "Unknown") {
    return Bad("Issuer " + next.issuer.substr(0, 127) + " is not found.");
  }
  store::CertificatePolicyRecord record{vault.name, std::string(name),
                                        EncodeCertificatePolicy(next), clock_.NowSeconds()};
  auto stored = store_.PutCertificatePolicy(record);
  if (stored.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
  COFFRE_RETURN_IF_ERROR(stored.status());
  *updated = stored->updated;
  return next;
}

Result<DeletedCertificateBundle> CertificateService::DeleteCertificate(
    const store::VaultRecord& vault, std::string_view name) {
  const int64_t now = clock_.NowSeconds();
  auto deleted =
      store_.DeleteCertificate(vault.name, name, now, now + int64_t{vault.retention_days} * 86400);
  material_.ForgetKey(vault.name, name);
  if (deleted.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
  COFFRE_RETURN_IF_ERROR(deleted.status());
  COFFRE_ASSIGN_OR_RETURN(CertificateBundle bundle,
                          BundleOf(vault, deleted->latest, deleted->policy));
  return DeletedCertificateBundle{
      std::move(bundle), DeletionInfo{deleted->deleted_date, deleted->scheduled_purge_date}};
}

Result<CertificateBundle> CertificateService::RecoverDeletedCertificate(
    const store::VaultRecord& vault, std::string_view name) {
  auto recovered = store_.RecoverCertificate(vault.name, name);
  if (recovered.status().kind() == ErrorKind::kNotFound) {
    return Status::NotFound("Deleted Certificate not found: " + std::string(name),
                            "CertificateNotFound");
  }
  COFFRE_RETURN_IF_ERROR(recovered.status());
  return GetCertificate(vault, name, "");
}

Status CertificateService::PurgeDeletedCertificate(const store::VaultRecord& vault,
                                                   std::string_view name) {
  if (vault.purge_protection) {
    return Status::Forbidden(
        "Operation \"purge\" is not allowed because purge protection is "
        "enabled for this vault.",
        "ForbiddenByPolicy");
  }
  Status purged = store_.PurgeCertificate(vault.name, name);
  material_.ForgetKey(vault.name, name);
  if (purged.kind() == ErrorKind::kNotFound) {
    return Status::NotFound("Deleted Certificate not found: " + std::string(name),
                            "CertificateNotFound");
  }
  return purged;
}

}  // namespace coffre::service
