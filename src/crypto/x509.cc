#include "crypto/x509.h"

#include <openssl/pem.h>

#include <climits>
#include <ctime>

#include "crypto/asymmetric_key.h"
#include "crypto/ossl_util.h"
#include "crypto/random.h"

namespace coffre::crypto {
namespace {

using internal::BioPtr;
using internal::BnPtr;
using internal::ErrorQueueMark;
using internal::GeneralNamesPtr;
using internal::X509ExtPtr;
using internal::X509Ptr;

constexpr int kMaxValidDays = 100 * 365;
// Issued certificates start an hour in the past so clocks slightly behind ours accept them.
constexpr long kBackdateSeconds = 3600;
constexpr size_t kMaxDnsNameLength = 253;

Status CertError() { return Status::Internal("certificate creation failed"); }

// A hostname, optionally with a leading "*." wildcard label. Checked here because these names
// go into the certificate verbatim and we only want what TLS clients can match.
bool IsValidDnsName(const std::string& name) {
  if (name.empty() || name.size() > kMaxDnsNameLength) return false;
  std::string_view rest = name;
  if (rest.starts_with("*.")) rest.remove_prefix(2);
  if (rest.empty() || rest.front() == '.' || rest.back() == '.') return false;
  char prev = 0;
  for (char c : rest) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

Result<X509Ptr> ParseCertificate(const std::string& pem) {
  if (pem.empty() || pem.size() > INT_MAX) return Status::BadParameter("invalid certificate");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal("out of memory");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::BadParameter("invalid certificate");
  return cert;
}

Result<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return CertError();
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return CertError();
  return std::string(data, static_cast<size_t>(len));
}

// Adds one extension from its OpenSSL config-string form. Only used with our own constant
// strings, never with caller-supplied text (that would allow injecting extra values).
Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return CertError();
  return Status::Ok();
}

// Version 3, random positive 128-bit serial, validity window, subject and public key.
Status InitCertificate(X509* cert, EVP_PKEY* subject_key, const std::string& common_name,
                       int valid_days) {
  Bytes serial_bytes = RandomBytes(16);
  serial_bytes[0] &= 0x7f;  // positive and at most 16 bytes once DER-encoded
  serial_bytes[0] |= 0x01;  // never zero
  BnPtr serial(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  X509_NAME* subject = X509_get_subject_name(cert);
  if (!serial || X509_set_version(cert, X509_VERSION_3) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert), -kBackdateSeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), valid_days, 0, nullptr) == nullptr ||
      subject == nullptr ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1 ||
      X509_set_pubkey(cert, subject_key) != 1) {
    return CertError();
  }
  return Status::Ok();
}

Status AddSubjectAltNames(X509* cert, const std::vector<std::string>& dns_names,
                          const std::vector<std::string>& ip_addresses) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return CertError();
  for (const auto& dns : dns_names) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (gn == nullptr || ia5 == nullptr ||
        ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(ia5);
      return CertError();
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gn) <= 0) {
      GENERAL_NAME_free(gn);
      return CertError();
    }
  }
  for (const auto& ip : ip_addresses) {
    // a2i_IPADDRESS parses both dotted IPv4 and IPv6 text into the 4- or 16-byte form.
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (octets == nullptr) return Status::BadParameter("invalid IP address: " + ip);
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (gn == nullptr) {
      ASN1_OCTET_STRING_free(octets);
      return CertError();
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, octets);
    if (sk_GENERAL_NAME_push(names.get(), gn) <= 0) {
      GENERAL_NAME_free(gn);
      return CertError();
    }
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return CertError();
  }
  return Status::Ok();
}

Result<CertificateAndKey> Finish(X509* cert, const AsymmetricKey& subject_key,
                                 EVP_PKEY* signing_key) {
  if (X509_sign(cert, signing_key, EVP_sha256()) <= 0) return CertError();
  CertificateAndKey out;
  COFFRE_ASSIGN_OR_RETURN(out.cert_pem, CertificateToPem(cert));
  out.key_pem = subject_key.PrivatePem();
  if (out.key_pem.empty()) return CertError();
  return out;
}

}  // namespace

