// A certificate's issuance policy: what Key Vault's policy JSON says, validated once here, with
// the defaults the service fills in for what the SDKs leave out (CertificatePolicy.get_default()
// sends only the issuer "Self" and the subject "CN=DefaultPolicy"). The stored form is the
// normalized JSON this file writes; the HTTP layer adds the policy's id and attributes.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "crypto/certificate.h"

namespace coffre::service {

struct CertificateLifetimeAction {
  std::optional<int> lifetime_percentage;  // 1..99
  std::optional<int> days_before_expiry;
  std::string action;  // "AutoRenew" or "EmailContacts"
};

struct CertificatePolicy {
  // key_props
  std::string kty = "RSA";  // RSA, RSA-HSM, EC, EC-HSM
  int key_size = 2048;      // RSA: 2048, 3072, 4096
  std::string curve;        // EC: P-256, P-384, P-521 (P-256K is not offered)
  bool exportable = true;
  bool reuse_key = false;
  // secret_props
  std::string content_type = "application/x-pkcs12";  // or application/x-pem-file
  // x509_props (validity_months 1..120)
  crypto::X509Properties x509;
  std::vector<CertificateLifetimeAction> lifetime_actions;
  // issuer
  std::string issuer = "Self";  // "Self", "Unknown" or a named issuer
  std::optional<std::string> certificate_type;
  std::optional<bool> cert_transparency;
  bool enabled = true;  // attributes.enabled of new versions

  bool is_ec() const { return kty == "EC" || kty == "EC-HSM"; }
};

inline constexpr std::string_view kPkcs12ContentType = "application/x-pkcs12";
inline constexpr std::string_view kPemContentType = "application/x-pem-file";
inline constexpr int kMaxValidityMonths = 120;

// What a new certificate's policy holds before its JSON is read, as Key Vault fills it in: an
// exportable RSA 2048 key, a PFX secret, serverAuth and clientAuth, digitalSignature and
// keyEncipherment, 12 months, and AutoRenew at 80% of the lifetime.
CertificatePolicy DefaultCertificatePolicy();

// Reads a policy from its JSON (a create or import body's "policy", or a PATCH of the policy):
// every member given replaces what `base` has; members not given keep `base`'s value (the
// defaults for a new certificate). kBadRequest with Key Vault's words for anything invalid.
Result<CertificatePolicy> ParseCertificatePolicy(const boost::json::value& json,
                                                 const CertificatePolicy& base);
// The policy's JSON as Key Vault shows it, without "id" and "attributes" (which the caller
// adds), also the stored form.
boost::json::object CertificatePolicyJson(const CertificatePolicy& policy);
// The stored form and back (kInternal if a stored document does not read).
std::string EncodeCertificatePolicy(const CertificatePolicy& policy);
Result<CertificatePolicy> DecodeCertificatePolicy(std::string_view stored);

}  // namespace coffre::service
