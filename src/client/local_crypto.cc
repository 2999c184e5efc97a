#include "client/local_crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace coffre::keys::cryptography::_detail {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Deleter>;

bool IsRsa(const JsonWebKey& key) {
  return key.KeyType == KeyVaultKeyType::Rsa || key.KeyType == KeyVaultKeyType::RsaHsm;
}
bool IsEc(const JsonWebKey& key) {
  return key.KeyType == KeyVaultKeyType::Ec || key.KeyType == KeyVaultKeyType::EcHsm;
}

struct CurveInfo {
  const char* group;
  size_t coordinate;
};

std::optional<CurveInfo> Curve(const JsonWebKey& key) {
  if (!key.CurveName.HasValue()) return std::nullopt;
  const KeyCurveName& c = key.CurveName.Value();
  if (c == KeyCurveName::P256) return CurveInfo{"prime256v1", 32};
  if (c == KeyCurveName::P256K) return CurveInfo{"secp256k1", 32};
  if (c == KeyCurveName::P384) return CurveInfo{"secp384r1", 48};
  if (c == KeyCurveName::P521) return CurveInfo{"secp521r1", 66};
  return std::nullopt;
}

Ptr<EVP_PKEY> FromParams(const char* type, OSSL_PARAM_BLD* builder) {
  Ptr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder));
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    ERR_clear_error();
    return nullptr;
  }
  return Ptr<EVP_PKEY>(pkey);
}

Ptr<EVP_PKEY> RsaPublicKey(const JsonWebKey& key) {
  if (key.N.empty() || key.E.empty()) return nullptr;
  Ptr<BIGNUM> n(BN_bin2bn(key.N.data(), static_cast<int>(key.N.size()), nullptr));
  Ptr<BIGNUM> e(BN_bin2bn(key.E.data(), static_cast<int>(key.E.size()), nullptr));
  Ptr<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (!n || !e || !builder ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return nullptr;
  }
  return FromParams("RSA", builder.get());
}

// Left-pads a coordinate to the curve's size (some encoders drop leading zero bytes).
bool AppendCoordinate(std::vector<uint8_t>& out, const std::vector<uint8_t>& c, size_t size) {
  if (c.empty() || c.size() > size) return false;
  out.insert(out.end(), size - c.size(), 0);
  out.insert(out.end(), c.begin(), c.end());
  return true;
}

Ptr<EVP_PKEY> EcPublicKey(const JsonWebKey& key, const CurveInfo& curve) {
  std::vector<uint8_t> point{0x04};
  if (!AppendCoordinate(point, key.X, curve.coordinate) ||
      !AppendCoordinate(point, key.Y, curve.coordinate)) {
    return nullptr;
  }
  Ptr<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return nullptr;
  }
  return FromParams("EC", builder.get());
}

const EVP_MD* HashOf(std::string_view algorithm) {
  if (algorithm == "RS256" || algorithm == "PS256" || algorithm == "ES256" ||
      algorithm == "ES256K") {
    return EVP_sha256();
  }
  if (algorithm == "RS384" || algorithm == "PS384" || algorithm == "ES384") return EVP_sha384();
  if (algorithm == "RS512" || algorithm == "PS512" || algorithm == "ES512") return EVP_sha512();
  return nullptr;
}

const char* CurveForAlgorithm(std::string_view algorithm) {
  if (algorithm == "ES256") return "prime256v1";
  if (algorithm == "ES256K") return "secp256k1";
  if (algorithm == "ES384") return "secp384r1";
  if (algorithm == "ES512") return "secp521r1";
  return nullptr;
}

}  // namespace