Result<CertificateAndKey> CreateDevCa(const std::string& common_name, int valid_days) {
  if (common_name.empty() || common_name.size() > 64) {
    return Status::BadParameter("CA common name must be 1 to 64 characters");
  }
  if (valid_days < 1 || valid_days > kMaxValidDays) {
    return Status::BadParameter("invalid certificate validity");
  }
  COFFRE_ASSIGN_OR_RETURN(AsymmetricKey key, AsymmetricKey::GenerateEc(Curve::kP256));
  ErrorQueueMark mark;
  X509Ptr cert(X509_new());
  if (!cert) return CertError();
  COFFRE_RETURN_IF_ERROR(InitCertificate(cert.get(), key.native(), common_name, valid_days));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) {
    return CertError();
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  // pathlen:0 because the dev CA only ever signs leaf certificates.
  COFFRE_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  COFFRE_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
  COFFRE_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  // Clients that trust the dev CA trust it for these names only (a DNS constraint covers the
  // name and every name below it).
  COFFRE_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_name_constraints,
                   "critical,permitted;DNS:localhost,permitted;DNS:.localhost,"
                   "permitted;DNS:.vault.azure.net,permitted;IP:127.0.0.1/255.255.255.255,"
                   "permitted;IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  return Finish(cert.get(), key, key.native());
}

Result<CertificateAndKey> IssueServerCertificate(const CertificateAndKey& ca,
                                                 const std::vector<std::string>& dns_names,
                                                 const std::vector<std::string>& ip_addresses,
                                                 int valid_days) {
  if (dns_names.empty() && ip_addresses.empty()) {
    return Status::BadParameter("a server certificate needs at least one name");
  }
  for (const auto& name : dns_names) {
    if (!IsValidDnsName(name)) return Status::BadParameter("invalid DNS name: " + name);
  }
  if (valid_days < 1 || valid_days > kMaxValidDays) {
    return Status::BadParameter("invalid certificate validity");
  }
  COFFRE_ASSIGN_OR_RETURN(X509Ptr ca_cert, ParseCertificate(ca.cert_pem));
  COFFRE_ASSIGN_OR_RETURN(AsymmetricKey ca_key,
                          AsymmetricKey::FromPrivatePem(std::string_view(ca.key_pem)));
  ErrorQueueMark mark;
  if (X509_check_private_key(ca_cert.get(), ca_key.native()) != 1) {
    return Status::BadParameter("CA key does not match the CA certificate");
  }
  COFFRE_ASSIGN_OR_RETURN(AsymmetricKey key, AsymmetricKey::GenerateEc(Curve::kP256));

  X509Ptr cert(X509_new());
  if (!cert) return CertError();
  const std::string& common_name = dns_names.empty() ? ip_addresses.front() : dns_names.front();
  if (common_name.size() > 64) return Status::BadParameter("first name too long for a CN");
  COFFRE_RETURN_IF_ERROR(InitCertificate(cert.get(), key.native(), common_name, valid_days));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1) {
    return CertError();
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert.get(), cert.get(), nullptr, nullptr, 0);
  COFFRE_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  COFFRE_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  COFFRE_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth"));
  COFFRE_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  COFFRE_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  COFFRE_RETURN_IF_ERROR(AddSubjectAltNames(cert.get(), dns_names, ip_addresses));
  return Finish(cert.get(), key, ca_key.native());
}

Result<std::vector<std::string>> CertificateDnsNames(const std::string& cert_pem) {
  ErrorQueueMark mark;
  COFFRE_ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(cert_pem));
  std::vector<std::string> names;
  int crit = 0;
  GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, &crit, nullptr)));
  if (!sans) {
    // -1: no such extension (a certificate without names); anything else: it is malformed.
    if (crit == -1) return names;
    return Status::BadParameter("invalid subjectAltName");
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (gn->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = gn->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                       static_cast<size_t>(ASN1_STRING_length(dns)));
  }
  return names;
}

Result<bool> CertificateIsNameConstrained(const std::string& cert_pem) {
  ErrorQueueMark mark;
  COFFRE_ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(cert_pem));
  return X509_get_ext_by_NID(cert.get(), NID_name_constraints, -1) >= 0;
}

Result<int64_t> CertificateNotAfter(const std::string& cert_pem) {
  ErrorQueueMark mark;
  COFFRE_ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(cert_pem));
  const ASN1_TIME* not_after = X509_get0_notAfter(cert.get());
  struct tm tm = {};
  if (not_after == nullptr || ASN1_TIME_to_tm(not_after, &tm) != 1) {
    return Status::BadParameter("invalid certificate validity");
  }
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace coffre::crypto
