#include "crypto/random.h"

#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "common/base64url.h"

namespace coffre::crypto {

void FillRandom(uint8_t* out, size_t size) {
  while (size > 0) {
    int chunk = size > INT_MAX ? INT_MAX : static_cast<int>(size);
    if (RAND_bytes(out, chunk) != 1) {
      // Keys, nonces and salts all come from here: continuing with predictable bytes would be
      // far worse than stopping.
      std::fputs("coffre: fatal: the OpenSSL random generator failed\n", stderr);
      std::abort();
    }
    out += chunk;
    size -= static_cast<size_t>(chunk);
  }
}

Bytes RandomBytes(size_t size) {
  Bytes out(size);
  FillRandom(out.data(), out.size());
  return out;
}

SecureBytes RandomSecureBytes(size_t size) {
  SecureBytes out(size);
  FillRandom(out.data(), out.size());
  return out;
}

std::string RandomHex(size_t bytes) { return HexEncode(RandomBytes(bytes)); }

std::string RandomUuid() {
  Bytes b = RandomBytes(16);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace coffre::crypto
