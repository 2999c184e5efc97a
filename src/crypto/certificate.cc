#include "crypto/certificate.h"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <array>
#include <climits>
#include <ctime>
#include <utility>

#include "common/strings.h"
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
using NamePtr = internal::OsslPtr<X509_NAME, X509_NAME_free>;
using ReqPtr = internal::OsslPtr<X509_REQ, X509_REQ_free>;
using Pkcs12Ptr = internal::OsslPtr<PKCS12, PKCS12_free>;
using ExtStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), void (*)(STACK_OF(X509_EXTENSION)*)>;

struct KeyUsageBit {
  std::string_view name;
  int bit;
};
constexpr std::array<KeyUsageBit, 9> kKeyUsage = {{
    {"digitalSignature", KU_DIGITAL_SIGNATURE},
    {"nonRepudiation", KU_NON_REPUDIATION},
    {"keyEncipherment", KU_KEY_ENCIPHERMENT},
    {"dataEncipherment", KU_DATA_ENCIPHERMENT},
    {"keyAgreement", KU_KEY_AGREEMENT},
    {"keyCertSign", KU_KEY_CERT_SIGN},
    {"cRLSign", KU_CRL_SIGN},
    {"encipherOnly", KU_ENCIPHER_ONLY},
    {"decipherOnly", KU_DECIPHER_ONLY},
}};

Status Invalid(std::string message) { return Status::BadParameter(std::move(message)); }

// "CN=a, O=b" -> an X509_NAME. Commas inside values may be escaped with a backslash.
Result<NamePtr> ParseSubject(std::string_view subject) {
  NamePtr name(X509_NAME_new());
  if (!name) return Status::Internal("X509_NAME_new failed");
  std::string part;
  std::vector<std::string> parts;
  for (size_t i = 0; i < subject.size(); ++i) {
    char c = subject[i];
    if (c == '\\' && i + 1 < subject.size()) {
      part.push_back(subject[++i]);
    } else if (c == ',' || c == ';') {
      parts.push_back(std::move(part));
      part.clear();
    } else {
      part.push_back(c);
    }
  }
  parts.push_back(std::move(part));
  for (std::string& p : parts) {
    size_t b = p.find_first_not_of(' ');
    size_t e = p.find_last_not_of(' ');
    if (b == std::string::npos) return Invalid("The subject has an empty part.");
    p = p.substr(b, e - b + 1);
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == p.size()) {
      return Invalid("The subject is not a valid X.500 name.");
    }
    std::string field = p.substr(0, eq);
    while (!field.empty() && field.back() == ' ') field.pop_back();
    std::string value = p.substr(eq + 1);
    size_t vb = value.find_first_not_of(' ');
    value = vb == std::string::npos ? "" : value.substr(vb);
    if (field == "E") field = "emailAddress";
    if (OBJ_txt2nid(field.c_str()) == NID_undef) {
      return Invalid("The subject names an unknown attribute.");
    }
    if (X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return Invalid("The subject is not a valid X.500 name.");
    }
  }
  return name;
}

std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

// Adds months to a UTC time, as a calendar does (day clamped by timegm's normalization).
int64_t AddMonths(int64_t now, int months) {
  time_t t = static_cast<time_t>(now);
  struct tm tm {};
  gmtime_r(&t, &tm);
  int64_t month = tm.tm_mon + int64_t{months};
  tm.tm_year += static_cast<int>(month / 12);
  tm.tm_mon = static_cast<int>(month % 12);
  return static_cast<int64_t>(timegm(&tm));
}

X509_EXTENSION* MakeExtension(int nid, const std::string& value) {
  return X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str());
}

