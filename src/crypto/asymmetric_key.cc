#include "crypto/asymmetric_key.h"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <climits>

#include "crypto/ossl_util.h"

namespace coffre::crypto {
namespace {

using internal::BioPtr;
using internal::BnPtr;
using internal::EncoderCtxPtr;
using internal::ErrorQueueMark;
using internal::Pkcs8Ptr;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;

// Larger RSA keys only cost CPU for no benefit; smaller ones are refused by callers anyway, but
// anything under 1024 bits is not a key worth parsing.
constexpr int kMinRsaBits = 1024;
constexpr int kMinGeneratedRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;
// Keys arrive from clients (import) and from storage; real PKCS#8/SPKI/PEM keys are far smaller.
constexpr size_t kMaxEncodedKeySize = 64 * 1024;

struct CurveInfo {
  Curve curve;
  std::string_view jwk_name;
  const char* group_name;  // OpenSSL's name
  int nid;
  size_t coordinate_size;
};

constexpr CurveInfo kCurves[] = {
    {Curve::kP256, "P-256", "prime256v1", NID_X9_62_prime256v1, 32},
    {Curve::kP384, "P-384", "secp384r1", NID_secp384r1, 48},
    {Curve::kP521, "P-521", "secp521r1", NID_secp521r1, 66},
    {Curve::kP256K, "P-256K", "secp256k1", NID_secp256k1, 32},
};

const CurveInfo& InfoFor(Curve curve) {
  for (const auto& info : kCurves) {
    if (info.curve == curve) return info;
  }
  return kCurves[0];  // unreachable: every enumerator is in the table
}

// The named curve of an EC key, if it is one we support. Keys with explicit curve parameters
// have no group name and are refused (they are a classic vector for invalid-curve tricks).
std::optional<Curve> CurveOfKey(const EVP_PKEY* pkey) {
  char name[80] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
      1) {
    return std::nullopt;
  }
  int nid = OBJ_sn2nid(name);
  if (nid == NID_undef) nid = EC_curve_nist2nid(name);
  for (const auto& info : kCurves) {
    if (info.nid == nid) return info.curve;
  }
  return std::nullopt;
}

// Accepts only what Key Vault keys can be: RSA, or EC on one of the four curves. For EC, also
// checks that the point is on the curve (and, with a private part, that the pair matches).
Status CheckSupported(EVP_PKEY* pkey, bool has_private) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return Status::BadParameter("unsupported RSA key size");
    }
    return Status::Ok();
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    if (!CurveOfKey(pkey)) return Status::BadParameter("unsupported elliptic curve");
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    if (!ctx) return Status::Internal("unable to check EC key");
    int ok = has_private ? EVP_PKEY_check(ctx.get()) : EVP_PKEY_public_check(ctx.get());
    if (ok != 1) return Status::BadParameter("invalid EC key");
    return Status::Ok();
  }
  return Status::BadParameter("unsupported key type");
}

// Runs a keygen context that the caller has initialized and configured.
Result<AsymmetricKey> Generate(EVP_PKEY_CTX* ctx) {
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_generate(ctx, &pkey) != 1 || pkey == nullptr) {
    EVP_PKEY_free(pkey);
    return Status::Internal("key generation failed");
  }
  return AsymmetricKey::Adopt(pkey, true);
}

// Serializes the private key with an OSSL_ENCODER into a wiping container.
template <typename Container>
Container EncodePrivate(EVP_PKEY* pkey, const char* output_type) {
  ErrorQueueMark mark;
  Container out;
  EncoderCtxPtr ctx(OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, output_type,
                                                  "PrivateKeyInfo", nullptr));
  if (!ctx || OSSL_ENCODER_CTX_get_num_encoders(ctx.get()) == 0) return out;
  unsigned char* data = nullptr;
  size_t len = 0;
  if (OSSL_ENCODER_to_data(ctx.get(), &data, &len) != 1 || data == nullptr) return out;
  out.assign(data, data + len);
  OPENSSL_clear_free(data, len);
  return out;
}

