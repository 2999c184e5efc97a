#include "http/vault_throttle.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace coffre::http {

ThrottleLimits ThrottleLimits::Azure(double factor) {
  ThrottleLimits limits;
  for (int& limit : limits.per_window) {
    limit = std::max(1, static_cast<int>(std::lround(limit * factor)));
  }
  return limits;
}

std::optional<double> ParseThrottleSetting(std::string_view text, std::string* error) {
  if (text == "off" || text.empty()) return std::nullopt;
  if (text == "azure") return 1.0;
  double factor = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), factor);
  if (ec != std::errc() || end != text.data() + text.size() || !(factor > 0) || factor > 1000) {
    if (error != nullptr) {
      *error = "--throttle is azure, off, or a factor for Azure's limits in (0, 1000] (e.g. 0.01)";
    }
    return std::nullopt;
  }
  return factor;
}

ThrottleClass ThrottleClassOf(std::string_view operation) {
  if (operation == "CreateKey" || operation == "RotateKey") return ThrottleClass::kKeyCreate;
  if (operation == "SetSecret") return ThrottleClass::kSecretCreate;
  if (operation.find("Secret") != std::string_view::npos) return ThrottleClass::kSecretOther;
  return ThrottleClass::kKeyOther;
}

int64_t VaultThrottle::Admit(std::string_view vault, ThrottleClass kind) {
  const auto bucket_length =
      std::chrono::duration_cast<std::chrono::nanoseconds>(limits_.window) / kBuckets;
  const auto since_start = clock_.Monotonic().time_since_epoch();
  const int64_t bucket = since_start / bucket_length;
  const int limit = limits_.per_window[static_cast<size_t>(kind)];

  std::lock_guard lock(mutex_);
  auto it = windows_.find(vault);
  if (it == windows_.end()) {
    if (windows_.size() >= kMaxVaults) windows_.clear();  // vaults come and go; start afresh
    it = windows_.emplace(std::string(vault), std::array<Window, kThrottleClasses>{}).first;
  }
  Window& w = it->second[static_cast<size_t>(kind)];
  // Empty the buckets that slid out of the window since the last request.
  if (bucket - w.newest >= kBuckets) {
    w.counts.fill(0);
  } else {
    for (int64_t b = w.newest + 1; b <= bucket; ++b) w.counts[b % kBuckets] = 0;
  }
  w.newest = std::max(w.newest, bucket);
  int in_window = 0;
  for (int c : w.counts) in_window += c;
  if (in_window < limit) {
    ++w.counts[bucket % kBuckets];
    return 0;
  }
  // Full: a retry succeeds once the oldest counted bucket has left the window.
  int64_t oldest = bucket;
  for (int64_t b = bucket - kBuckets + 1; b <= bucket; ++b) {
    if (w.counts[((b % kBuckets) + kBuckets) % kBuckets] > 0) {
      oldest = b;
      break;
    }
  }
  const auto free_at = (oldest + kBuckets) * bucket_length;
  const auto wait = free_at - since_start;
  const int64_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(wait + std::chrono::nanoseconds(999999999))
          .count();
  return std::max<int64_t>(1, seconds);
}

}  // namespace coffre::http
