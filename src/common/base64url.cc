#include "common/base64url.h"

#include <array>
#include <cstdint>

namespace coffre {
namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kHexDigits[] = "0123456789abcdef";

constexpr uint8_t kInvalid = 0xff;

// Both alphabets map into one table: '-' and '+' are 62, '_' and '/' are 63.
constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) {
    table[static_cast<uint8_t>(kUrlAlphabet[i])] = i;
    table[static_cast<uint8_t>(kStdAlphabet[i])] = i;
  }
  return table;
}
constexpr std::array<uint8_t, 256> kDecodeTable = MakeDecodeTable();

std::string Encode(ByteSpan data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out.push_back(alphabet[(v >> 18) & 0x3f]);
    out.push_back(alphabet[(v >> 12) & 0x3f]);
    out.push_back(alphabet[(v >> 6) & 0x3f]);
    out.push_back(alphabet[v & 0x3f]);
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{data[i]} << 16;
    out.push_back(alphabet[(v >> 18) & 0x3f]);
    out.push_back(alphabet[(v >> 12) & 0x3f]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out.push_back(alphabet[(v >> 18) & 0x3f]);
    out.push_back(alphabet[(v >> 12) & 0x3f]);
    out.push_back(alphabet[(v >> 6) & 0x3f]);
    if (pad) out.push_back('=');
  }
  return out;
}

// Decodes into any byte container (plain or wiping). Returns false on malformed input; `out`
// may then hold partial data, which the wiping container still erases.
template <typename Container>
bool Decode(std::string_view text, Container& out) {
  // Padding, when present, must complete the last quantum: at most two '=' at the very end of
  // a text whose length is a multiple of four.
  size_t pad = 0;
  while (pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  if (pad > 0) {
    if (pad > 2 || text.size() % 4 != 0) return false;
    text.remove_suffix(pad);
    // "xx==" needs 2 data characters in the last quantum, "xxx=" needs 3.
    if (text.size() % 4 != 4 - pad) return false;
  }
  if (text.size() % 4 == 1) return false;

  out.clear();
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    uint8_t v = kDecodeTable[static_cast<uint8_t>(c)];
    if (v == kInvalid) return false;  // also catches '=' in the middle and whitespace
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero: otherwise several texts would decode to the same bytes, which
  // makes signatures and tokens malleable.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return false;
  return true;
}

}  // namespace

std::string Base64UrlEncode(ByteSpan data) { return Encode(data, kUrlAlphabet, false); }

std::string Base64Encode(ByteSpan data) { return Encode(data, kStdAlphabet, true); }

std::optional<Bytes> Base64UrlDecode(std::string_view text) {
  Bytes out;
  if (!Decode(text, out)) return std::nullopt;
  return out;
}

std::optional<SecureBytes> Base64UrlDecodeSecure(std::string_view text) {
  SecureBytes out;
  if (!Decode(text, out)) return std::nullopt;
  return out;
}

std::string HexEncode(ByteSpan data) {
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0x0f]);
  }
  return out;
}

}  // namespace coffre
