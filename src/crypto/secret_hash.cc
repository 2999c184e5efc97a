#include "crypto/secret_hash.h"

#include <openssl/evp.h>

#include <charconv>
#include <climits>
#include <vector>

#include "common/base64url.h"
#include "crypto/digest.h"
#include "crypto/ossl_util.h"
#include "crypto/random.h"

namespace coffre::crypto {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr int kIterations = 200000;
constexpr size_t kSaltSize = 16;
constexpr size_t kHashSize = 32;
// Bounds for stored encodings: too few iterations would make a forged record cheap to attack,
// too many would let one record stall the server.
constexpr int kMinIterations = 1000;
constexpr int kMaxIterations = 10000000;
constexpr size_t kMinSaltSize = 8;
constexpr size_t kMaxSaltSize = 64;

bool Pbkdf2(std::string_view secret, ByteSpan salt, int iterations, SecureBytes& out) {
  if (secret.size() > INT_MAX || salt.size() > INT_MAX || out.size() > INT_MAX) return false;
  internal::ErrorQueueMark mark;
  return PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), salt.data(),
                           static_cast<int>(salt.size()), iterations, EVP_sha256(),
                           static_cast<int>(out.size()), out.data()) == 1;
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace

std::string HashSecret(std::string_view secret) {
  Bytes salt = RandomBytes(kSaltSize);
  SecureBytes hash(kHashSize);
  // An empty encoding never verifies: failing closed is the only safe outcome here.
  if (!Pbkdf2(secret, salt, kIterations, hash)) return {};
  return std::string(kScheme) + "$" + std::to_string(kIterations) + "$" + Base64UrlEncode(salt) +
         "$" + Base64UrlEncode(hash);
}

bool VerifySecret(std::string_view secret, std::string_view encoded) {
  std::vector<std::string_view> parts = Split(encoded, '$');
  if (parts.size() != 4 || parts[0] != kScheme) return false;

  std::string_view iter_text = parts[1];
  if (iter_text.empty() || iter_text.size() > 8 || iter_text.front() == '0') return false;
  int iterations = 0;
  auto [end, ec] =
      std::from_chars(iter_text.data(), iter_text.data() + iter_text.size(), iterations);
  if (ec != std::errc() || end != iter_text.data() + iter_text.size() ||
      iterations < kMinIterations || iterations > kMaxIterations) {
    return false;
  }

  std::optional<Bytes> salt = Base64UrlDecode(parts[2]);
  std::optional<Bytes> expected = Base64UrlDecode(parts[3]);
  if (!salt || salt->size() < kMinSaltSize || salt->size() > kMaxSaltSize || !expected ||
      expected->size() != kHashSize) {
    return false;
  }
  SecureBytes actual(kHashSize);
  if (!Pbkdf2(secret, *salt, iterations, actual)) return false;
  return ConstantTimeEquals(actual, *expected);
}

}  // namespace coffre::crypto
