// Base of the string-valued "extendable enums" (key types, curves, algorithms): a fixed set of
// well-known values as static members, yet any string the service sends is representable.
#pragma once

#include <string>
#include <utility>

namespace coffre::core {

template <class T>
class ExtendableEnumeration {
 public:
  const std::string& ToString() const noexcept { return value_; }

  friend bool operator==(const T& a, const T& b) noexcept { return a.value_ == b.value_; }
  friend bool operator<(const T& a, const T& b) noexcept { return a.value_ < b.value_; }

 protected:
  ExtendableEnumeration() = default;
  explicit ExtendableEnumeration(std::string value) : value_(std::move(value)) {}

 private:
  std::string value_;
};

}  // namespace coffre::core
