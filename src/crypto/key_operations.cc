#include "crypto/key_operations.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <climits>
#include <string>
#include <string_view>
#include <utility>

#include "crypto/jwt.h"
#include "crypto/ossl_util.h"
#include "crypto/ready_contexts.h"

namespace coffre::crypto {
namespace {

using internal::BnCtxPtr;
using internal::BnPtr;
using internal::CipherCtxPtr;
using internal::ErrorQueueMark;
using internal::MacCtxPtr;
using internal::MacPtr;
using internal::ParamBldPtr;
using internal::ParamsPtr;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;
using internal::ReadyContext;
using internal::ReadyContexts;
using internal::SecretBnPtr;

constexpr size_t kAesBlockSize = 16;
constexpr size_t kGcmIvSize = 12;
constexpr size_t kGcmTagSize = 16;
constexpr size_t kKeyWrapBlockSize = 8;
constexpr size_t kSha256Size = 32;
// EVP cipher lengths are int; leave room for the block / wrap overhead added to the output.
constexpr size_t kMaxCipherInput = static_cast<size_t>(INT_MAX) - 64;
// Same bounds as AsymmetricKey accepts for parsed keys.
constexpr int kMinRsaBits = 1024;
constexpr int kMaxRsaBits = 16384;

// The one answer for every way a decryption or unwrap can fail after the public size checks:
// saying which check failed (padding, tag, integrity value) would hand out a decryption oracle.
Status DecryptError() { return Status::BadParameter("The ciphertext could not be decrypted."); }

Status RsaOperationFailed() { return Status::Internal("The RSA operation failed."); }
Status EcOperationFailed() { return Status::Internal("The ECDSA operation failed."); }
Status AesOperationFailed() { return Status::Internal("The AES operation failed."); }

const EVP_MD* MdFor(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return EVP_sha256();
    case HashAlgorithm::kSha384:
      return EVP_sha384();
    case HashAlgorithm::kSha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

const char* MdName(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return "SHA256";
    case HashAlgorithm::kSha384:
      return "SHA384";
    case HashAlgorithm::kSha512:
      return "SHA512";
  }
  return "SHA256";
}

std::string_view HashBits(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return "256";
    case HashAlgorithm::kSha384:
      return "384";
    case HashAlgorithm::kSha512:
      return "512";
  }
  return "256";
}

// Key Vault's name for the algorithm, used in error messages.
std::string SignatureAlgName(RsaSignatureScheme scheme, HashAlgorithm hash) {
  return std::string(scheme == RsaSignatureScheme::kPss ? "PS" : "RS") +
         std::string(HashBits(hash));
}

std::string_view PaddingAlgName(RsaPadding padding) {
  switch (padding) {
    case RsaPadding::kPkcs1v15:
      return "RSA1_5";
    case RsaPadding::kOaepSha1:
      return "RSA-OAEP";
    case RsaPadding::kOaepSha256:
      return "RSA-OAEP-256";
  }
  return "RSA";
}

struct CurveOps {
  Curve curve;
  const char* group_name;  // OpenSSL's
  std::string_view alg;    // the JWS algorithm that goes with the curve
  HashAlgorithm hash;
};

constexpr CurveOps kCurveOps[] = {
    {Curve::kP256, "prime256v1", "ES256", HashAlgorithm::kSha256},
    {Curve::kP384, "secp384r1", "ES384", HashAlgorithm::kSha384},
    {Curve::kP521, "secp521r1", "ES512", HashAlgorithm::kSha512},
    {Curve::kP256K, "secp256k1", "ES256K", HashAlgorithm::kSha256},
};

const CurveOps& OpsFor(Curve curve) {
  for (const auto& ops : kCurveOps) {
    if (ops.curve == curve) return ops;
  }
  return kCurveOps[0];  // unreachable: every enumerator is in the table
}

// RSA modulus size in bytes.
size_t RsaSize(const AsymmetricKey& key) {
  int size = EVP_PKEY_get_size(key.native());
  return size > 0 ? static_cast<size_t>(size) : 0;
}

Status RequireRsa(const AsymmetricKey& key, std::string_view alg, bool needs_private) {
  if (key.family() != KeyFamily::kRsa) {
    return Status::BadParameter(std::string(alg) + " needs an RSA key.");
  }
  if (needs_private && !key.has_private()) {
    return Status::BadParameter("The key has no private part.");
  }
  return Status::Ok();
}

Status CheckDigestSize(std::string_view alg, HashAlgorithm hash, ByteSpan digest) {
  if (digest.size() != HashSize(hash)) {
    return Status::BadParameter("The digest for " + std::string(alg) + " must be " +
                                std::to_string(HashSize(hash)) + " bytes.");
  }
  return Status::Ok();
}

PkeyCtxPtr NewPkeyCtx(const AsymmetricKey& key) {
  return PkeyCtxPtr(EVP_PKEY_CTX_new_from_pkey(nullptr, key.native(), nullptr));
}

// What a ready context (crypto/ready_contexts.h) was set up for: operation, scheme or padding,
// digest.
enum ContextPurpose : uint32_t {
  kRsaSignContext = 0x100,
  kRsaVerifyContext = 0x200,
  kRsaDecryptContext = 0x300,
  kEcdsaSignContext = 0x400,
  kEcdsaVerifyContext = 0x500,
};
uint32_t Purpose(ContextPurpose base, int variant, HashAlgorithm hash) {
  return base | (static_cast<uint32_t>(variant) << 4) | static_cast<uint32_t>(hash);
}

// ---- Constant-time helpers for the RSA1_5 implicit rejection below; the same construction as
// OpenSSL's internal constant_time.h (all-ones / all-zeros masks, no data-dependent branches).
unsigned int CtMsb(unsigned int a) { return 0u - (a >> (sizeof(a) * 8 - 1)); }
unsigned int CtLt(unsigned int a, unsigned int b) { return CtMsb(a ^ ((a ^ b) | ((a - b) ^ b))); }
unsigned int CtGe(unsigned int a, unsigned int b) { return ~CtLt(a, b); }
unsigned int CtIsZero(unsigned int a) { return CtMsb(~a & (a - 1)); }
unsigned int CtEq(unsigned int a, unsigned int b) { return CtIsZero(a ^ b); }
unsigned int CtSelect(unsigned int mask, unsigned int a, unsigned int b) {
  return (mask & a) | (~mask & b);
}
uint8_t CtSelect8(unsigned int mask, uint8_t a, uint8_t b) {
  return static_cast<uint8_t>(CtSelect(mask, a, b));
}

// The PRF of the implicit-rejection scheme (draft-irtf-cfrg-rsa-guidance; OpenSSL >= 3.2's
// ossl_rsa_prf): HMAC-SHA256(kdk, be16(i) || label || be16(bits)) for i = 0, 1, ...,
// concatenated and cut to out.size() bytes.
bool ImplicitRejectionPrf(ByteSpan kdk, std::string_view label, std::span<uint8_t> out) {
  MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  MacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  if (!ctx) return false;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  if (EVP_MAC_init(ctx.get(), kdk.data(), kdk.size(), params) != 1) return false;
  const size_t bits = out.size() * 8;
  const uint8_t be_bits[2] = {static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits)};
  std::array<uint8_t, kSha256Size> block{};
  bool ok = true;
  uint16_t iter = 0;
  for (size_t pos = 0; ok && pos < out.size(); pos += kSha256Size, ++iter) {
    const uint8_t be_iter[2] = {static_cast<uint8_t>(iter >> 8), static_cast<uint8_t>(iter)};
    size_t len = 0;
    // A null key restarts HMAC with the key already set.
    ok = (pos == 0 || EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) == 1) &&
         EVP_MAC_update(ctx.get(), be_iter, sizeof(be_iter)) == 1 &&
         EVP_MAC_update(ctx.get(), reinterpret_cast<const uint8_t*>(label.data()), label.size()) ==
             1 &&
         EVP_MAC_update(ctx.get(), be_bits, sizeof(be_bits)) == 1 &&
         EVP_MAC_final(ctx.get(), block.data(), &len, block.size()) == 1 && len == block.size();
    if (ok) {
      const size_t n = std::min(kSha256Size, out.size() - pos);
      std::copy_n(block.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(pos));
    }
  }
  OPENSSL_cleanse(block.data(), block.size());
  return ok;
}

