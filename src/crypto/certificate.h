// Key Vault certificates at the X.509 level: self-signed certificates and certificate requests
// for a key and a policy's X.509 properties, parsing of certificates, PKCS#12 and PEM bundles,
// and building the PFX or PEM a certificate's secret holds. OpenSSL 3 EVP/X509 APIs only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "common/bytes.h"
#include "crypto/asymmetric_key.h"

namespace coffre::crypto {

// The X.509 properties of a certificate policy, as the service validated them.
struct X509Properties {
  std::string subject;  // RFC 4514-like, as Key Vault takes it: "CN=a, O=b"
  std::vector<std::string> dns_names;
  std::vector<std::string> emails;
  std::vector<std::string> upns;
  std::vector<std::string> ekus;       // dotted OIDs
  std::vector<std::string> key_usage;  // Key Vault names: digitalSignature, keyEncipherment, ...
  int validity_months = 12;
  bool certificate_authority = false;  // basicConstraints CA:TRUE (critical)
};

// Whether `name` is one of the key usage names Key Vault accepts.
bool IsKeyUsageName(std::string_view name);

// A certificate for `key` signed by itself (SHA-256), valid from `now` (seconds since the epoch)
// for the given number of calendar months; DER. kBadRequest for a subject that does not parse.
Result<Bytes> SelfSignCertificate(const AsymmetricKey& key, const X509Properties& properties,
                                  int64_t now);
// A certificate for `key` issued by the CA whose key is `ca_key` and certificate `ca_der`.
Result<Bytes> IssueCertificate(const AsymmetricKey& key, const X509Properties& properties,
                               int64_t now, const AsymmetricKey& ca_key, ByteSpan ca_der);
// A PKCS#10 certificate request for `key` (SHA-256), DER.
Result<Bytes> CreateCertificateRequest(const AsymmetricKey& key, const X509Properties& properties);

struct CertificateFacts {
  int64_t not_before = 0;
  int64_t not_after = 0;
  Bytes public_key;  // SubjectPublicKeyInfo DER
  std::string subject;
};
// kBadRequest unless `der` is exactly one DER certificate.
Result<CertificateFacts> ReadCertificate(ByteSpan der);
// SHA-1 of the DER (the x5t Key Vault shows).
Bytes Thumbprint(ByteSpan der);

// A private key and its certificate chain, leaf first (the leaf is the certificate of the key).
struct KeyAndChain {
  AsymmetricKey key;
  std::vector<Bytes> chain;  // DER
};
// kBadRequest for data that is not PKCS#12, a wrong password, a bundle without a private key
// or without its certificate, or more than `max_chain` certificates.
Result<KeyAndChain> ParsePkcs12(ByteSpan pfx, std::string_view password, size_t max_chain);
// PEM text with one private key and its certificate chain in any order; the same errors.
Result<KeyAndChain> ParsePemBundle(std::string_view pem, size_t max_chain);
// Certificates only (a chain to merge): one DER certificate, or PEM text holding certificates.
Result<std::vector<Bytes>> ParseCertificates(ByteSpan der_or_pem, size_t max_chain);

// The PFX a certificate's secret holds: key and chain, no password, no encryption of the bags
// (the store seals the whole secret). Without `with_key` (a key that is not exportable), the
// chain only.
Result<Bytes> BuildPkcs12(const KeyAndChain& bundle, bool with_key = true);
// The PEM a certificate's secret holds: the PKCS#8 private key (if `with_key`), then the chain.
Result<SecureString> BuildPem(const KeyAndChain& bundle, bool with_key = true);

}  // namespace coffre::crypto