// subjectAltName, extendedKeyUsage and keyUsage for the properties, in that order.
Result<std::vector<X509ExtPtr>> Extensions(const X509Properties& p) {
  std::vector<X509ExtPtr> out;
  if (p.certificate_authority) {
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE");
    if (ext == nullptr) return Status::Internal("basicConstraints failed");
    out.emplace_back(ext);
  }
  if (!p.dns_names.empty() || !p.emails.empty() || !p.upns.empty()) {
    GeneralNamesPtr names(GENERAL_NAMES_new());
    if (!names) return Status::Internal("GENERAL_NAMES_new failed");
    auto add_ia5 = [&](int type, const std::string& text) -> Status {
      GENERAL_NAME* gn = GENERAL_NAME_new();
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      if (gn == nullptr || s == nullptr ||
          ASN1_STRING_set(s, text.data(), static_cast<int>(text.size())) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(s);
        return Status::Internal("GENERAL_NAME failed");
      }
      GENERAL_NAME_set0_value(gn, type, s);
      sk_GENERAL_NAME_push(names.get(), gn);
      return Status::Ok();
    };
    for (const auto& d : p.dns_names) COFFRE_RETURN_IF_ERROR(add_ia5(GEN_DNS, d));
    for (const auto& e : p.emails) COFFRE_RETURN_IF_ERROR(add_ia5(GEN_EMAIL, e));
    for (const auto& u : p.upns) {
      // otherName: Microsoft UPN (1.3.6.1.4.1.311.20.2.3), a UTF8String.
      ASN1_TYPE* value = ASN1_TYPE_new();
      ASN1_UTF8STRING* s = ASN1_UTF8STRING_new();
      GENERAL_NAME* gn = GENERAL_NAME_new();
      ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1);
      if (value == nullptr || s == nullptr || gn == nullptr || oid == nullptr ||
          ASN1_STRING_set(s, u.data(), static_cast<int>(u.size())) != 1) {
        ASN1_TYPE_free(value);
        ASN1_UTF8STRING_free(s);
        GENERAL_NAME_free(gn);
        ASN1_OBJECT_free(oid);
        return Status::Internal("UPN failed");
      }
      ASN1_TYPE_set(value, V_ASN1_UTF8STRING, s);
      GENERAL_NAME_set0_othername(gn, oid, value);
      sk_GENERAL_NAME_push(names.get(), gn);
    }
    X509_EXTENSION* ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get());
    if (ext == nullptr) return Invalid("The subject alternative names are not valid.");
    out.emplace_back(ext);
  }
  if (!p.ekus.empty()) {
    std::string list;
    for (const auto& oid : p.ekus) {
      ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
      if (obj == nullptr) return Invalid("An extended key usage is not a valid OID.");
      ASN1_OBJECT_free(obj);
      if (!list.empty()) list += ",";
      list += oid;
    }
    X509_EXTENSION* ext = MakeExtension(NID_ext_key_usage, list);
    if (ext == nullptr) return Invalid("The extended key usages are not valid.");
    out.emplace_back(ext);
  }
  if (!p.key_usage.empty()) {
    std::string list = "critical";
    for (const auto& name : p.key_usage) {
      if (!IsKeyUsageName(name)) return Invalid("Unknown key usage: " + name.substr(0, 64));
      list += "," + name;
    }
    X509_EXTENSION* ext = MakeExtension(NID_key_usage, list);
    if (ext == nullptr) return Invalid("The key usages are not valid.");
    out.emplace_back(ext);
  }
  return out;
}

Result<X509Ptr> ParseDer(ByteSpan der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) return Invalid("The certificate is not valid DER.");
  return cert;
}

Bytes ToDer(X509* cert) {
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return {};
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  i2d_X509(cert, &p);
  return out;
}

Result<int64_t> TimeOf(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
    return Invalid("The certificate has no valid dates.");
  return static_cast<int64_t>(timegm(&tm));
}

// Orders `certs` leaf first: the certificate whose public key is the key's, then the rest.
Result<std::vector<Bytes>> LeafFirst(const AsymmetricKey& key, std::vector<X509Ptr> certs) {
  std::vector<Bytes> chain;
  size_t leaf = certs.size();
  for (size_t i = 0; i < certs.size(); ++i) {
    if (X509_check_private_key(certs[i].get(), key.native()) == 1) {
      leaf = i;
      break;
    }
  }
  if (leaf == certs.size()) {
    return Invalid("The private key does not match any certificate of the bundle.");
  }
  chain.push_back(ToDer(certs[leaf].get()));
  for (size_t i = 0; i < certs.size(); ++i) {
    if (i != leaf) chain.push_back(ToDer(certs[i].get()));
  }
  return chain;
}

}  // namespace