// The key-derivation key of implicit rejection: HMAC-SHA256(SHA256(d as k bytes), ciphertext),
// exactly as OpenSSL >= 3.2 derives it, so the synthetic messages are the same as its.
bool DeriveImplicitRejectionKey(const AsymmetricKey& key, ByteSpan ciphertext,
                                std::span<uint8_t, kSha256Size> kdk) {
  BIGNUM* d_raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.native(), OSSL_PKEY_PARAM_RSA_D, &d_raw) != 1) {
    BN_clear_free(d_raw);
    return false;
  }
  SecretBnPtr d(d_raw);
  SecureBytes d_bytes(ciphertext.size());
  std::array<uint8_t, kSha256Size> d_hash{};
  size_t kdk_len = 0;
  bool ok = BN_bn2binpad(d.get(), d_bytes.data(), static_cast<int>(d_bytes.size())) ==
                static_cast<int>(d_bytes.size()) &&
            EVP_Digest(d_bytes.data(), d_bytes.size(), d_hash.data(), nullptr, EVP_sha256(),
                       nullptr) == 1 &&
            EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, d_hash.data(), d_hash.size(),
                      ciphertext.data(), ciphertext.size(), kdk.data(), kdk.size(),
                      &kdk_len) != nullptr &&
            kdk_len == kdk.size();
  OPENSSL_cleanse(d_hash.data(), d_hash.size());
  return ok;
}

// RSAES-PKCS1-v1_5 decryption with implicit rejection. OpenSSL 3.0 (what we build against)
// reports bad padding as an error, and even a uniform error is the Bleichenbacher oracle: whether
// a chosen ciphertext "decrypts" tells the attacker its padding was valid. OpenSSL 3.2 fixed this
// by returning, for invalid padding, a pseudo-random message derived from the private key and the
// ciphertext (draft-irtf-cfrg-rsa-guidance). We do the same here on top of a raw RSA decryption,
// whatever the OpenSSL version, with the same derivation so the results match OpenSSL >= 3.2.
// The padding checks and the selection between the real and the synthetic message are
// constant-time (masks, no branches on secret data). A caller cannot tell a wrong key or a
// forged ciphertext from a real one: RSA1_5 decryption only fails for public reasons.
Result<SecureBytes> RsaPkcs1DecryptImplicitRejection(const AsymmetricKey& key,
                                                     ByteSpan ciphertext) {
  const size_t num = ciphertext.size();  // == modulus size, checked by the caller
  SecureBytes em(num);
  PkeyCtxPtr ctx = NewPkeyCtx(key);
  size_t em_len = em.size();
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING) != 1) {
    return RsaOperationFailed();
  }
  // Fails only for a ciphertext >= n, which anyone holding the public key can see.
  if (EVP_PKEY_decrypt(ctx.get(), em.data(), &em_len, ciphertext.data(), ciphertext.size()) != 1 ||
      em_len != num) {
    return DecryptError();
  }

  std::array<uint8_t, kSha256Size> kdk{};
  SecureBytes synthetic(num);
  // 128 candidate lengths (16 bits each, masked to the bit length of the maximum): the last one
  // below the maximum is used. That avoids both a biased and a variable-time modular reduction;
  // all 128 being too large (length 0) has probability < 2^-128.
  constexpr size_t kLengthCandidates = 128;
  SecureBytes candidate_lengths(kLengthCandidates * 2);
  bool ok = DeriveImplicitRejectionKey(key, ciphertext, kdk) &&
            ImplicitRejectionPrf(kdk, "message", synthetic) &&
            ImplicitRejectionPrf(kdk, "length", candidate_lengths);
  OPENSSL_cleanse(kdk.data(), kdk.size());
  if (!ok) return RsaOperationFailed();

  // Longest message: modulus size - 2 (00 02) - 8 (minimum padding) - 1 (separator) + 1.
  const unsigned int max_sep_offset = static_cast<unsigned int>(num - 2 - 8);
  unsigned int len_mask = max_sep_offset;
  len_mask |= len_mask >> 1;
  len_mask |= len_mask >> 2;
  len_mask |= len_mask >> 4;
  len_mask |= len_mask >> 8;
  len_mask &= 0xffff;
  unsigned int synthetic_length = 0;
  for (size_t i = 0; i < candidate_lengths.size(); i += 2) {
    unsigned int candidate =
        ((static_cast<unsigned int>(candidate_lengths[i]) << 8) | candidate_lengths[i + 1]) &
        len_mask;
    synthetic_length = CtSelect(CtLt(candidate, max_sep_offset), candidate, synthetic_length);
  }
  const unsigned int synth_msg_index = static_cast<unsigned int>(num) - synthetic_length;

  // EM = 00 || 02 || PS (>= 8 non-zero bytes) || 00 || M
  unsigned int good = CtIsZero(em[0]);
  good &= CtEq(em[1], 2);
  unsigned int found_zero_byte = 0;
  unsigned int zero_index = 0;
  for (size_t i = 2; i < num; ++i) {
    unsigned int equals0 = CtIsZero(em[i]);
    zero_index = CtSelect(~found_zero_byte & equals0, static_cast<unsigned int>(i), zero_index);
    found_zero_byte |= equals0;
  }
  // Without a separator zero_index stays 0 and this fails too.
  good &= CtGe(zero_index, 2 + 8);
  const unsigned int msg_index = CtSelect(good, zero_index + 1, synth_msg_index);

  // The length is not secret any more: it is either the real or a plausible synthetic one. Both
  // buffers are read at every position so the cache access pattern does not depend on `good`.
  SecureBytes out(num - msg_index);
  for (size_t i = msg_index, j = 0; i < num; ++i, ++j) {
    out[j] = CtSelect8(good, em[i], synthetic[i]);
  }
  return out;
}