std::optional<std::vector<uint8_t>> LocalRsaEncrypt(const JsonWebKey& key,
                                                    std::string_view algorithm,
                                                    const std::vector<uint8_t>& plaintext) {
  if (!IsRsa(key)) return std::nullopt;
  int padding = 0;
  const EVP_MD* oaep_md = nullptr;
  if (algorithm == "RSA1_5") {
    padding = RSA_PKCS1_PADDING;
  } else if (algorithm == "RSA-OAEP") {
    padding = RSA_PKCS1_OAEP_PADDING;
    oaep_md = EVP_sha1();
  } else if (algorithm == "RSA-OAEP-256") {
    padding = RSA_PKCS1_OAEP_PADDING;
    oaep_md = EVP_sha256();
  } else {
    return std::nullopt;
  }
  auto pkey = RsaPublicKey(key);
  if (!pkey) return std::nullopt;
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  size_t size = 0;
  bool ok = ctx && EVP_PKEY_encrypt_init(ctx.get()) > 0 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding) > 0 &&
            (oaep_md == nullptr || (EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), oaep_md) > 0 &&
                                    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), oaep_md) > 0)) &&
            EVP_PKEY_encrypt(ctx.get(), nullptr, &size, plaintext.data(), plaintext.size()) > 0;
  std::vector<uint8_t> out(size);
  ok = ok && EVP_PKEY_encrypt(ctx.get(), out.data(), &size, plaintext.data(), plaintext.size()) > 0;
  if (!ok) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

std::optional<std::vector<uint8_t>> EcdsaRawToDer(const std::vector<uint8_t>& raw) {
  if (raw.empty() || raw.size() % 2 != 0) return std::nullopt;
  size_t half = raw.size() / 2;
  Ptr<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) return std::nullopt;
  std::vector<uint8_t> der(static_cast<size_t>(length));
  uint8_t* p = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &p) != length) return std::nullopt;
  return der;
}

std::optional<bool> LocalVerify(const JsonWebKey& key, std::string_view algorithm,
                                const std::vector<uint8_t>& digest,
                                const std::vector<uint8_t>& signature) {
  const EVP_MD* md = HashOf(algorithm);
  if (md == nullptr || digest.size() != static_cast<size_t>(EVP_MD_get_size(md))) {
    return std::nullopt;
  }
  Ptr<EVP_PKEY> pkey;
  std::vector<uint8_t> der;
  const std::vector<uint8_t>* sig = &signature;
  int padding = 0;
  if (algorithm.front() == 'R' || algorithm.front() == 'P') {
    if (!IsRsa(key)) return std::nullopt;
    pkey = RsaPublicKey(key);
    padding = algorithm.front() == 'R' ? RSA_PKCS1_PADDING : RSA_PKCS1_PSS_PADDING;
  } else {
    auto curve = Curve(key);
    const char* wanted = CurveForAlgorithm(algorithm);
    if (!IsEc(key) || !curve || wanted == nullptr || std::string(curve->group) != wanted) {
      return std::nullopt;
    }
    // Key Vault signatures are r||s with fixed-size halves; anything else cannot be valid.
    if (signature.size() != 2 * curve->coordinate) return false;
    auto converted = EcdsaRawToDer(signature);
    if (!converted) return false;
    der = std::move(*converted);
    sig = &der;
    pkey = EcPublicKey(key, *curve);
  }
  if (!pkey) return std::nullopt;
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  bool ready = ctx && EVP_PKEY_verify_init(ctx.get()) > 0;
  if (ready && padding != 0) {
    ready = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding) > 0 &&
            EVP_PKEY_CTX_set_signature_md(ctx.get(), md) > 0;
    if (ready && padding == RSA_PKCS1_PSS_PADDING) {
      ready = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) > 0 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) > 0;
    }
  }
  if (!ready) {
    ERR_clear_error();
    return std::nullopt;
  }
  int result = EVP_PKEY_verify(ctx.get(), sig->data(), sig->size(), digest.data(), digest.size());
  ERR_clear_error();  // a bad signature leaves errors on the queue
  return result == 1;
}

std::vector<uint8_t> DigestFor(std::string_view algorithm, const std::vector<uint8_t>& data) {
  const EVP_MD* md = HashOf(algorithm);
  if (md == nullptr) {
    throw std::invalid_argument("No digest is defined for signature algorithm " +
                                std::string(algorithm));
  }
  std::vector<uint8_t> out(static_cast<size_t>(EVP_MD_get_size(md)));
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, md, nullptr) != 1) {
    ERR_clear_error();
    throw std::runtime_error("EVP_Digest failed");
  }
  out.resize(size);
  return out;
}

std::vector<uint8_t> RandomIv() {
  std::vector<uint8_t> iv(16);
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return iv;
}

}  // namespace coffre::keys::cryptography::_detail