// ---- EC keys' DER, built directly
//
// OpenSSL 3.0's encoders search the providers on every call, which made up 29 % of the CPU of
// creating an EC key. The structures are fixed: the SPKI of RFC 5480, and the ECPrivateKey of
// RFC 5915 inside PKCS#8 with the curve in the algorithm identifier only (parameters omitted,
// public key present), as OpenSSL writes it. The tests compare these bytes with OpenSSL's.

// Appends one DER element (tag, definite length, content). Lengths here stay below 64 KiB.
template <typename Container>
void AppendDer(Container& out, uint8_t tag, ByteSpan content) {
  out.push_back(tag);
  const size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<uint8_t>(n));
  } else if (n <= 0xff) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(n));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(n >> 8));
    out.push_back(static_cast<uint8_t>(n & 0xff));
  }
  out.insert(out.end(), content.begin(), content.end());
}

// SEQUENCE { id-ecPublicKey, namedCurve }.
Bytes EcAlgorithmIdentifier(Curve curve) {
  static constexpr uint8_t kEcPublicKey[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
  static constexpr uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  static constexpr uint8_t kP384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
  static constexpr uint8_t kP521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
  static constexpr uint8_t kP256K[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
  ByteSpan oid = curve == Curve::kP256   ? ByteSpan(kP256)
                 : curve == Curve::kP384 ? ByteSpan(kP384)
                 : curve == Curve::kP521 ? ByteSpan(kP521)
                                         : ByteSpan(kP256K);
  Bytes content(std::begin(kEcPublicKey), std::end(kEcPublicKey));
  content.insert(content.end(), oid.begin(), oid.end());
  Bytes out;
  AppendDer(out, 0x30, content);
  return out;
}

// The uncompressed public point (04 || x || y) of an EC key, or empty.
Bytes EcPublicPoint(const EVP_PKEY* pkey, Curve curve) {
  Bytes point(1 + 2 * CurveCoordinateSize(curve));
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(),
                                      point.size(), &len) != 1 ||
      len != point.size() || point[0] != 0x04) {
    return {};
  }
  return point;
}

// BIT STRING { 0 unused bits, point }.
Bytes BitStringOf(ByteSpan point) {
  Bytes content{0x00};
  content.insert(content.end(), point.begin(), point.end());
  Bytes out;
  AppendDer(out, 0x03, content);
  return out;
}

std::optional<Bytes> EcSpkiDer(const EVP_PKEY* pkey) {
  std::optional<Curve> curve = CurveOfKey(pkey);
  if (!curve) return std::nullopt;
  Bytes point = EcPublicPoint(pkey, *curve);
  if (point.empty()) return std::nullopt;
  Bytes content = EcAlgorithmIdentifier(*curve);
  Bytes bits = BitStringOf(point);
  content.insert(content.end(), bits.begin(), bits.end());
  Bytes out;
  AppendDer(out, 0x30, content);
  return out;
}

std::optional<SecureBytes> EcPkcs8Der(const EVP_PKEY* pkey) {
  std::optional<Curve> curve = CurveOfKey(pkey);
  if (!curve) return std::nullopt;
  Bytes point = EcPublicPoint(pkey, *curve);
  BIGNUM* d = nullptr;
  if (point.empty() || EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) {
    BN_clear_free(d);
    return std::nullopt;
  }
  const size_t size = CurveCoordinateSize(*curve);
  SecureBytes scalar(size);
  const bool fits =
      BN_bn2binpad(d, scalar.data(), static_cast<int>(size)) == static_cast<int>(size);
  BN_clear_free(d);
  if (!fits) return std::nullopt;
  static constexpr uint8_t kVersion1[] = {0x02, 0x01, 0x01};
  static constexpr uint8_t kVersion0[] = {0x02, 0x01, 0x00};
  // ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [1] publicKey BIT STRING }
  SecureBytes ec_content(std::begin(kVersion1), std::end(kVersion1));
  AppendDer(ec_content, 0x04, scalar);
  AppendDer(ec_content, 0xa1, BitStringOf(point));
  SecureBytes ec_private_key;
  AppendDer(ec_private_key, 0x30, ec_content);
  // PrivateKeyInfo ::= SEQUENCE { version 0, algorithm, privateKey OCTET STRING }
  SecureBytes info(std::begin(kVersion0), std::end(kVersion0));
  Bytes algorithm = EcAlgorithmIdentifier(*curve);
  info.insert(info.end(), algorithm.begin(), algorithm.end());
  AppendDer(info, 0x04, ec_private_key);
  SecureBytes out;
  AppendDer(out, 0x30, info);
  return out;
}