// Runs an AES key wrap cipher (RFC 3394 or 5649) in one pass; OpenSSL checks the integrity value
// on unwrap and fails the update.
template <typename Out>
Result<Out> RunKeyWrap(const EVP_CIPHER* cipher, ByteSpan kek, ByteSpan in, bool wrap) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return AesOperationFailed();
  // Wrap modes are refused unless asked for explicitly (they are not generic ciphers).
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, kek.data(), nullptr, wrap ? 1 : 0) != 1) {
    return AesOperationFailed();
  }
  // Output is at most the input rounded up to 8 bytes plus the 8-byte integrity block.
  Out out(in.size() + 2 * kKeyWrapBlockSize);
  int len = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 ||
      len <= 0) {
    if (wrap) return AesOperationFailed();
    return DecryptError();
  }
  size_t total = static_cast<size_t>(len);
  int final_len = 0;
  if (EVP_CipherFinal_ex(ctx.get(), out.data() + total, &final_len) != 1) {
    if (wrap) return AesOperationFailed();
    return DecryptError();
  }
  total += static_cast<size_t>(final_len);
  out.resize(total);
  return out;
}

const EVP_CIPHER* AesCipher(size_t key_size, const EVP_CIPHER* (*c128)(),
                            const EVP_CIPHER* (*c192)(), const EVP_CIPHER* (*c256)()) {
  switch (key_size) {
    case 16:
      return c128();
    case 24:
      return c192();
    case 32:
      return c256();
    default:
      return nullptr;
  }
}

Status AesKeySizeError() { return Status::BadParameter("The AES key must be 16, 24 or 32 bytes."); }
Status TooLong() { return Status::BadParameter("The value is too long."); }

// A big-endian unsigned integer without its leading zero bytes.
ByteSpan StripLeadingZeros(ByteSpan value) {
  size_t i = 0;
  while (i < value.size() && value[i] == 0) ++i;
  return value.subspan(i);
}

// A BIGNUM in the secure heap, so that copies made by OSSL_PARAM_BLD go there too (and are wiped
// by OSSL_PARAM_free).
SecretBnPtr SecretBn(ByteSpan value) {
  SecretBnPtr bn(BN_secure_new());
  if (bn && BN_bin2bn(value.data(), static_cast<int>(value.size()), bn.get()) == nullptr) {
    bn.reset();
  }
  return bn;
}

Status RsaInconsistent() {
  return Status::BadParameter("The RSA key is invalid: its parameters are inconsistent.");
}

// Recovers p and q from n, e and d (NIST SP 800-56B rev. 2, appendix C.2): with k = d*e - 1 =
// 2^s * t, for a random g some g^(t*2^i) is a non-trivial square root of 1 mod n, and its gcd
// with n is a factor. A key that only has n, e and d otherwise cannot be stored as PKCS#8 (the
// RSAPrivateKey structure requires the CRT values) and would not get OpenSSL's pairwise check.
bool RecoverPrimeFactors(const BIGNUM* n, const BIGNUM* e, const BIGNUM* d, SecretBnPtr& p_out,
                         SecretBnPtr& q_out) {
  BnCtxPtr ctx(BN_CTX_secure_new());
  SecretBnPtr k(BN_secure_new()), t(BN_secure_new()), g(BN_new()), y(BN_secure_new()),
      x(BN_secure_new()), n_minus_1(BN_new()), n_minus_3(BN_new()), p(BN_secure_new()),
      q(BN_secure_new()), rem(BN_new());
  if (!ctx || !k || !t || !g || !y || !x || !n_minus_1 || !n_minus_3 || !p || !q || !rem) {
    return false;
  }
  if (BN_mul(k.get(), d, e, ctx.get()) != 1 || BN_sub_word(k.get(), 1) != 1 ||
      BN_is_zero(k.get()) || BN_is_odd(k.get()) || BN_copy(t.get(), k.get()) == nullptr) {
    return false;
  }
  int s = 0;
  while (!BN_is_odd(t.get())) {
    if (BN_rshift1(t.get(), t.get()) != 1) return false;
    ++s;
  }
  if (BN_copy(n_minus_1.get(), n) == nullptr || BN_sub_word(n_minus_1.get(), 1) != 1 ||
      BN_copy(n_minus_3.get(), n) == nullptr || BN_sub_word(n_minus_3.get(), 3) != 1) {
    return false;
  }
  // Each try succeeds with probability >= 1/2 for a valid key, so 100 tries are plenty. A g
  // with g^k != 1 proves d wrong at once: no need to spend 100 modular exponentiations on it.
  for (int attempt = 0; attempt < 100; ++attempt) {
    // g uniform in [2, n - 2].
    if (BN_priv_rand_range(g.get(), n_minus_3.get()) != 1 || BN_add_word(g.get(), 2) != 1 ||
        BN_mod_exp_mont_consttime(y.get(), g.get(), t.get(), n, ctx.get(), nullptr) != 1) {
      return false;
    }
    if (BN_is_one(y.get()) || BN_cmp(y.get(), n_minus_1.get()) == 0) continue;
    bool reached_minus_1 = false;
    for (int i = 0; i < s && !reached_minus_1; ++i) {
      if (BN_mod_sqr(x.get(), y.get(), n, ctx.get()) != 1) return false;
      if (BN_is_one(x.get())) {
        // y is a non-trivial square root of 1: gcd(y - 1, n) is a prime factor.
        if (BN_sub_word(y.get(), 1) != 1 || BN_gcd(p.get(), y.get(), n, ctx.get()) != 1 ||
            BN_div(q.get(), rem.get(), n, p.get(), ctx.get()) != 1 || !BN_is_zero(rem.get()) ||
            BN_is_one(p.get()) || BN_is_one(q.get())) {
          return false;
        }
        // OpenSSL's own keys have p > q; keep that convention.
        if (BN_cmp(p.get(), q.get()) < 0) std::swap(p, q);
        p_out = std::move(p);
        q_out = std::move(q);
        return true;
      }
      reached_minus_1 = BN_cmp(x.get(), n_minus_1.get()) == 0;
      std::swap(x, y);
    }
    if (!reached_minus_1) return false;  // g^k != 1 (mod n): d * e != 1 mod lambda(n)
  }
  return false;
}