bool IsKeyUsageName(std::string_view name) {
  for (const auto& ku : kKeyUsage) {
    if (ku.name == name) return true;
  }
  return false;
}

namespace {

// A certificate for `key`, signed by `signer` (the key itself when self-signed) whose
// certificate is `issuer` (null: self-signed).
Result<Bytes> BuildCertificate(const AsymmetricKey& key, const X509Properties& properties,
                               int64_t now, const AsymmetricKey& signer, X509* issuer) {
  ErrorQueueMark mark;
  if (!signer.has_private()) return Status::Internal("signing needs a private key");
  COFFRE_ASSIGN_OR_RETURN(NamePtr name, ParseSubject(properties.subject));
  COFFRE_ASSIGN_OR_RETURN(std::vector<X509ExtPtr> extensions, Extensions(properties));
  X509Ptr cert(X509_new());
  if (!cert) return Status::Internal("X509_new failed");
  // A random positive 128-bit serial.
  Bytes serial_bytes = RandomBytes(16);
  serial_bytes[0] &= 0x7f;
  serial_bytes[0] |= 0x01;
  BnPtr serial(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  X509_NAME* issuer_name = issuer != nullptr ? X509_get_subject_name(issuer) : name.get();
  if (!serial || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(now)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                    static_cast<time_t>(AddMonths(now, properties.validity_months))) == nullptr ||
      X509_set_pubkey(cert.get(), key.native()) != 1) {
    return Status::Internal("building the certificate failed");
  }
  for (auto& ext : extensions) {
    if (X509_add_ext(cert.get(), ext.get(), -1) != 1) {
      return Status::Internal("adding an extension failed");
    }
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  X509ExtPtr ski(X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_key_identifier, "hash"));
  if (!ski || X509_add_ext(cert.get(), ski.get(), -1) != 1) {
    return Status::Internal("adding the subject key identifier failed");
  }
  if (issuer != nullptr) {
    X509ExtPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid"));
    if (!aki || X509_add_ext(cert.get(), aki.get(), -1) != 1) {
      return Status::Internal("adding the authority key identifier failed");
    }
  }
  if (X509_sign(cert.get(), signer.native(), EVP_sha256()) <= 0) {
    return Status::Internal("signing the certificate failed");
  }
  return ToDer(cert.get());
}

}  // namespace

Result<Bytes> SelfSignCertificate(const AsymmetricKey& key, const X509Properties& properties,
                                  int64_t now) {
  return BuildCertificate(key, properties, now, key, nullptr);
}

Result<Bytes> IssueCertificate(const AsymmetricKey& key, const X509Properties& properties,
                               int64_t now, const AsymmetricKey& ca_key, ByteSpan ca_der) {
  COFFRE_ASSIGN_OR_RETURN(X509Ptr ca, ParseDer(ca_der));
  return BuildCertificate(key, properties, now, ca_key, ca.get());
}

Result<Bytes> CreateCertificateRequest(const AsymmetricKey& key, const X509Properties& properties) {
  ErrorQueueMark mark;
  COFFRE_ASSIGN_OR_RETURN(NamePtr name, ParseSubject(properties.subject));
  COFFRE_ASSIGN_OR_RETURN(std::vector<X509ExtPtr> extensions, Extensions(properties));
  ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.native()) != 1) {
    return Status::Internal("building the certificate request failed");
  }
  if (!extensions.empty()) {
    STACK_OF(X509_EXTENSION)* stack = sk_X509_EXTENSION_new_null();
    if (stack == nullptr) return Status::Internal("sk_X509_EXTENSION_new_null failed");
    for (auto& ext : extensions) sk_X509_EXTENSION_push(stack, ext.get());
    int added = X509_REQ_add_extensions(req.get(), stack);
    sk_X509_EXTENSION_free(stack);  // the extensions stay owned by `extensions`
    if (added != 1) return Status::Internal("adding request extensions failed");
  }
  if (X509_REQ_sign(req.get(), key.native(), EVP_sha256()) <= 0) {
    return Status::Internal("signing the certificate request failed");
  }
  int len = i2d_X509_REQ(req.get(), nullptr);
  if (len <= 0) return Status::Internal("encoding the certificate request failed");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  i2d_X509_REQ(req.get(), &p);
  return out;
}

