// Base64url (common/base64url.h): decoding never crashes, accepts exactly the documented
// spellings, and round-trips: decode(encode(x)) == x for any bytes x.
#include <cstdint>
#include <string>

#include "common/base64url.h"
#include "fuzz/fuzz_common.h"

namespace {

using coffre::AsBytes;
using coffre::AsChars;
using coffre::Bytes;
using coffre::ByteSpan;

// The canonical (unpadded base64url) spelling of a text the decoder accepted.
std::string Canonical(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '=') continue;
    out.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
  }
  return out;
}

void RoundTrip(ByteSpan bytes) {
  std::string url = coffre::Base64UrlEncode(bytes);
  COFFRE_FUZZ_CHECK(url.size() == (bytes.size() * 4 + 2) / 3, url);
  auto back = coffre::Base64UrlDecode(url);
  COFFRE_FUZZ_CHECK(back && Bytes(bytes.begin(), bytes.end()) == *back, url);
  auto secure = coffre::Base64UrlDecodeSecure(url);
  COFFRE_FUZZ_CHECK(
      secure && std::equal(secure->begin(), secure->end(), bytes.begin(), bytes.end()), url);
  std::string padded = coffre::Base64Encode(bytes);
  COFFRE_FUZZ_CHECK(padded.size() % 4 == 0, padded);
  auto from_std = coffre::Base64UrlDecode(padded);
  COFFRE_FUZZ_CHECK(from_std && Bytes(bytes.begin(), bytes.end()) == *from_std, padded);
  COFFRE_FUZZ_CHECK(coffre::HexEncode(bytes).size() == bytes.size() * 2, "hex length");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(data, size);
  // Any bytes survive a round trip.
  RoundTrip(input);

  // Any text decodes or is refused; what decodes has one canonical spelling that re-encodes
  // to itself (leftover bits must be zero, so no two texts decode to the same bytes).
  std::string_view text = AsChars(input);
  auto decoded = coffre::Base64UrlDecode(text);
  auto secure = coffre::Base64UrlDecodeSecure(text);
  COFFRE_FUZZ_CHECK(decoded.has_value() == secure.has_value(), text);
  if (decoded) {
    COFFRE_FUZZ_CHECK(std::equal(decoded->begin(), decoded->end(), secure->begin(), secure->end()),
                      text);
    COFFRE_FUZZ_CHECK(coffre::Base64UrlEncode(*decoded) == Canonical(text), text);
    RoundTrip(*decoded);
  }
  return 0;
}
