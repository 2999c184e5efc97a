// A minimal length-prefixed binary encoding for blobs Coffre writes and reads back itself
// (key backups). The reader checks every length against what is left, so truncated or
// hostile input fails cleanly instead of reading out of bounds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace coffre {

// Writes into a wiping buffer: what it encodes may include key material.
class BinaryWriter {
 public:
  void PutU8(uint8_t v) { out_.push_back(v); }
  void PutU32(uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<uint8_t>(v >> shift));
  }
  void PutI64(int64_t v) {
    auto u = static_cast<uint64_t>(v);
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<uint8_t>(u >> shift));
  }
  void PutBytes(ByteSpan data) {
    PutU32(static_cast<uint32_t>(data.size()));
    out_.insert(out_.end(), data.begin(), data.end());
  }
  void PutString(std::string_view s) { PutBytes(AsBytes(s)); }
  SecureBytes& bytes() { return out_; }

 private:
  SecureBytes out_;
};

class BinaryReader {
 public:
  explicit BinaryReader(ByteSpan data) : data_(data) {}

  std::optional<uint8_t> U8() {
    if (data_.size() < 1) return std::nullopt;
    uint8_t v = data_[0];
    data_ = data_.subspan(1);
    return v;
  }
  std::optional<uint32_t> U32() {
    if (data_.size() < 4) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | data_[i];
    data_ = data_.subspan(4);
    return v;
  }
  std::optional<int64_t> I64() {
    if (data_.size() < 8) return std::nullopt;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | data_[i];
    data_ = data_.subspan(8);
    return static_cast<int64_t>(v);
  }
  // A view into the input (valid as long as it is); nullopt if the length runs past the end.
  std::optional<ByteSpan> Bytes() {
    auto size = U32();
    if (!size || *size > data_.size()) return std::nullopt;
    ByteSpan v = data_.subspan(0, *size);
    data_ = data_.subspan(*size);
    return v;
  }
  std::optional<std::string> String() {
    auto b = Bytes();
    if (!b) return std::nullopt;
    return std::string(AsChars(*b));
  }
  bool AtEnd() const { return data_.empty(); }

 private:
  ByteSpan data_;
};

}  // namespace coffre