Result<CertificateFacts> ReadCertificate(ByteSpan der) {
  ErrorQueueMark mark;
  COFFRE_ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(der));
  CertificateFacts facts;
  COFFRE_ASSIGN_OR_RETURN(facts.not_before, TimeOf(X509_get0_notBefore(cert.get())));
  COFFRE_ASSIGN_OR_RETURN(facts.not_after, TimeOf(X509_get0_notAfter(cert.get())));
  EVP_PKEY* pkey = X509_get0_pubkey(cert.get());
  if (pkey == nullptr) return Invalid("The certificate's public key is not supported.");
  int len = i2d_PUBKEY(pkey, nullptr);
  if (len <= 0) return Invalid("The certificate's public key is not supported.");
  facts.public_key.resize(static_cast<size_t>(len));
  unsigned char* p = facts.public_key.data();
  i2d_PUBKEY(pkey, &p);
  facts.subject = NameText(X509_get_subject_name(cert.get()));
  return facts;
}

Bytes Thumbprint(ByteSpan der) {
  Bytes out(20);
  unsigned int len = 0;
  if (EVP_Digest(der.data(), der.size(), out.data(), &len, EVP_sha1(), nullptr) != 1) return {};
  out.resize(len);
  return out;
}

Result<KeyAndChain> ParsePkcs12(ByteSpan pfx, std::string_view password, size_t max_chain) {
  ErrorQueueMark mark;
  const unsigned char* p = pfx.data();
  Pkcs12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(pfx.size())));
  if (!p12) return Invalid("The certificate content is not a valid PKCS#12 (PFX) file.");
  std::string pass(password);
  EVP_PKEY* pkey = nullptr;
  X509* leaf = nullptr;
  STACK_OF(X509)* ca = nullptr;
  // An empty password may have been applied as none at all: PKCS12_parse tries both.
  int ok = PKCS12_parse(p12.get(), pass.empty() ? nullptr : pass.c_str(), &pkey, &leaf, &ca);
  OPENSSL_cleanse(pass.data(), pass.size());
  X509Ptr leaf_owned(leaf);
  std::vector<X509Ptr> certs;
  if (ca != nullptr) {
    while (sk_X509_num(ca) > 0) certs.emplace_back(sk_X509_shift(ca));
    sk_X509_free(ca);
  }
  if (ok != 1) {
    EVP_PKEY_free(pkey);
    return Invalid("The PKCS#12 file could not be decrypted: the password is wrong or missing.");
  }
  if (pkey == nullptr) return Invalid("The PKCS#12 file holds no private key.");
  AsymmetricKey key = AsymmetricKey::Adopt(pkey, true);
  if (leaf_owned) certs.insert(certs.begin(), std::move(leaf_owned));
  if (certs.empty()) return Invalid("The PKCS#12 file holds no certificate.");
  if (certs.size() > max_chain) return Invalid("The certificate chain is too long.");
  COFFRE_ASSIGN_OR_RETURN(std::vector<Bytes> chain, LeafFirst(key, std::move(certs)));
  return KeyAndChain{std::move(key), std::move(chain)};
}

