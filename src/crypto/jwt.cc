#include "crypto/jwt.h"

#include <boost/json.hpp>
#include <climits>

#include "common/base64url.h"
#include "crypto/ossl_util.h"

namespace coffre::crypto {
namespace {

using internal::BnPtr;
using internal::EcdsaSigPtr;
using internal::ErrorQueueMark;
using internal::MdCtxPtr;

constexpr size_t kMaxTokenSize = 16 * 1024;
constexpr size_t kEs256HalfSize = 32;
// P-521 halves are 66 bytes; nothing legitimate is larger.
constexpr size_t kMaxHalfSize = 66;

Status InvalidToken(std::string message) { return Status::Unauthorized(std::move(message)); }

// Compact JWS uses unpadded base64url only. The shared decoder is lenient (standard alphabet,
// padding); a token must have one canonical spelling, so the alphabet is checked here first.
std::optional<Bytes> DecodeJwsPart(std::string_view part) {
  for (char c : part) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  return Base64UrlDecode(part);
}

bool IsP256(const AsymmetricKey& key) {
  return key.family() == KeyFamily::kEc && key.curve() == Curve::kP256;
}

}  // namespace

Result<std::string> SignJwtEs256(const AsymmetricKey& key, std::string_view key_id,
                                 std::string_view payload_json) {
  if (!IsP256(key) || !key.has_private()) {
    return Status::Internal("ES256 needs a P-256 private key");
  }
  // boost::json::object keeps insertion order and escapes the key id properly.
  boost::json::object header;
  header["alg"] = "ES256";
  header["typ"] = "JWT";
  header["kid"] = boost::json::string_view(key_id.data(), key_id.size());
  std::string signing_input = Base64UrlEncode(AsBytes(boost::json::serialize(header))) + "." +
                              Base64UrlEncode(AsBytes(payload_json));

  ErrorQueueMark mark;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.native()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return Status::Internal("token signing failed");
  }
  Bytes der(sig_len);
  if (EVP_DigestSign(ctx.get(), der.data(), &sig_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return Status::Internal("token signing failed");
  }
  der.resize(sig_len);
  COFFRE_ASSIGN_OR_RETURN(Bytes raw, EcdsaDerToRaw(der, kEs256HalfSize));
  return signing_input + "." + Base64UrlEncode(raw);
}

Result<std::string> VerifyJwtEs256(const AsymmetricKey& key, std::string_view token) {
  if (token.size() > kMaxTokenSize) return InvalidToken("token too large");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return InvalidToken("malformed token");
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);

  std::optional<Bytes> header_json = DecodeJwsPart(header_b64);
  std::optional<Bytes> payload = DecodeJwsPart(payload_b64);
  std::optional<Bytes> signature = DecodeJwsPart(signature_b64);
  if (!header_json || !payload || !signature || header_b64.empty() || payload_b64.empty()) {
    return InvalidToken("malformed token");
  }

  boost::system::error_code ec;
  boost::json::value header = boost::json::parse(AsChars(*header_json), ec);
  if (ec || !header.is_object()) return InvalidToken("malformed token header");
  const boost::json::object& fields = header.get_object();
  const boost::json::value* alg = fields.if_contains("alg");
  // The algorithm is fixed by us, never chosen by the token: anything but ES256 (including
  // "none" and HMAC algorithms keyed with the public key) is refused.
  if (alg == nullptr || !alg->is_string() || alg->get_string() != "ES256") {
    return InvalidToken("unsupported token algorithm");
  }
  // RFC 7515 §4.1.11: critical extensions we do not understand make the token invalid.
  if (fields.contains("crit")) return InvalidToken("unsupported token header");

  if (!IsP256(key)) return Status::Internal("ES256 needs a P-256 key");
  if (signature->size() != 2 * kEs256HalfSize) return InvalidToken("invalid token signature");
  COFFRE_ASSIGN_OR_RETURN(Bytes der, EcdsaRawToDer(*signature));

  ErrorQueueMark mark;
  std::string_view signing_input = token.substr(0, dot2);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.native()) != 1) {
    return Status::Internal("token verification setup failed");
  }
  if (EVP_DigestVerify(ctx.get(), der.data(), der.size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
    return InvalidToken("invalid token signature");
  }
  return std::string(AsChars(*payload));
}

Result<Bytes> EcdsaDerToRaw(ByteSpan der, size_t half_size) {
  if (half_size == 0 || half_size > kMaxHalfSize || der.empty() || der.size() > 1024) {
    return Status::BadParameter("invalid ECDSA signature");
  }
  ErrorQueueMark mark;
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) return Status::BadParameter("invalid ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  if (r == nullptr || s == nullptr || BN_is_negative(r) || BN_is_negative(s) ||
      static_cast<size_t>(BN_num_bytes(r)) > half_size ||
      static_cast<size_t>(BN_num_bytes(s)) > half_size) {
    return Status::BadParameter("invalid ECDSA signature");
  }
  Bytes raw(2 * half_size);
  const int half = static_cast<int>(half_size);
  if (BN_bn2binpad(r, raw.data(), half) != half ||
      BN_bn2binpad(s, raw.data() + half_size, half) != half) {
    return Status::Internal("ECDSA signature conversion failed");
  }
  return raw;
}

Result<Bytes> EcdsaRawToDer(ByteSpan raw) {
  if (raw.empty() || raw.size() % 2 != 0 || raw.size() > 2 * kMaxHalfSize) {
    return Status::BadParameter("invalid ECDSA signature");
  }
  ErrorQueueMark mark;
  const size_t half = raw.size() / 2;
  BnPtr r(BN_bin2bn(raw.data(), static_cast<int>(half), nullptr));
  BnPtr s(BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return Status::Internal("ECDSA signature conversion failed");
  }
  // The signature object owns r and s now.
  r.release();
  s.release();
  unsigned char* data = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &data);
  if (len <= 0 || data == nullptr) {
    OPENSSL_free(data);
    return Status::Internal("ECDSA signature conversion failed");
  }
  Bytes out(data, data + len);
  OPENSSL_free(data);
  return out;
}

}  // namespace coffre::crypto
