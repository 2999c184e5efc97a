#include "service/certificate_service.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

#include "common/base64url.h"
#include "common/binary_codec.h"
#include "common/strings.h"
#include "crypto/random.h"
#include "service/key_service.h"

namespace coffre::service {
namespace {

constexpr char kInProgress[] = "inProgress";
constexpr char kCompleted[] = "completed";
constexpr char kCancelled[] = "cancelled";
constexpr char kFailed[] = "failed";
constexpr std::string_view kIssuerKind = "issuer";
constexpr std::string_view kContactsKind = "contacts";
constexpr std::string_view kContactsName = "contacts";
constexpr std::string_view kCaKind = "ca";
constexpr std::string_view kCaName = "coffre";
constexpr size_t kMaxContacts = 100;
constexpr size_t kMaxAdminDetails = 100;

Status Bad(std::string message) { return Status::BadParameter(std::move(message)); }

bool IsBuiltInIssuer(std::string_view name) { return name == "Self" || name == "Unknown"; }

std::string ProviderOf(const store::CertificateSettingRecord& issuer) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(issuer.document, ec);
  if (ec || !doc.is_object()) return {};
  const boost::json::value* provider = doc.as_object().if_contains("provider");
  if (provider == nullptr || !provider->is_string()) return {};
  return std::string(provider->as_string());
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

// The vault's private CA (issuer provider "Coffre"): made on first use, an EC P-384 key that
// signs for ten years; its key is sealed like any private key. Two first uses at once keep the
// one stored first.
struct PrivateCa {
  crypto::AsymmetricKey key;
  Bytes cer;
};

SealBinding CaBinding(const store::VaultRecord& vault) {
  return SealBinding{"certificate-ca/v1", vault.name, std::string(kCaName), ""};
}

Result<PrivateCa> ReadPrivateCa(MaterialBarrier& material, const store::VaultRecord& vault,
                                const store::CertificateSettingRecord& stored) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(stored.document, ec);
  const boost::json::value* cer =
      !ec && doc.is_object() ? doc.as_object().if_contains("cer") : nullptr;
  std::optional<Bytes> der;
  if (cer != nullptr && cer->is_string()) der = Base64UrlDecode(std::string(cer->as_string()));
  if (!der) return Status::Internal("The private CA could not be read.");
  auto private_der = material.Open(CaBinding(vault), stored.sealed);
  if (!private_der.ok()) return Status::Internal("The private CA could not be read.");
  COFFRE_ASSIGN_OR_RETURN(crypto::AsymmetricKey key,
                          crypto::AsymmetricKey::FromPrivateDer(*private_der));
  return PrivateCa{std::move(key), std::move(*der)};
}

Result<PrivateCa> LoadOrCreatePrivateCa(store::Store& store, MaterialBarrier& material,
                                        const store::VaultRecord& vault, int64_t now) {
  auto stored = store.GetCertificateSetting(vault.name, kCaKind, kCaName);
  if (stored.ok()) return ReadPrivateCa(material, vault, *stored);
  if (stored.status().kind() != ErrorKind::kNotFound) return stored.status();
  COFFRE_ASSIGN_OR_RETURN(crypto::AsymmetricKey key,
                          crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP384));
  crypto::X509Properties props;
  props.subject = "CN=Coffre private CA for vault " + vault.name + ", O=Coffre";
  props.key_usage = {"keyCertSign", "cRLSign", "digitalSignature"};
  props.validity_months = 120;
  props.certificate_authority = true;
  COFFRE_ASSIGN_OR_RETURN(Bytes der, crypto::SelfSignCertificate(key, props, now));
  store::CertificateSettingRecord record;
  record.vault = vault.name;
  record.kind = std::string(kCaKind);
  record.name = std::string(kCaName);
  record.document = boost::json::serialize(boost::json::object{{"cer", Base64Encode(der)}});
  SecureBytes private_der = key.PrivateDer();
  COFFRE_ASSIGN_OR_RETURN(record.sealed, material.Seal(CaBinding(vault), private_der));
  record.created = record.updated = now;
  COFFRE_ASSIGN_OR_RETURN(store::CertificateSettingRecord kept,
                          store.PutCertificateSetting(record, false));
  return ReadPrivateCa(material, vault, kept);
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

Result<store::CertificateVersionViews> CertificateService::BuildViews(
    const store::VaultRecord& vault, const std::string& name, const std::string& version,
    const crypto::KeyAndChain& kc, const CertificatePolicy& policy, bool enabled, const Tags& tags,
    int64_t now) {
  COFFRE_ASSIGN_OR_RETURN(crypto::CertificateFacts facts, crypto::ReadCertificate(kc.chain[0]));
  store::CertificateVersionViews views;
  store::CertificateVersionRecord& cert = views.certificate;
  cert.vault = vault.name;
  cert.name = name;
  cert.version = version;
  cert.cer = kc.chain[0];
  cert.x5t = crypto::Thumbprint(kc.chain[0]);
  cert.enabled = enabled;
  cert.not_before = facts.not_before;
  cert.expires = facts.not_after;
  cert.created = cert.updated = now;
  cert.tags = tags;

  store::KeyVersionRecord& key = views.key;
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

  store::SecretVersionRecord& secret = views.secret;
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
  // The private key leaves only when the policy lets it be exported.
  SecureString value;
  if (policy.content_type == kPemContentType) {
    COFFRE_ASSIGN_OR_RETURN(value, crypto::BuildPem(kc, policy.exportable));
  } else {
    COFFRE_ASSIGN_OR_RETURN(Bytes pfx, crypto::BuildPkcs12(kc, policy.exportable));
    std::string encoded = Base64Encode(pfx);
    value.assign(encoded.begin(), encoded.end());
    OPENSSL_cleanse(pfx.data(), pfx.size());
    OPENSSL_cleanse(encoded.data(), encoded.size());
  }
  COFFRE_ASSIGN_OR_RETURN(
      secret.sealed_value,
      material_.Seal(SealBinding::SecretVersion(vault.name, name, version), AsBytes(value)));
  return views;
}

Result<CertificateBundle> CertificateService::StoreVersion(
    const store::VaultRecord& vault, const std::string& name, const std::string& version,
    const crypto::KeyAndChain& kc, const CertificatePolicy& policy,
    const AttributeChanges& attributes, const std::optional<Tags>& tags,
    std::optional<store::CertificateOperationRecord> op) {
  Tags sorted = SortedTags(tags.value_or(Tags{}));
  COFFRE_RETURN_IF_ERROR(ValidateTags(sorted));
  const int64_t now = clock_.NowSeconds();
  const bool enabled = attributes.enabled.value_or(policy.enabled);
  COFFRE_ASSIGN_OR_RETURN(store::CertificateVersionViews views,
                          BuildViews(vault, name, version, kc, policy, enabled, sorted, now));
  store::CertificateVersionRecord& cert = views.certificate;
  store::KeyVersionRecord& key = views.key;
  store::SecretVersionRecord& secret = views.secret;
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
  COFFRE_RETURN_IF_ERROR(CheckIssuerExists(vault, policy));
  if (request.tags) COFFRE_RETURN_IF_ERROR(ValidateTags(*request.tags));
  std::optional<store::CertificateSettingRecord> issuer;
  if (!IsBuiltInIssuer(policy.issuer)) {
    COFFRE_ASSIGN_OR_RETURN(issuer,
                            store_.GetCertificateSetting(vault.name, kIssuerKind, policy.issuer));
  }
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
  if (issuer.has_value() && ProviderOf(*issuer) != kCoffreIssuerProvider) {
    // Azure's integrated CAs are out of reach: the operation fails, as Key Vault's does when
    // its CA cannot be reached.
    op.status = kFailed;
    op.status_details = "The certificate authority of issuer " + issuer->name + " (provider " +
                        ProviderOf(*issuer).substr(0, 64) + ") cannot be reached from this server.";
    op.error_code = "CertificateAuthorityUnreachable";
    op.error_message = *op.status_details;
    op.csr.clear();
    Status begun = store_.BeginCertificateOperation(EncodeCertificatePolicy(policy), op);
    if (begun.kind() == ErrorKind::kNotFound) {
      return Status::NotFound("The vault " + vault.name + " does not exist.", "VaultNotFound");
    }
    COFFRE_RETURN_IF_ERROR(MapWriteError(begun, request.name));
    return OperationOf(op, &policy);
  }
  if (policy.issuer == "Self" || issuer.has_value()) {
    crypto::KeyAndChain kc{key, {}};
    if (issuer.has_value()) {
      COFFRE_ASSIGN_OR_RETURN(PrivateCa ca, LoadOrCreatePrivateCa(store_, material_, vault, now));
      COFFRE_ASSIGN_OR_RETURN(Bytes der,
                              crypto::IssueCertificate(key, policy.x509, now, ca.key, ca.cer));
      kc.chain = {std::move(der), ca.cer};
    } else {
      COFFRE_ASSIGN_OR_RETURN(Bytes der, crypto::SelfSignCertificate(key, policy.x509, now));
      kc.chain = {std::move(der)};
    }
    op.status = kCompleted;
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
  // PEM comes as text or, as the SDKs send every import, base64 of the text; anything else is
  // base64 of a PFX.
  constexpr std::string_view kPemMarker = "-----BEGIN";
  std::optional<SecureBytes> decoded;
  if (text.find(kPemMarker) == std::string_view::npos) {
    decoded = Base64UrlDecodeSecure(text);
    if (!decoded || decoded->empty()) return Bad("The certificate value is not valid base64.");
    std::string_view decoded_text(reinterpret_cast<const char*>(decoded->data()),
                                  decoded->size());
    // A PFX is DER: a SEQUENCE (0x30) first.
    if (decoded->front() != 0x30 && decoded_text.find(kPemMarker) != std::string_view::npos) {
      text = decoded_text;
    }
  }
  std::optional<crypto::KeyAndChain> kc;
  if (text.find(kPemMarker) != std::string_view::npos) {
    if (!request.policy) policy.content_type = kPemContentType;
    COFFRE_ASSIGN_OR_RETURN(kc, crypto::ParsePemBundle(text, kMaxCertificateChain));
  } else {
    COFFRE_ASSIGN_OR_RETURN(
        kc, crypto::ParsePkcs12(*decoded,
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
  COFFRE_RETURN_IF_ERROR(CheckIssuerExists(vault, next));
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

Status CertificateService::CheckIssuerExists(const store::VaultRecord& vault,
                                             const CertificatePolicy& policy) {
  if (IsBuiltInIssuer(policy.issuer)) return Status::Ok();
  if (!IsValidObjectName(policy.issuer)) {
    return Bad("The issuer name " + policy.issuer.substr(0, 127) + " is not valid.");
  }
  auto issuer = store_.GetCertificateSetting(vault.name, kIssuerKind, policy.issuer);
  if (issuer.status().kind() == ErrorKind::kNotFound) {
    return Bad("Issuer not found: " + policy.issuer.substr(0, 127) +
               ". Create the issuer (PUT /certificates/issuers/{issuer-name}) first.");
  }
  return issuer.status();
}

Result<DeletedCertificateBundle> CertificateService::GetDeletedCertificate(
    const store::VaultRecord& vault, std::string_view name) {
  auto deleted = store_.GetDeletedCertificate(vault.name, name);
  if (deleted.status().kind() == ErrorKind::kNotFound) {
    return Status::NotFound("Deleted Certificate not found: " + std::string(name),
                            "CertificateNotFound");
  }
  COFFRE_RETURN_IF_ERROR(deleted.status());
  COFFRE_ASSIGN_OR_RETURN(CertificateBundle bundle,
                          BundleOf(vault, deleted->latest, deleted->policy));
  return DeletedCertificateBundle{
      std::move(bundle), DeletionInfo{deleted->deleted_date, deleted->scheduled_purge_date}};
}

Result<CertificateBundle> CertificateService::UpdateCertificate(const store::VaultRecord& vault,
                                                                std::string_view name,
                                                                std::string_view version,
                                                                const AttributeChanges& attributes,
                                                                const std::optional<Tags>& tags,
                                                                const boost::json::value* policy) {
  if (!version.empty() && !IsValidVersion(version)) return CertificateNotFound(name);
  std::optional<Tags> sorted;
  if (tags) {
    sorted = SortedTags(*tags);
    COFFRE_RETURN_IF_ERROR(ValidateTags(*sorted));
  }
  auto found = store_.GetCertificateVersion(vault.name, name, version);
  if (found.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
  COFFRE_RETURN_IF_ERROR(found.status());
  if (policy != nullptr) {
    int64_t ignored = 0;
    COFFRE_RETURN_IF_ERROR(UpdatePolicy(vault, name, *policy, &ignored).status());
  }
  store::CertificateVersionRecord record = std::move(found).value();
  if (attributes.enabled) record.enabled = *attributes.enabled;
  if (attributes.not_before) record.not_before = attributes.not_before;
  if (attributes.expires) record.expires = attributes.expires;
  if (sorted) record.tags = std::move(*sorted);
  record.updated = clock_.NowSeconds();
  auto stored = store_.UpdateCertificateVersion(record);
  if (stored.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
  COFFRE_RETURN_IF_ERROR(stored.status());
  return GetCertificate(vault, name, stored->version);
}

namespace {

CertificateItem ItemOf(const store::VaultRecord& vault, const store::CertificateVersionRecord& r,
                       bool with_version) {
  CertificateItem item;
  item.name = r.name;
  if (with_version) item.version = r.version;
  item.x5t = r.x5t;
  item.attributes.enabled = r.enabled;
  item.attributes.not_before = r.not_before;
  item.attributes.expires = r.expires;
  item.attributes.created = r.created;
  item.attributes.updated = r.updated;
  item.attributes.recoverable_days = vault.retention_days;
  item.attributes.recovery_level = RecoveryLevel(vault);
  item.tags = r.tags;
  return item;
}

Status CheckPage(const PageRequest& page) {
  if (page.max_results < 1 || page.max_results > 25) {
    return Bad("The value of the maxresults parameter must be between 1 and 25.");
  }
  return Status::Ok();
}

}  // namespace

Result<Page<CertificateItem>> CertificateService::ListCertificates(const store::VaultRecord& vault,
                                                                   const PageRequest& page) {
  COFFRE_RETURN_IF_ERROR(CheckPage(page));
  COFFRE_ASSIGN_OR_RETURN(auto stored,
                          store_.ListCertificates(vault.name, page.cursor, page.max_results));
  Page<CertificateItem> out;
  for (const auto& r : stored.items) out.items.push_back(ItemOf(vault, r, false));
  out.next_cursor = stored.next_cursor;
  return out;
}

Result<Page<CertificateItem>> CertificateService::ListCertificateVersions(
    const store::VaultRecord& vault, std::string_view name, const PageRequest& page) {
  COFFRE_RETURN_IF_ERROR(CheckPage(page));
  auto stored = store_.ListCertificateVersions(vault.name, name, page.cursor, page.max_results);
  if (stored.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
  COFFRE_RETURN_IF_ERROR(stored.status());
  Page<CertificateItem> out;
  for (const auto& r : stored->items) out.items.push_back(ItemOf(vault, r, true));
  out.next_cursor = stored->next_cursor;
  return out;
}

Result<Page<DeletedCertificateItem>> CertificateService::ListDeletedCertificates(
    const store::VaultRecord& vault, const PageRequest& page) {
  COFFRE_RETURN_IF_ERROR(CheckPage(page));
  COFFRE_ASSIGN_OR_RETURN(
      auto stored, store_.ListDeletedCertificates(vault.name, page.cursor, page.max_results));
  Page<DeletedCertificateItem> out;
  for (const auto& r : stored.items) {
    out.items.push_back(DeletedCertificateItem{
        ItemOf(vault, r.latest, false), DeletionInfo{r.deleted_date, r.scheduled_purge_date}});
  }
  out.next_cursor = stored.next_cursor;
  return out;
}

// ---- backup and restore
//
// A blob is kCertificateBackupMagic, a format byte, then AES-256-GCM under a key derived for
// certificate backups (so key or secret backups do not restore as certificates) over the
// certificate's name, policy and versions, each with its private key and secret value.

namespace {

constexpr std::string_view kCertificateBackupMagic = "CFCB";
constexpr uint8_t kCertificateBackupFormat = 1;
constexpr std::string_view kCertificateBackupPurpose = "coffre/certificate-backup/v1";
constexpr uint32_t kMaxBackupVersions = 10000;

Status InvalidCertificateBackup() {
  return Bad("The backup blob is not valid or was not made by this server.");
}

std::string CertificateBackupAad() {
  return std::string(kCertificateBackupMagic) + static_cast<char>(kCertificateBackupFormat);
}

void PutTime(BinaryWriter& w, const std::optional<int64_t>& t) {
  w.PutU8(t ? 1 : 0);
  if (t) w.PutI64(*t);
}

bool ReadTime(BinaryReader& r, std::optional<int64_t>& t) {
  auto present = r.U8();
  if (!present || *present > 1) return false;
  if (*present == 0) return true;
  auto v = r.I64();
  if (!v) return false;
  t = *v;
  return true;
}

}  // namespace

Result<Bytes> CertificateService::BackupCertificate(const store::VaultRecord& vault,
                                                    std::string_view name) {
  auto policy = store_.GetCertificatePolicy(vault.name, name);
  if (policy.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
  COFFRE_RETURN_IF_ERROR(policy.status());
  std::vector<store::CertificateVersionRecord> versions;
  std::string cursor;
  do {
    auto page = store_.ListCertificateVersions(vault.name, name, cursor, 100);
    if (page.status().kind() == ErrorKind::kNotFound) return CertificateNotFound(name);
    COFFRE_RETURN_IF_ERROR(page.status());
    for (auto& v : page->items) versions.push_back(std::move(v));
    cursor = page->next_cursor;
  } while (!cursor.empty());
  if (versions.empty()) return CertificateNotFound(name);

  BinaryWriter w;
  w.PutString(versions.front().name);
  w.PutString(policy->policy);
  w.PutU32(static_cast<uint32_t>(versions.size()));
  for (const auto& v : versions) {
    auto key = store_.GetKeyVersion(vault.name, name, v.key_version);
    auto secret = store_.GetSecretVersion(vault.name, name, v.secret_version);
    if (!key.ok() || !secret.ok()) {
      return Status::Internal("A certificate's key or secret could not be read.");
    }
    auto private_der = material_.OpenKeyVersion(*key);
    auto value =
        material_.Open(SealBinding::SecretVersion(secret->vault, secret->name, secret->version),
                       secret->sealed_value);
    if (!private_der.ok() || !value.ok()) {
      return Status::Internal("A certificate's key or secret could not be read.");
    }
    w.PutString(v.version);
    w.PutBytes(v.cer);
    w.PutU8(v.enabled ? 1 : 0);
    PutTime(w, v.not_before);
    PutTime(w, v.expires);
    w.PutI64(v.created);
    w.PutI64(v.updated);
    w.PutU32(static_cast<uint32_t>(v.tags.size()));
    for (const auto& [tag, tag_value] : v.tags) {
      w.PutString(tag);
      w.PutString(tag_value);
    }
    w.PutString(key->key_type);
    w.PutU32(static_cast<uint32_t>(key->key_ops.size()));
    for (const auto& op : key->key_ops) w.PutString(op);
    w.PutBytes(*private_der);
    w.PutString(secret->content_type.value_or(""));
    w.PutBytes(*value);
  }
  COFFRE_ASSIGN_OR_RETURN(Bytes sealed, material_.SealBackup(kCertificateBackupPurpose, w.bytes(),
                                                             AsBytes(CertificateBackupAad())));
  Bytes blob(kCertificateBackupMagic.begin(), kCertificateBackupMagic.end());
  blob.push_back(kCertificateBackupFormat);
  blob.insert(blob.end(), sealed.begin(), sealed.end());
  return blob;
}

Result<CertificateBundle> CertificateService::RestoreCertificate(const store::VaultRecord& vault,
                                                                 ByteSpan backup) {
  const size_t header = kCertificateBackupMagic.size() + 1;
  if (backup.size() <= header ||
      AsChars(backup.subspan(0, kCertificateBackupMagic.size())) != kCertificateBackupMagic ||
      backup[kCertificateBackupMagic.size()] != kCertificateBackupFormat) {
    return InvalidCertificateBackup();
  }
  auto payload = material_.OpenBackup(kCertificateBackupPurpose, backup.subspan(header),
                                      AsBytes(CertificateBackupAad()));
  if (!payload.ok()) return InvalidCertificateBackup();
  BinaryReader r(*payload);
  auto name = r.String();
  auto policy_text = r.String();
  auto count = r.U32();
  if (!name || !IsValidObjectName(*name) || !policy_text || !count || *count == 0 ||
      *count > kMaxBackupVersions) {
    return InvalidCertificateBackup();
  }
  COFFRE_ASSIGN_OR_RETURN(CertificatePolicy policy, DecodeCertificatePolicy(*policy_text));
  std::vector<store::CertificateVersionViews> versions;
  for (uint32_t i = 0; i < *count; ++i) {
    store::CertificateVersionViews v;
    auto version = r.String();
    auto cer = r.Bytes();
    auto enabled = r.U8();
    if (!version || !IsValidVersion(*version) || !cer || !enabled)
      return InvalidCertificateBackup();
    v.certificate.version = *version;
    v.certificate.cer.assign(cer->begin(), cer->end());
    v.certificate.enabled = *enabled == 1;
    auto& c = v.certificate;
    if (!ReadTime(r, c.not_before) || !ReadTime(r, c.expires)) return InvalidCertificateBackup();
    auto created = r.I64();
    auto updated = r.I64();
    auto tag_count = r.U32();
    if (!created || !updated || !tag_count || *tag_count > kMaxTags) {
      return InvalidCertificateBackup();
    }
    c.created = *created;
    c.updated = *updated;
    for (uint32_t t = 0; t < *tag_count; ++t) {
      auto tag = r.String();
      auto value = r.String();
      if (!tag || !value) return InvalidCertificateBackup();
      c.tags.emplace_back(std::move(*tag), std::move(*value));
    }
    auto key_type = r.String();
    auto op_count = r.U32();
    if (!key_type || !op_count || *op_count > 16) return InvalidCertificateBackup();
    for (uint32_t o = 0; o < *op_count; ++o) {
      auto op = r.String();
      if (!op) return InvalidCertificateBackup();
      v.key.key_ops.push_back(std::move(*op));
    }
    auto private_der = r.Bytes();
    auto content_type = r.String();
    auto value = r.Bytes();
    if (!private_der || !content_type || !value) return InvalidCertificateBackup();
    SecureBytes der(private_der->begin(), private_der->end());
    auto key = crypto::AsymmetricKey::FromPrivateDer(der);
    if (!key.ok()) return InvalidCertificateBackup();
    c.vault = v.key.vault = v.secret.vault = vault.name;
    c.name = v.key.name = v.secret.name = *name;
    v.key.version = v.secret.version = c.version;
    c.x5t = crypto::Thumbprint(c.cer);
    v.key.key_type = *key_type;
    v.key.enabled = v.secret.enabled = c.enabled;
    v.key.not_before = v.secret.not_before = c.not_before;
    v.key.expires = v.secret.expires = c.expires;
    v.key.created = v.secret.created = c.created;
    v.key.updated = v.secret.updated = c.updated;
    v.key.public_key = key->PublicDer();
    COFFRE_ASSIGN_OR_RETURN(v.key.sealed_private_key, material_.SealKeyVersion(v.key, der));
    v.secret.content_type = *content_type;
    v.secret.managed = true;
    v.secret.key_id = vault_url_(vault) + "/keys/" + *name + "/" + c.version;
    COFFRE_ASSIGN_OR_RETURN(
        v.secret.sealed_value,
        material_.Seal(SealBinding::SecretVersion(vault.name, *name, c.version), *value));
    versions.push_back(std::move(v));
  }
  if (!r.AtEnd()) return InvalidCertificateBackup();
  Status restored = store_.RestoreCertificate(versions, *policy_text);
  if (restored.kind() == ErrorKind::kNotFound) {
    return Status::NotFound("The vault " + vault.name + " does not exist.", "VaultNotFound");
  }
  if (store::HasReason(restored, store::reason::kExists)) {
    return Status::Conflict("Certificate " + *name +
                                " already exists, or a key or secret of that name does; a "
                                "certificate restores only under a name not in use.",
                            "Conflict");
  }
  if (store::HasReason(restored, store::reason::kDuplicateVersion)) {
    return InvalidCertificateBackup();
  }
  COFFRE_RETURN_IF_ERROR(restored);
  (void)policy;
  return GetCertificate(vault, *name, "");
}

// ---- issuers

namespace {

Status IssuerNotFound(std::string_view name) {
  return Status::NotFound("Issuer not found: " + std::string(name.substr(0, 127)),
                          "CertificateIssuerNotFound");
}

Result<std::optional<std::string>> OptionalText(const boost::json::object& o,
                                                std::string_view member, size_t max) {
  const boost::json::value* v = o.if_contains(member);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string() || v->as_string().size() > max) {
    return Bad("Property " + std::string(member) + " must be a string of at most " +
               std::to_string(max) + " characters.");
  }
  return std::optional<std::string>(std::string(v->as_string()));
}

struct IssuerInput {
  boost::json::object document;  // provider, credentials.account_id, org_details
  std::optional<std::string> password;
  std::optional<bool> enabled;
};

// Reads an IssuerBundle body; members absent stay as in `base`.
Result<IssuerInput> ReadIssuer(const boost::json::value& body, const boost::json::object& base) {
  if (!body.is_object()) return Bad("The issuer must be a JSON object.");
  const boost::json::object& o = body.as_object();
  IssuerInput in;
  in.document = base;
  COFFRE_ASSIGN_OR_RETURN(std::optional<std::string> provider, OptionalText(o, "provider", 256));
  if (provider) {
    if (provider->empty()) return Bad("Property provider must not be empty.");
    in.document["provider"] = *provider;
  }
  if (!in.document.contains("provider")) return Bad("Property provider is required.");
  if (const boost::json::value* c = o.if_contains("credentials"); c != nullptr && !c->is_null()) {
    if (!c->is_object()) return Bad("Property credentials must be an object.");
    COFFRE_ASSIGN_OR_RETURN(std::optional<std::string> account,
                            OptionalText(c->as_object(), "account_id", 1024));
    COFFRE_ASSIGN_OR_RETURN(in.password, OptionalText(c->as_object(), "pwd", 1024));
    boost::json::object credentials;
    if (account) credentials["account_id"] = *account;
    in.document["credentials"] = std::move(credentials);
  }
  if (const boost::json::value* d = o.if_contains("org_details"); d != nullptr && !d->is_null()) {
    if (!d->is_object()) return Bad("Property org_details must be an object.");
    boost::json::object org;
    COFFRE_ASSIGN_OR_RETURN(std::optional<std::string> id,
                            OptionalText(d->as_object(), "id", 1024));
    if (id) org["id"] = *id;
    if (const boost::json::value* admins = d->as_object().if_contains("admin_details");
        admins != nullptr && !admins->is_null()) {
      if (!admins->is_array() || admins->as_array().size() > kMaxAdminDetails) {
        return Bad("Property admin_details must be an array of at most 100 entries.");
      }
      boost::json::array list;
      for (const boost::json::value& a : admins->as_array()) {
        if (!a.is_object()) return Bad("An administrator must be an object.");
        boost::json::object admin;
        for (std::string_view member : {"first_name", "last_name", "email", "phone"}) {
          COFFRE_ASSIGN_OR_RETURN(std::optional<std::string> text,
                                  OptionalText(a.as_object(), member, 256));
          if (text) admin[member] = *text;
        }
        list.emplace_back(std::move(admin));
      }
      org["admin_details"] = std::move(list);
    }
    in.document["org_details"] = std::move(org);
  }
  if (const boost::json::value* a = o.if_contains("attributes"); a != nullptr && !a->is_null()) {
    if (!a->is_object()) return Bad("Property attributes must be an object.");
    if (const boost::json::value* e = a->as_object().if_contains("enabled");
        e != nullptr && !e->is_null()) {
      if (!e->is_bool()) return Bad("Property enabled must be a boolean.");
      in.enabled = e->as_bool();
    }
  }
  return in;
}

Result<CertificateIssuer> IssuerOf(const store::CertificateSettingRecord& r) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(r.document, ec);
  if (ec || !doc.is_object()) return Status::Internal("A stored issuer could not be read.");
  CertificateIssuer issuer;
  issuer.name = r.name;
  issuer.document = std::move(doc.as_object());
  if (const boost::json::value* e = issuer.document.if_contains("enabled"); e && e->is_bool()) {
    issuer.enabled = e->as_bool();
  }
  issuer.document.erase("enabled");
  issuer.created = r.created;
  issuer.updated = r.updated;
  return issuer;
}

}  // namespace

Result<CertificateIssuer> CertificateService::SetIssuer(const store::VaultRecord& vault,
                                                        std::string_view name,
                                                        const boost::json::value& body) {
  if (!IsValidObjectName(name) || IsBuiltInIssuer(name)) return InvalidName(name);
  COFFRE_ASSIGN_OR_RETURN(IssuerInput in, ReadIssuer(body, {}));
  const int64_t now = clock_.NowSeconds();
  store::CertificateSettingRecord record;
  record.vault = vault.name;
  record.kind = std::string(kIssuerKind);
  record.name = std::string(name);
  in.document["enabled"] = in.enabled.value_or(true);
  record.document = boost::json::serialize(in.document);
  if (in.password) {
    COFFRE_ASSIGN_OR_RETURN(
        record.sealed,
        material_.Seal(SealBinding{"certificate-issuer/v1", vault.name, AsciiLower(name), ""},
                       AsBytes(*in.password)));
    OPENSSL_cleanse(in.password->data(), in.password->size());
  }
  record.created = record.updated = now;
  COFFRE_ASSIGN_OR_RETURN(store::CertificateSettingRecord stored,
                          store_.PutCertificateSetting(record, true));
  return GetIssuer(vault, name);
}

Result<CertificateIssuer> CertificateService::UpdateIssuer(const store::VaultRecord& vault,
                                                           std::string_view name,
                                                           const boost::json::value& body) {
  auto current = store_.GetCertificateSetting(vault.name, kIssuerKind, name);
  if (current.status().kind() == ErrorKind::kNotFound) return IssuerNotFound(name);
  COFFRE_RETURN_IF_ERROR(current.status());
  COFFRE_ASSIGN_OR_RETURN(CertificateIssuer issuer, IssuerOf(*current));
  COFFRE_ASSIGN_OR_RETURN(IssuerInput in, ReadIssuer(body, issuer.document));
  store::CertificateSettingRecord record = *current;
  in.document["enabled"] = in.enabled.value_or(issuer.enabled);
  record.document = boost::json::serialize(in.document);
  if (in.password) {
    COFFRE_ASSIGN_OR_RETURN(
        record.sealed,
        material_.Seal(SealBinding{"certificate-issuer/v1", vault.name, AsciiLower(name), ""},
                       AsBytes(*in.password)));
    OPENSSL_cleanse(in.password->data(), in.password->size());
  }
  record.updated = clock_.NowSeconds();
  COFFRE_RETURN_IF_ERROR(store_.PutCertificateSetting(record, true).status());
  return GetIssuer(vault, name);
}

Result<CertificateIssuer> CertificateService::GetIssuer(const store::VaultRecord& vault,
                                                        std::string_view name) {
  auto stored = store_.GetCertificateSetting(vault.name, kIssuerKind, name);
  if (stored.status().kind() == ErrorKind::kNotFound) return IssuerNotFound(name);
  COFFRE_RETURN_IF_ERROR(stored.status());
  COFFRE_ASSIGN_OR_RETURN(CertificateIssuer issuer, IssuerOf(*stored));
  if (ProviderOf(*stored) == kCoffreIssuerProvider) {
    // The private CA's certificate, for clients to trust what it issues.
    COFFRE_ASSIGN_OR_RETURN(PrivateCa ca,
                            LoadOrCreatePrivateCa(store_, material_, vault, clock_.NowSeconds()));
    issuer.document["ca_certificate"] = Base64Encode(ca.cer);
  }
  return issuer;
}

Result<CertificateIssuer> CertificateService::DeleteIssuer(const store::VaultRecord& vault,
                                                           std::string_view name) {
  auto deleted = store_.DeleteCertificateSetting(vault.name, kIssuerKind, name);
  if (deleted.status().kind() == ErrorKind::kNotFound) return IssuerNotFound(name);
  COFFRE_RETURN_IF_ERROR(deleted.status());
  return IssuerOf(*deleted);
}

Result<Page<CertificateIssuer>> CertificateService::ListIssuers(const store::VaultRecord& vault,
                                                                const PageRequest& page) {
  COFFRE_RETURN_IF_ERROR(CheckPage(page));
  COFFRE_ASSIGN_OR_RETURN(auto stored, store_.ListCertificateSettings(
                                           vault.name, kIssuerKind, page.cursor, page.max_results));
  Page<CertificateIssuer> out;
  for (const auto& r : stored.items) {
    COFFRE_ASSIGN_OR_RETURN(CertificateIssuer issuer, IssuerOf(r));
    out.items.push_back(std::move(issuer));
  }
  out.next_cursor = stored.next_cursor;
  return out;
}

// ---- contacts

namespace {

Status ContactsNotFound() { return Status::NotFound("Contacts not found", "ContactsNotFound"); }

Result<std::vector<CertificateContact>> ContactsOf(std::string_view document) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(document, ec);
  if (ec || !doc.is_array()) return Status::Internal("Stored contacts could not be read.");
  std::vector<CertificateContact> out;
  for (const auto& item : doc.as_array()) {
    if (!item.is_object()) return Status::Internal("Stored contacts could not be read.");
    CertificateContact c;
    auto text = [&](std::string_view m) -> std::optional<std::string> {
      const boost::json::value* v = item.as_object().if_contains(m);
      if (v == nullptr || !v->is_string()) return std::nullopt;
      return std::string(v->as_string());
    };
    c.email = text("email");
    c.name = text("name");
    c.phone = text("phone");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

Result<std::vector<CertificateContact>> CertificateService::SetContacts(
    const store::VaultRecord& vault, const boost::json::value& body) {
  if (!body.is_object()) return Bad("The contacts must be a JSON object.");
  const boost::json::value* list = body.as_object().if_contains("contacts");
  if (list == nullptr || !list->is_array() || list->as_array().empty() ||
      list->as_array().size() > kMaxContacts) {
    return Bad("Property contacts must be an array of 1 to 100 contacts.");
  }
  boost::json::array stored;
  for (const auto& item : list->as_array()) {
    if (!item.is_object()) return Bad("A contact must be an object.");
    boost::json::object contact;
    for (std::string_view member : {"email", "name", "phone"}) {
      COFFRE_ASSIGN_OR_RETURN(std::optional<std::string> text,
                              OptionalText(item.as_object(), member, 256));
      if (text) contact[member] = *text;
    }
    if (!contact.contains("email")) return Bad("Every contact needs an email address.");
    stored.emplace_back(std::move(contact));
  }
  store::CertificateSettingRecord record;
  record.vault = vault.name;
  record.kind = std::string(kContactsKind);
  record.name = std::string(kContactsName);
  record.document = boost::json::serialize(stored);
  record.created = record.updated = clock_.NowSeconds();
  COFFRE_ASSIGN_OR_RETURN(store::CertificateSettingRecord kept,
                          store_.PutCertificateSetting(record, true));
  return ContactsOf(kept.document);
}

Result<std::vector<CertificateContact>> CertificateService::GetContacts(
    const store::VaultRecord& vault) {
  auto stored = store_.GetCertificateSetting(vault.name, kContactsKind, kContactsName);
  if (stored.status().kind() == ErrorKind::kNotFound) return ContactsNotFound();
  COFFRE_RETURN_IF_ERROR(stored.status());
  return ContactsOf(stored->document);
}

Result<std::vector<CertificateContact>> CertificateService::DeleteContacts(
    const store::VaultRecord& vault) {
  auto deleted = store_.DeleteCertificateSetting(vault.name, kContactsKind, kContactsName);
  if (deleted.status().kind() == ErrorKind::kNotFound) return ContactsNotFound();
  COFFRE_RETURN_IF_ERROR(deleted.status());
  return ContactsOf(deleted->document);
}

}  // namespace coffre::service