// An integer parameter of the key, or null.
BnPtr GetBnParam(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  int ok = EVP_PKEY_get_bn_param(pkey, name, &bn);
  BnPtr owner(bn);
  if (ok != 1) owner.reset();
  return owner;
}

Bytes BnToBytes(const BIGNUM* bn) {
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  if (!out.empty()) BN_bn2bin(bn, out.data());
  return out;
}

}  // namespace

std::optional<Curve> CurveFromName(std::string_view name) {
  for (const auto& info : kCurves) {
    if (info.jwk_name == name) return info.curve;
  }
  return std::nullopt;
}

std::string_view CurveName(Curve curve) { return InfoFor(curve).jwk_name; }

size_t CurveCoordinateSize(Curve curve) { return InfoFor(curve).coordinate_size; }

AsymmetricKey AsymmetricKey::Adopt(evp_pkey_st* pkey, bool has_private) {
  return AsymmetricKey(std::shared_ptr<evp_pkey_st>(pkey, EVP_PKEY_free), has_private);
}

Result<AsymmetricKey> AsymmetricKey::GenerateRsa(int bits, uint32_t public_exponent) {
  if (bits < kMinGeneratedRsaBits || bits > kMaxRsaBits) {
    return Status::BadParameter("unsupported RSA key size");
  }
  if (public_exponent < 3 || public_exponent % 2 == 0) {
    return Status::BadParameter("invalid RSA public exponent");
  }
  ErrorQueueMark mark;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  BnPtr e(BN_new());
  if (!ctx || !e || BN_set_word(e.get(), public_exponent) != 1 ||
      EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1 ||
      EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx.get(), e.get()) != 1) {
    return Status::Internal("RSA key generation setup failed");
  }
  return Generate(ctx.get());
}

Result<AsymmetricKey> AsymmetricKey::GenerateEc(Curve curve) {
  ErrorQueueMark mark;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), InfoFor(curve).group_name) != 1) {
    return Status::Internal("EC key generation setup failed");
  }
  return Generate(ctx.get());
}

Result<AsymmetricKey> AsymmetricKey::FromPrivateDer(ByteSpan pkcs8_der) {
  if (pkcs8_der.empty() || pkcs8_der.size() > kMaxEncodedKeySize) {
    return Status::BadParameter("invalid private key");
  }
  ErrorQueueMark mark;
  const unsigned char* p = pkcs8_der.data();
  Pkcs8Ptr p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(pkcs8_der.size())));
  // Trailing bytes after the structure mean the input is not what the caller thinks it is.
  if (!p8 || p != pkcs8_der.data() + pkcs8_der.size()) {
    return Status::BadParameter("invalid private key");
  }
  PkeyPtr pkey(EVP_PKCS82PKEY(p8.get()));
  if (!pkey) return Status::BadParameter("invalid private key");
  COFFRE_RETURN_IF_ERROR(CheckSupported(pkey.get(), true));
  return Adopt(pkey.release(), true);
}

Result<AsymmetricKey> AsymmetricKey::FromPublicDer(ByteSpan spki_der) {
  if (spki_der.empty() || spki_der.size() > kMaxEncodedKeySize) {
    return Status::BadParameter("invalid public key");
  }
  ErrorQueueMark mark;
  const unsigned char* p = spki_der.data();
  PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!pkey || p != spki_der.data() + spki_der.size()) {
    return Status::BadParameter("invalid public key");
  }
  COFFRE_RETURN_IF_ERROR(CheckSupported(pkey.get(), false));
  return Adopt(pkey.release(), false);
}

