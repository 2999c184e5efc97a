// The dev CA and TLS server certificates it issues.
#pragma once

#include <string>
#include <vector>

#include "coffre/status.h"
#include "common/bytes.h"

namespace coffre::crypto {

struct CertificateAndKey {
  std::string cert_pem;
  SecureString key_pem;  // PKCS#8 PEM
};

// A self-signed CA certificate (EC P-256, basicConstraints CA:TRUE critical, keyCertSign),
// name-constrained (critical) to what the dev CA issues for: localhost, *.localhost, 127.0.0.1,
// ::1 and *.vault.azure.net.
Result<CertificateAndKey> CreateDevCa(const std::string& common_name, int valid_days);

// A leaf certificate signed by `ca` for TLS servers (EC P-256, serverAuth EKU,
// subjectAltName with every DNS name and IP address given; IPs may be v4 or v6 text).
Result<CertificateAndKey> IssueServerCertificate(const CertificateAndKey& ca,
                                                 const std::vector<std::string>& dns_names,
                                                 const std::vector<std::string>& ip_addresses,
                                                 int valid_days);

// Every DNS name in a certificate's subjectAltName (to decide whether to reissue).
Result<std::vector<std::string>> CertificateDnsNames(const std::string& cert_pem);
// Whether the certificate carries a name constraints extension (dev CAs made before it did are
// replaced).
Result<bool> CertificateIsNameConstrained(const std::string& cert_pem);
// Seconds since the epoch at which the certificate expires.
Result<int64_t> CertificateNotAfter(const std::string& cert_pem);

}  // namespace coffre::crypto