Result<KeyAndChain> ParsePemBundle(std::string_view pem, size_t max_chain) {
  ErrorQueueMark mark;
  // The key: the first private key block of any of the PEM labels AsymmetricKey reads.
  std::optional<AsymmetricKey> key;
  for (std::string_view label : {"-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----",
                                 "-----BEGIN EC PRIVATE KEY-----"}) {
    size_t begin = pem.find(label);
    if (begin == std::string_view::npos) continue;
    size_t end = pem.find("-----END", begin + label.size());
    if (end == std::string_view::npos) break;
    size_t stop = pem.find("-----", end + 8);
    if (stop == std::string_view::npos) break;
    auto parsed = AsymmetricKey::FromPrivatePem(pem.substr(begin, stop + 5 - begin));
    if (!parsed.ok()) return Invalid("The PEM private key is not valid.");
    key = std::move(parsed).value();
    break;
  }
  if (pem.find("ENCRYPTED PRIVATE KEY") != std::string_view::npos && !key) {
    return Invalid("Encrypted PEM private keys are not supported; import a PKCS#12 file.");
  }
  if (!key) return Invalid("The PEM content holds no private key.");
  COFFRE_ASSIGN_OR_RETURN(std::vector<Bytes> ders, ParseCertificates(AsBytes(pem), max_chain));
  std::vector<X509Ptr> certs;
  for (const Bytes& der : ders) {
    COFFRE_ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(der));
    certs.push_back(std::move(cert));
  }
  COFFRE_ASSIGN_OR_RETURN(std::vector<Bytes> chain, LeafFirst(*key, std::move(certs)));
  return KeyAndChain{std::move(*key), std::move(chain)};
}

Result<std::vector<Bytes>> ParseCertificates(ByteSpan der_or_pem, size_t max_chain) {
  ErrorQueueMark mark;
  std::vector<Bytes> out;
  std::string_view text(reinterpret_cast<const char*>(der_or_pem.data()), der_or_pem.size());
  if (text.find("-----BEGIN CERTIFICATE-----") == std::string_view::npos) {
    COFFRE_ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(der_or_pem));
    out.push_back(ToDer(cert.get()));
    return out;
  }
  if (der_or_pem.size() > static_cast<size_t>(INT_MAX)) return Invalid("The PEM is too large.");
  BioPtr bio(BIO_new_mem_buf(der_or_pem.data(), static_cast<int>(der_or_pem.size())));
  if (!bio) return Status::Internal("BIO_new_mem_buf failed");
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    X509Ptr owned(cert);
    if (out.size() >= max_chain) return Invalid("The certificate chain is too long.");
    out.push_back(ToDer(cert));
  }
  if (out.empty()) return Invalid("The PEM content holds no valid certificate.");
  return out;
}

Result<Bytes> BuildPkcs12(const KeyAndChain& bundle, bool with_key) {
  ErrorQueueMark mark;
  if (bundle.chain.empty()) return Status::Internal("a PFX needs a certificate");
  COFFRE_ASSIGN_OR_RETURN(X509Ptr leaf, ParseDer(bundle.chain.front()));
  STACK_OF(X509)* ca = sk_X509_new_null();
  if (ca == nullptr) return Status::Internal("sk_X509_new_null failed");
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> ca_owned(
      ca, [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); });
  for (size_t i = 1; i < bundle.chain.size(); ++i) {
    COFFRE_ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(bundle.chain[i]));
    if (sk_X509_push(ca, cert.get()) <= 0) return Status::Internal("sk_X509_push failed");
    cert.release();
  }
  // No password and unencrypted bags (-1): readers load it with no password at all; the MAC
  // is computed over the empty password as Key Vault's PFX secrets are.
  Pkcs12Ptr p12(PKCS12_create(nullptr, nullptr, with_key ? bundle.key.native() : nullptr,
                              leaf.get(), ca, -1, -1, 0, 1, 0));
  if (!p12) return Status::Internal("building the PFX failed");
  int len = i2d_PKCS12(p12.get(), nullptr);
  if (len <= 0) return Status::Internal("encoding the PFX failed");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  i2d_PKCS12(p12.get(), &p);
  return out;
}

Result<SecureString> BuildPem(const KeyAndChain& bundle, bool with_key) {
  ErrorQueueMark mark;
  SecureString out;
  if (with_key) {
    out = bundle.key.PrivatePem();
    if (out.empty()) return Status::Internal("the key has no private part");
  }
  for (const Bytes& der : bundle.chain) {
    COFFRE_ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(der));
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
      return Status::Internal("encoding a certificate as PEM failed");
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    out.append(data, static_cast<size_t>(len));
  }
  return out;
}

}  // namespace coffre::crypto
