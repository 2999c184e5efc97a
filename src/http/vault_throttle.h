// VaultThrottle: Azure Key Vault's per-vault transaction limits (coffre server --throttle), so
// code can be tested against the 429s real Key Vault gives under load.
//
// The limits are Azure's published service limits for a vault (transactions per 10 seconds,
// per vault): 20 software-key creates, 4,000 other software-key transactions (RSA 2048 and EC),
// 300 secret creates, 4,000 other secret transactions. Each class has its own sliding window,
// counted in ten one-second buckets on monotonic time; refused requests are not counted. A factor
// scales every limit (--throttle 0.01 gives 40 key transactions per 10 s), so tests reach them
// quickly. Not modelled: HSM keys, RSA 3072/4096 weighting (the key's size is only known once the
// operation runs) and the subscription-wide limit.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace coffre::http {

enum class ThrottleClass { kKeyCreate, kKeyOther, kSecretCreate, kSecretOther };
inline constexpr size_t kThrottleClasses = 4;

struct ThrottleLimits {
  // Transactions per window, by ThrottleClass.
  std::array<int, kThrottleClasses> per_window{20, 4000, 300, 4000};
  std::chrono::seconds window{10};

  // Azure's limits scaled by `factor` (each at least 1).
  static ThrottleLimits Azure(double factor = 1.0);
};

// "azure" -> 1, "off" -> nullopt (no throttle), a number in (0, 1000] -> that factor.
// Anything else: an error message in `error`.
std::optional<double> ParseThrottleSetting(std::string_view text, std::string* error);

// The class of an operation, by its name in the operations tables.
ThrottleClass ThrottleClassOf(std::string_view operation);

class VaultThrottle {
 public:
  VaultThrottle(const Clock& clock, ThrottleLimits limits) : clock_(clock), limits_(limits) {}

  // 0: admitted (and counted); otherwise the seconds to wait before a retry can succeed.
  int64_t Admit(std::string_view vault, ThrottleClass kind);

  const ThrottleLimits& limits() const { return limits_; }

 private:
  static constexpr int kBuckets = 10;
  struct Window {
    std::array<int, kBuckets> counts{};
    int64_t newest = 0;  // bucket number of counts[newest % kBuckets]
  };
  static constexpr size_t kMaxVaults = 10000;
  // Lets a string_view find a vault without making a string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const Clock& clock_;
  const ThrottleLimits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::array<Window, kThrottleClasses>, NameHash, std::equal_to<>>
      windows_;
};

}  // namespace coffre::http