// dp = d mod (p-1), dq = d mod (q-1), qi = q^-1 mod p.
bool ComputeCrt(const BIGNUM* d, const BIGNUM* p, const BIGNUM* q, SecretBnPtr& dp, SecretBnPtr& dq,
                SecretBnPtr& qi) {
  BnCtxPtr ctx(BN_CTX_secure_new());
  SecretBnPtr p1(BN_secure_new()), q1(BN_secure_new());
  dp.reset(BN_secure_new());
  dq.reset(BN_secure_new());
  qi.reset(BN_secure_new());
  if (!ctx || !p1 || !q1 || !dp || !dq || !qi) return false;
  return BN_copy(p1.get(), p) != nullptr && BN_sub_word(p1.get(), 1) == 1 &&
         BN_copy(q1.get(), q) != nullptr && BN_sub_word(q1.get(), 1) == 1 &&
         BN_mod(dp.get(), d, p1.get(), ctx.get()) == 1 &&
         BN_mod(dq.get(), d, q1.get(), ctx.get()) == 1 &&
         BN_mod_inverse(qi.get(), q, p, ctx.get()) != nullptr;
}

}  // namespace

size_t HashSize(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return 32;
    case HashAlgorithm::kSha384:
      return 48;
    case HashAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

// ---- RSA

size_t RsaMaxPlaintextSize(const AsymmetricKey& key, RsaPadding padding) {
  if (key.family() != KeyFamily::kRsa) return 0;
  const size_t k = RsaSize(key);
  size_t overhead = 11;  // PKCS#1 v1.5: 00 02, >= 8 padding bytes, 00
  // OAEP: 2 * hash length + 2 (RFC 8017 §7.1.1).
  if (padding == RsaPadding::kOaepSha1) overhead = 2 * 20 + 2;
  if (padding == RsaPadding::kOaepSha256) overhead = 2 * 32 + 2;
  return k > overhead ? k - overhead : 0;
}

Result<Bytes> RsaEncrypt(const AsymmetricKey& key, RsaPadding padding, ByteSpan plaintext) {
  const std::string_view alg = PaddingAlgName(padding);
  COFFRE_RETURN_IF_ERROR(RequireRsa(key, alg, false));
  const size_t max = RsaMaxPlaintextSize(key, padding);
  if (plaintext.size() > max) {
    return Status::BadParameter("The value is too long for " + std::string(alg) + " with a " +
                                std::to_string(key.bits()) + "-bit key (at most " +
                                std::to_string(max) + " bytes).");
  }
  ErrorQueueMark mark;
  PkeyCtxPtr ctx = NewPkeyCtx(key);
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1) return RsaOperationFailed();
  if (padding == RsaPadding::kPkcs1v15) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
      return RsaOperationFailed();
    }
  } else {
    const EVP_MD* md = padding == RsaPadding::kOaepSha1 ? EVP_sha1() : EVP_sha256();
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1) {
      return RsaOperationFailed();
    }
  }
  Bytes out(RsaSize(key));
  size_t out_len = out.size();
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &out_len, plaintext.data(), plaintext.size()) != 1) {
    return RsaOperationFailed();
  }
  out.resize(out_len);
  return out;
}

Result<SecureBytes> RsaDecrypt(const AsymmetricKey& key, RsaPadding padding, ByteSpan ciphertext) {
  const std::string_view alg = PaddingAlgName(padding);
  COFFRE_RETURN_IF_ERROR(RequireRsa(key, alg, true));
  const size_t k = RsaSize(key);
  if (ciphertext.size() != k) {
    return Status::BadParameter("The ciphertext for " + std::string(alg) + " with a " +
                                std::to_string(key.bits()) + "-bit key must be " +
                                std::to_string(k) + " bytes.");
  }
  ErrorQueueMark mark;
  if (padding == RsaPadding::kPkcs1v15) return RsaPkcs1DecryptImplicitRejection(key, ciphertext);

  // OpenSSL's OAEP decoding is constant-time and clears its error in constant time; all we add
  // is the single neutral error.
  // A failed decryption leaves the context as it was (the padding check has no state to carry
  // over), so it stays ready: success and failure cost the same next time.
  EVP_PKEY_CTX* ctx = ReadyContext(
      key, Purpose(kRsaDecryptContext, static_cast<int>(padding), HashAlgorithm::kSha256), [&] {
        const EVP_MD* md = padding == RsaPadding::kOaepSha1 ? EVP_sha1() : EVP_sha256();
        PkeyCtxPtr made = NewPkeyCtx(key);
        if (!made || EVP_PKEY_decrypt_init(made.get()) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(made.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_oaep_md(made.get(), md) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(made.get(), md) != 1) {
          made.reset();
        }
        return made;
      });
  if (ctx == nullptr) return RsaOperationFailed();
  SecureBytes out(k);
  size_t out_len = out.size();
  if (EVP_PKEY_decrypt(ctx, out.data(), &out_len, ciphertext.data(), ciphertext.size()) != 1) {
    return DecryptError();
  }
  out.resize(out_len);
  return out;
}

namespace {

// A context for a signature over a precomputed digest. With the signature md set, OpenSSL
// treats the input as that hash's output (checking its length), builds the DigestInfo for
// PKCS#1 v1.5 and encodes PSS; it never hashes the input again.
PkeyCtxPtr RsaSignatureCtx(const AsymmetricKey& key, RsaSignatureScheme scheme, HashAlgorithm hash,
                           bool sign) {
  PkeyCtxPtr ctx = NewPkeyCtx(key);
  if (!ctx) return ctx;
  const EVP_MD* md = MdFor(hash);
  int ok = sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get());
  if (ok == 1 && scheme == RsaSignatureScheme::kPss) {
    // Salt length = hash length on both sides: Key Vault's PS256/384/512 definition. Verifying
    // with the same fixed value (not "auto") refuses other salt lengths.
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) == 1;
  } else if (ok == 1) {
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1;
  }
  if (ok != 1) ctx.reset();
  return ctx;
}

