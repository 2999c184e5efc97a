// coffre::Nullable<T>: an optional value with the member names the Azure SDK for C++ uses
// (HasValue, Value, Reset, ValueOr), so code written against Azure::Nullable ports unchanged.
#pragma once

#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace coffre {

template <class T>
class Nullable final {
 public:
  constexpr Nullable() = default;
  constexpr Nullable(std::nullopt_t) {}            // NOLINT: implicit like std::optional
  Nullable(T value) : value_(std::move(value)) {}  // NOLINT: implicit like std::optional

  // Accepts anything T can be built from (e.g. a system_clock time point for a DateTime), so
  // `options.ExpiresOn = std::chrono::system_clock::now() + 24h;` compiles.
  template <class U, std::enable_if_t<!std::is_same_v<std::decay_t<U>, Nullable> &&
                                          !std::is_same_v<std::decay_t<U>, T> &&
                                          std::is_constructible_v<T, U&&>,
                                      int> = 0>
  Nullable(U&& value) : value_(std::in_place, std::forward<U>(value)) {}  // NOLINT

  bool HasValue() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return value_.has_value(); }

  // Throws std::logic_error when empty: reading an absent value is a caller bug.
  T& Value() & { return Checked(); }
  const T& Value() const& { return const_cast<Nullable*>(this)->Checked(); }
  T&& Value() && { return std::move(Checked()); }

  template <class U>
  T ValueOr(U&& fallback) const& {
    return value_.has_value() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

  void Reset() noexcept { value_.reset(); }

  template <class... Args>
  T& Emplace(Args&&... args) {
    return value_.emplace(std::forward<Args>(args)...);
  }

  T* operator->() { return &Checked(); }
  const T* operator->() const { return &const_cast<Nullable*>(this)->Checked(); }
  T& operator*() & { return Checked(); }
  const T& operator*() const& { return const_cast<Nullable*>(this)->Checked(); }

  friend bool operator==(const Nullable& a, const Nullable& b) { return a.value_ == b.value_; }

 private:
  T& Checked() {
    if (!value_.has_value()) throw std::logic_error("Nullable: no value");
    return *value_;
  }

  std::optional<T> value_;
};

}  // namespace coffre