Result<AsymmetricKey> AsymmetricKey::FromPrivatePem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxEncodedKeySize) {
    return Status::BadParameter("invalid private key");
  }
  ErrorQueueMark mark;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal("out of memory");
  // Without a callback OpenSSL would prompt on the terminal for an encrypted key; refuse instead.
  auto no_password = [](char*, int, int, void*) -> int { return -1; };
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!pkey) return Status::BadParameter("invalid private key");
  COFFRE_RETURN_IF_ERROR(CheckSupported(pkey.get(), true));
  return Adopt(pkey.release(), true);
}

KeyFamily AsymmetricKey::family() const {
  return EVP_PKEY_is_a(pkey_.get(), "RSA") ? KeyFamily::kRsa : KeyFamily::kEc;
}

int AsymmetricKey::bits() const { return EVP_PKEY_get_bits(pkey_.get()); }

std::optional<Curve> AsymmetricKey::curve() const {
  if (family() != KeyFamily::kEc) return std::nullopt;
  return CurveOfKey(pkey_.get());
}

SecureBytes AsymmetricKey::PrivateDer() const {
  if (!has_private_) return {};
  if (family() == KeyFamily::kEc) {
    ErrorQueueMark mark;
    if (auto der = EcPkcs8Der(pkey_.get())) return *std::move(der);
  }
  return EncodePrivate<SecureBytes>(pkey_.get(), "DER");
}

SecureBytes AsymmetricKey::PrivateDerFromEncoder() const {
  if (!has_private_) return {};
  return EncodePrivate<SecureBytes>(pkey_.get(), "DER");
}

SecureString AsymmetricKey::PrivatePem() const {
  if (!has_private_) return {};
  return EncodePrivate<SecureString>(pkey_.get(), "PEM");
}

Bytes AsymmetricKey::PublicDer() const {
  ErrorQueueMark mark;
  if (family() == KeyFamily::kEc) {
    if (auto der = EcSpkiDer(pkey_.get())) return *std::move(der);
  }
  return PublicDerFromEncoder();
}

Bytes AsymmetricKey::PublicDerFromEncoder() const {
  ErrorQueueMark mark;
  unsigned char* data = nullptr;
  int len = i2d_PUBKEY(pkey_.get(), &data);
  Bytes out;
  if (len > 0 && data != nullptr) out.assign(data, data + len);
  OPENSSL_free(data);
  return out;
}

PublicKeyParams AsymmetricKey::PublicParams() const {
  ErrorQueueMark mark;
  PublicKeyParams params;
  if (family() == KeyFamily::kRsa) {
    params.family = KeyFamily::kRsa;
    BnPtr n = GetBnParam(pkey_.get(), OSSL_PKEY_PARAM_RSA_N);
    BnPtr e = GetBnParam(pkey_.get(), OSSL_PKEY_PARAM_RSA_E);
    // BN_bn2bin is already minimal big-endian: no leading zero bytes (65537 -> 01 00 01).
    if (n) params.n = BnToBytes(n.get());
    if (e) params.e = BnToBytes(e.get());
    return params;
  }
  params.family = KeyFamily::kEc;
  std::optional<Curve> curve = CurveOfKey(pkey_.get());
  if (!curve) return params;
  params.curve = *curve;
  const size_t size = CurveCoordinateSize(*curve);
  BnPtr x = GetBnParam(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  BnPtr y = GetBnParam(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  if (!x || !y) return params;
  // JWK coordinates are fixed-length: left-pad with zeros to the field size.
  Bytes xb(size), yb(size);
  if (BN_bn2binpad(x.get(), xb.data(), static_cast<int>(size)) != static_cast<int>(size) ||
      BN_bn2binpad(y.get(), yb.data(), static_cast<int>(size)) != static_cast<int>(size)) {
    return params;
  }
  params.x = std::move(xb);
  params.y = std::move(yb);
  return params;
}

}  // namespace coffre::crypto