// Whether the modulus leaves room for the encoded digest (RFC 8017 §9.1.1 and §9.2).
Status CheckRsaRoomForSignature(const AsymmetricKey& key, RsaSignatureScheme scheme,
                                HashAlgorithm hash) {
  const size_t h = HashSize(hash);
  bool fits;
  if (scheme == RsaSignatureScheme::kPss) {
    // emLen = ceil((modBits - 1) / 8) >= hLen + sLen + 2, with sLen = hLen.
    const size_t em_len = (static_cast<size_t>(key.bits()) - 1 + 7) / 8;
    fits = em_len >= 2 * h + 2;
  } else {
    // DigestInfo for SHA-2 = 19-byte prefix + digest; needs 11 bytes of padding.
    fits = RsaSize(key) >= 19 + h + 11;
  }
  if (!fits) {
    return Status::BadParameter("A " + std::to_string(key.bits()) + "-bit key is too small for " +
                                SignatureAlgName(scheme, hash) + ".");
  }
  return Status::Ok();
}

}  // namespace

Result<Bytes> RsaSignDigest(const AsymmetricKey& key, RsaSignatureScheme scheme, HashAlgorithm hash,
                            ByteSpan digest) {
  const std::string alg = SignatureAlgName(scheme, hash);
  COFFRE_RETURN_IF_ERROR(RequireRsa(key, alg, true));
  COFFRE_RETURN_IF_ERROR(CheckDigestSize(alg, hash, digest));
  COFFRE_RETURN_IF_ERROR(CheckRsaRoomForSignature(key, scheme, hash));
  ErrorQueueMark mark;
  const uint32_t purpose = Purpose(kRsaSignContext, static_cast<int>(scheme), hash);
  EVP_PKEY_CTX* ctx =
      ReadyContext(key, purpose, [&] { return RsaSignatureCtx(key, scheme, hash, true); });
  if (ctx == nullptr) return RsaOperationFailed();
  Bytes signature(RsaSize(key));
  size_t len = signature.size();
  if (EVP_PKEY_sign(ctx, signature.data(), &len, digest.data(), digest.size()) != 1) {
    ReadyContexts::ForThisThread().Drop(key, purpose);
    return RsaOperationFailed();
  }
  signature.resize(len);
  return signature;
}

Result<bool> RsaVerifyDigest(const AsymmetricKey& key, RsaSignatureScheme scheme,
                             HashAlgorithm hash, ByteSpan digest, ByteSpan signature) {
  const std::string alg = SignatureAlgName(scheme, hash);
  COFFRE_RETURN_IF_ERROR(RequireRsa(key, alg, false));
  COFFRE_RETURN_IF_ERROR(CheckDigestSize(alg, hash, digest));
  // A signature of the wrong length is simply not a valid signature.
  if (signature.size() != RsaSize(key)) return false;
  ErrorQueueMark mark;
  EVP_PKEY_CTX* ctx = ReadyContext(key, Purpose(kRsaVerifyContext, static_cast<int>(scheme), hash),
                                   [&] { return RsaSignatureCtx(key, scheme, hash, false); });
  if (ctx == nullptr) return RsaOperationFailed();
  // 0 is a mismatch; negative values are malformed signatures (e.g. >= n): also a mismatch.
  return EVP_PKEY_verify(ctx, signature.data(), signature.size(), digest.data(), digest.size()) ==
         1;
}

namespace {

// PKCS#1 v1.5 signature padding (block type 1) over the caller's bytes, no DigestInfo: no
// signature md on the context.
PkeyCtxPtr RsaRawCtx(const AsymmetricKey& key, bool sign) {
  PkeyCtxPtr ctx = NewPkeyCtx(key);
  if (!ctx) return ctx;
  int ok = sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get());
  if (ok != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) ctx.reset();
  return ctx;
}

}  // namespace

Result<Bytes> RsaSignRaw(const AsymmetricKey& key, ByteSpan data) {
  COFFRE_RETURN_IF_ERROR(RequireRsa(key, "RSNULL", true));
  const size_t k = RsaSize(key);
  if (data.empty()) return Status::BadParameter("The value for RSNULL must not be empty.");
  if (data.size() + 11 > k) {
    return Status::BadParameter("The value is too long for RSNULL with a " +
                                std::to_string(key.bits()) + "-bit key (at most " +
                                std::to_string(k - 11) + " bytes).");
  }
  ErrorQueueMark mark;
  PkeyCtxPtr ctx = RsaRawCtx(key, true);
  if (!ctx) return RsaOperationFailed();
  Bytes signature(k);
  size_t len = signature.size();
  if (EVP_PKEY_sign(ctx.get(), signature.data(), &len, data.data(), data.size()) != 1) {
    return RsaOperationFailed();
  }
  signature.resize(len);
  return signature;
}

Result<bool> RsaVerifyRaw(const AsymmetricKey& key, ByteSpan data, ByteSpan signature) {
  COFFRE_RETURN_IF_ERROR(RequireRsa(key, "RSNULL", false));
  const size_t k = RsaSize(key);
  if (data.empty()) return Status::BadParameter("The value for RSNULL must not be empty.");
  if (data.size() + 11 > k) {
    return Status::BadParameter("The value is too long for RSNULL with a " +
                                std::to_string(key.bits()) + "-bit key (at most " +
                                std::to_string(k - 11) + " bytes).");
  }
  if (signature.size() != k) return false;
  ErrorQueueMark mark;
  PkeyCtxPtr ctx = RsaRawCtx(key, false);
  if (!ctx) return RsaOperationFailed();
  return EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), data.data(), data.size()) ==
         1;
}

// ---- ECDSA

namespace {

// The curve's operations, or an error for a non-EC key / unsupported curve / wrong digest size.
Result<const CurveOps*> EcdsaSetup(const AsymmetricKey& key, ByteSpan digest, bool needs_private) {
  if (key.family() != KeyFamily::kEc) return Status::BadParameter("ECDSA needs an EC key.");
  if (needs_private && !key.has_private()) {
    return Status::BadParameter("The key has no private part.");
  }
  std::optional<Curve> curve = key.curve();
  if (!curve) return Status::BadParameter("The key's elliptic curve is not supported.");
  const CurveOps& ops = OpsFor(*curve);
  COFFRE_RETURN_IF_ERROR(CheckDigestSize(ops.alg, ops.hash, digest));
  return &ops;
}

PkeyCtxPtr EcdsaCtx(const AsymmetricKey& key, HashAlgorithm hash, bool sign) {
  PkeyCtxPtr ctx = NewPkeyCtx(key);
  if (!ctx) return ctx;
  int ok = sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get());
  // The md only makes OpenSSL check the digest length; ECDSA signs the given bytes as they are.
  if (ok != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), MdFor(hash)) != 1) ctx.reset();
  return ctx;
}

}  // namespace

Result<Bytes> EcdsaSignDigest(const AsymmetricKey& key, ByteSpan digest) {
  COFFRE_ASSIGN_OR_RETURN(const CurveOps* ops, EcdsaSetup(key, digest, true));
  ErrorQueueMark mark;
  const uint32_t purpose = Purpose(kEcdsaSignContext, 0, ops->hash);
  EVP_PKEY_CTX* ctx = ReadyContext(key, purpose, [&] { return EcdsaCtx(key, ops->hash, true); });
  size_t len = 0;
  if (ctx == nullptr || EVP_PKEY_sign(ctx, nullptr, &len, digest.data(), digest.size()) != 1) {
    if (ctx != nullptr) ReadyContexts::ForThisThread().Drop(key, purpose);
    return EcOperationFailed();
  }
  Bytes der(len);
  if (EVP_PKEY_sign(ctx, der.data(), &len, digest.data(), digest.size()) != 1) {
    ReadyContexts::ForThisThread().Drop(key, purpose);
    return EcOperationFailed();
  }
  der.resize(len);
  Result<Bytes> raw = EcdsaDerToRaw(der, CurveCoordinateSize(ops->curve));
  if (!raw.ok()) return EcOperationFailed();
  return raw;
}

Result<bool> EcdsaVerifyDigest(const AsymmetricKey& key, ByteSpan digest, ByteSpan signature) {
  COFFRE_ASSIGN_OR_RETURN(const CurveOps* ops, EcdsaSetup(key, digest, false));
  // Raw r||s has a fixed length; anything else cannot be a valid signature.
  if (signature.size() != 2 * CurveCoordinateSize(ops->curve)) return false;
  Result<Bytes> der = EcdsaRawToDer(signature);
  if (!der.ok()) return false;
  ErrorQueueMark mark;
  EVP_PKEY_CTX* ctx = ReadyContext(key, Purpose(kEcdsaVerifyContext, 0, ops->hash),
                                   [&] { return EcdsaCtx(key, ops->hash, false); });
  if (ctx == nullptr) return EcOperationFailed();
  return EVP_PKEY_verify(ctx, der->data(), der->size(), digest.data(), digest.size()) == 1;
}

// ---- AES

Result<AesGcmSealed> AesGcmEncrypt(ByteSpan key, ByteSpan iv, ByteSpan plaintext, ByteSpan aad) {
  const EVP_CIPHER* cipher =
      AesCipher(key.size(), EVP_aes_128_gcm, EVP_aes_192_gcm, EVP_aes_256_gcm);
  if (cipher == nullptr) return AesKeySizeError();
  if (iv.size() != kGcmIvSize) return Status::BadParameter("The IV for AES-GCM must be 12 bytes.");
  if (plaintext.size() > kMaxCipherInput || aad.size() > kMaxCipherInput) return TooLong();
  ErrorQueueMark mark;
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key.data(), iv.data()) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                         static_cast<int>(aad.size())) != 1)) {
    return AesOperationFailed();
  }
  AesGcmSealed sealed;
  sealed.ciphertext.resize(plaintext.size());
  size_t total = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), sealed.ciphertext.data(), &len, plaintext.data(),
                          static_cast<int>(plaintext.size())) != 1) {
      return AesOperationFailed();
    }
    total = static_cast<size_t>(len);
  }
  uint8_t unused[kAesBlockSize];
  if (EVP_EncryptFinal_ex(ctx.get(), unused, &len) != 1 ||
      total + static_cast<size_t>(len) != plaintext.size()) {
    return AesOperationFailed();
  }
  sealed.tag.resize(kGcmTagSize);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize),
                          sealed.tag.data()) != 1) {
    return AesOperationFailed();
  }
  return sealed;
}

Result<SecureBytes> AesGcmDecrypt(ByteSpan key, ByteSpan iv, ByteSpan ciphertext, ByteSpan aad,
                                  ByteSpan tag) {
  const EVP_CIPHER* cipher =
      AesCipher(key.size(), EVP_aes_128_gcm, EVP_aes_192_gcm, EVP_aes_256_gcm);
  if (cipher == nullptr) return AesKeySizeError();
  if (iv.size() != kGcmIvSize) return Status::BadParameter("The IV for AES-GCM must be 12 bytes.");
  if (tag.size() != kGcmTagSize) {
    return Status::BadParameter("The authentication tag for AES-GCM must be 16 bytes.");
  }
  if (ciphertext.size() > kMaxCipherInput || aad.size() > kMaxCipherInput) return TooLong();
  ErrorQueueMark mark;
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, key.data(), iv.data()) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize),
                          const_cast<uint8_t*>(tag.data())) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                         static_cast<int>(aad.size())) != 1)) {
    return AesOperationFailed();
  }
  // Unauthenticated plaintext lands here first; SecureBytes wipes it if the tag is wrong.
  SecureBytes plaintext(ciphertext.size());
  size_t total = 0;
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx.get(), plaintext.data(), &len, ciphertext.data(),
                          static_cast<int>(ciphertext.size())) != 1) {
      return DecryptError();
    }
    total = static_cast<size_t>(len);
  }
  uint8_t unused[kAesBlockSize];
  if (EVP_DecryptFinal_ex(ctx.get(), unused, &len) != 1 ||
      total + static_cast<size_t>(len) != ciphertext.size()) {
    return DecryptError();
  }
  return plaintext;
}

namespace {

// One CBC pass; OpenSSL does the PKCS#7 padding and its removal when `pkcs7_padding` is set.
template <typename Out>
Result<Out> RunCbc(ByteSpan key, ByteSpan iv, ByteSpan in, bool pkcs7_padding, bool encrypt) {
  const EVP_CIPHER* cipher =
      AesCipher(key.size(), EVP_aes_128_cbc, EVP_aes_192_cbc, EVP_aes_256_cbc);
  if (cipher == nullptr) return AesKeySizeError();
  if (iv.size() != kAesBlockSize) {
    return Status::BadParameter("The IV for AES-CBC must be 16 bytes.");
  }
  if (in.size() > kMaxCipherInput) return TooLong();
  if (encrypt && !pkcs7_padding && in.size() % kAesBlockSize != 0) {
    return Status::BadParameter(
        "The value for AES-CBC without padding must be a multiple of 16 bytes.");
  }
  if (!encrypt && (in.size() % kAesBlockSize != 0 || (pkcs7_padding && in.empty()))) {
    return Status::BadParameter(pkcs7_padding
                                    ? "The ciphertext for AES-CBC with padding must be a "
                                      "non-empty multiple of 16 bytes."
                                    : "The ciphertext for AES-CBC must be a multiple of 16 bytes.");
  }
  ErrorQueueMark mark;
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx ||
      EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), iv.data(), encrypt ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), pkcs7_padding ? 1 : 0) != 1) {
    return AesOperationFailed();
  }
  Out out(in.size() + kAesBlockSize);
  int len = 0;
  size_t total = 0;
  if (!in.empty()) {
    if (EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) !=
        1) {
      return AesOperationFailed();
    }
    total = static_cast<size_t>(len);
  }
  // With padding, decryption fails here for a bad padding. CBC has no integrity: whether a
  // ciphertext decrypts is inherently a padding oracle for whoever may call decrypt (A*CBCPAD is
  // Key Vault's definition), so the one thing we can do is not say more than "it failed".
  if (EVP_CipherFinal_ex(ctx.get(), out.data() + total, &len) != 1) {
    if (encrypt) return AesOperationFailed();
    return DecryptError();
  }
  total += static_cast<size_t>(len);
  out.resize(total);
  return out;
}

}  // namespace

Result<Bytes> AesCbcEncrypt(ByteSpan key, ByteSpan iv, ByteSpan plaintext, bool pkcs7_padding) {
  return RunCbc<Bytes>(key, iv, plaintext, pkcs7_padding, true);
}

Result<SecureBytes> AesCbcDecrypt(ByteSpan key, ByteSpan iv, ByteSpan ciphertext,
                                  bool pkcs7_padding) {
  return RunCbc<SecureBytes>(key, iv, ciphertext, pkcs7_padding, false);
}

Result<Bytes> AesKeyWrap(ByteSpan kek, ByteSpan key_data) {
  const EVP_CIPHER* cipher =
      AesCipher(kek.size(), EVP_aes_128_wrap, EVP_aes_192_wrap, EVP_aes_256_wrap);
  if (cipher == nullptr) return AesKeySizeError();
  if (key_data.size() < 2 * kKeyWrapBlockSize || key_data.size() % kKeyWrapBlockSize != 0) {
    return Status::BadParameter(
        "The key to wrap with AES key wrap must be a multiple of 8 bytes and at least 16 "
        "bytes.");
  }
  if (key_data.size() > kMaxCipherInput) return TooLong();
  ErrorQueueMark mark;
  return RunKeyWrap<Bytes>(cipher, kek, key_data, true);
}

Result<SecureBytes> AesKeyUnwrap(ByteSpan kek, ByteSpan wrapped) {
  const EVP_CIPHER* cipher =
      AesCipher(kek.size(), EVP_aes_128_wrap, EVP_aes_192_wrap, EVP_aes_256_wrap);
  if (cipher == nullptr) return AesKeySizeError();
  if (wrapped.size() < 3 * kKeyWrapBlockSize || wrapped.size() % kKeyWrapBlockSize != 0) {
    return Status::BadParameter(
        "The wrapped key for AES key wrap must be a multiple of 8 bytes and at least 24 bytes.");
  }
  if (wrapped.size() > kMaxCipherInput) return TooLong();
  ErrorQueueMark mark;
  return RunKeyWrap<SecureBytes>(cipher, kek, wrapped, false);
}

Result<Bytes> AesKeyWrapWithPadding(ByteSpan kek, ByteSpan key_data) {
  const EVP_CIPHER* cipher =
      AesCipher(kek.size(), EVP_aes_128_wrap_pad, EVP_aes_192_wrap_pad, EVP_aes_256_wrap_pad);
  if (cipher == nullptr) return AesKeySizeError();
  if (key_data.empty()) {
    return Status::BadParameter(
        "The key to wrap with AES key wrap with padding must not be empty.");
  }
  if (key_data.size() > kMaxCipherInput) return TooLong();
  ErrorQueueMark mark;
  return RunKeyWrap<Bytes>(cipher, kek, key_data, true);
}

Result<SecureBytes> AesKeyUnwrapWithPadding(ByteSpan kek, ByteSpan wrapped) {
  const EVP_CIPHER* cipher =
      AesCipher(kek.size(), EVP_aes_128_wrap_pad, EVP_aes_192_wrap_pad, EVP_aes_256_wrap_pad);
  if (cipher == nullptr) return AesKeySizeError();
  if (wrapped.size() < 2 * kKeyWrapBlockSize || wrapped.size() % kKeyWrapBlockSize != 0) {
    return Status::BadParameter(
        "The wrapped key for AES key wrap with padding must be a multiple of 8 bytes and at "
        "least 16 bytes.");
  }
  if (wrapped.size() > kMaxCipherInput) return TooLong();
  ErrorQueueMark mark;
  return RunKeyWrap<SecureBytes>(cipher, kek, wrapped, false);
}

// ---- HMAC

Result<Bytes> Hmac(HashAlgorithm hash, ByteSpan key, ByteSpan data) {
  if (key.empty()) return Status::BadParameter("The HMAC key must not be empty.");
  ErrorQueueMark mark;
  Bytes mac(HashSize(hash));
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, MdName(hash), nullptr, key.data(), key.size(),
                data.data(), data.size(), mac.data(), mac.size(), &len) == nullptr ||
      len != mac.size()) {
    return Status::Internal("The HMAC operation failed.");
  }
  return mac;
}

// ---- Import

Result<AsymmetricKey> RsaKeyFromComponents(const RsaPrivateComponents& c) {
  const ByteSpan n_bytes = StripLeadingZeros(c.n);
  const ByteSpan e_bytes = StripLeadingZeros(c.e);
  const ByteSpan d_bytes = StripLeadingZeros(c.d);
  if (n_bytes.empty() || e_bytes.empty() || d_bytes.empty()) {
    return Status::BadParameter("The RSA key needs n, e and d.");
  }
  const bool any_crt =
      !c.p.empty() || !c.q.empty() || !c.dp.empty() || !c.dq.empty() || !c.qi.empty();
  const bool all_crt =
      !c.p.empty() && !c.q.empty() && !c.dp.empty() && !c.dq.empty() && !c.qi.empty();
  if (any_crt && !all_crt) {
    return Status::BadParameter("The RSA key must have all of p, q, dp, dq and qi, or none.");
  }
  const size_t max_bytes = kMaxRsaBits / 8;
  // Every other component is below n; longer ones are wrong whatever their value.
  if (n_bytes.size() > max_bytes || e_bytes.size() > n_bytes.size() ||
      d_bytes.size() > n_bytes.size() || c.p.size() > c.n.size() || c.q.size() > c.n.size() ||
      c.dp.size() > c.n.size() || c.dq.size() > c.n.size() || c.qi.size() > c.n.size()) {
    return Status::BadParameter("The RSA key size must be between 1024 and 16384 bits.");
  }

  ErrorQueueMark mark;
  BnPtr n(BN_bin2bn(n_bytes.data(), static_cast<int>(n_bytes.size()), nullptr));
  BnPtr e(BN_bin2bn(e_bytes.data(), static_cast<int>(e_bytes.size()), nullptr));
  SecretBnPtr d = SecretBn(d_bytes);
  if (!n || !e || !d) return RsaOperationFailed();
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return Status::BadParameter("The RSA key size must be between 1024 and 16384 bits.");
  }
  if (!BN_is_odd(n.get()) || !BN_is_odd(e.get()) || BN_is_one(e.get()) ||
      BN_cmp(d.get(), n.get()) >= 0) {
    return RsaInconsistent();
  }

  SecretBnPtr p, q, dp, dq, qi;
  if (all_crt) {
    p = SecretBn(c.p);
    q = SecretBn(c.q);
    dp = SecretBn(c.dp);
    dq = SecretBn(c.dq);
    qi = SecretBn(c.qi);
    if (!p || !q || !dp || !dq || !qi) return RsaOperationFailed();
  } else if (!RecoverPrimeFactors(n.get(), e.get(), d.get(), p, q) ||
             !ComputeCrt(d.get(), p.get(), q.get(), dp, dq, qi)) {
    // d does not belong to (n, e): no factorization falls out of it.
    return RsaInconsistent();
  }

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi.get()) != 1) {
    return RsaOperationFailed();
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return RsaOperationFailed();
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1 || raw == nullptr) {
    EVP_PKEY_free(raw);
    return RsaInconsistent();
  }
  PkeyPtr pkey(raw);
  // OpenSSL's full check: n odd and without small factors, e in range, 1 < d < n, p and q prime,
  // n = p*q, d*e = 1 mod lcm(p-1, q-1), dp, dq and qi correct. Without it a wrong qi or dp
  // would go unnoticed: OpenSSL verifies each CRT result and silently falls back to d.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check) return RsaOperationFailed();
  if (EVP_PKEY_check(check.get()) != 1) return RsaInconsistent();
  return AsymmetricKey::Adopt(pkey.release(), true);
}

Result<AsymmetricKey> EcKeyFromComponents(Curve curve, ByteSpan x, ByteSpan y, ByteSpan d) {
  const CurveOps& ops = OpsFor(curve);
  const size_t size = CurveCoordinateSize(curve);
  const std::string name(CurveName(curve));
  if (x.size() != size || y.size() != size) {
    return Status::BadParameter("The coordinates x and y of a " + name + " key must be " +
                                std::to_string(size) + " bytes each.");
  }
  // RFC 7518 wants d at full length, but some encoders drop leading zeros: accept it shorter.
  if (d.empty() || d.size() > size) {
    return Status::BadParameter("The private key d of a " + name + " key must be " +
                                std::to_string(size) + " bytes.");
  }
  ErrorQueueMark mark;
  Bytes point;
  point.reserve(1 + 2 * size);
  point.push_back(0x04);  // uncompressed
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  SecretBnPtr priv = SecretBn(d);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!priv || !bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, ops.group_name, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1) {
    return EcOperationFailed();
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return EcOperationFailed();
  // Decoding the point already refuses one that is not on the curve.
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1 || raw == nullptr) {
    EVP_PKEY_free(raw);
    return Status::BadParameter("The " + name +
                                " key is invalid: (x, y) is not a point on the "
                                "curve.");
  }
  PkeyPtr pkey(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check) return EcOperationFailed();
  if (EVP_PKEY_public_check(check.get()) != 1) {
    return Status::BadParameter("The " + name +
                                " key is invalid: (x, y) is not a point on the "
                                "curve.");
  }
  // Private range (0 < d < order) and d*G == (x, y).
  if (EVP_PKEY_check(check.get()) != 1) {
    return Status::BadParameter("The " + name + " key is invalid: d does not match (x, y).");
  }
  return AsymmetricKey::Adopt(pkey.release(), true);
}

}  // namespace coffre::crypto
