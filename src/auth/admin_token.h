// The admin token: the bearer secret for the admin API. Generated at first start and shown once;
// the server keeps only its slow hash (setting "admin_token_hash"). A successful check is
// remembered as a SHA-256 so later requests don't pay for PBKDF2 again.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "store/store.h"

namespace coffre::auth {

class AdminToken {
 public:
  // Loads the stored hash, creating a token first if there is none. `created` is set to the new
  // token when one was made (the only time it is ever available), empty otherwise.
  static Result<AdminToken> LoadOrCreate(store::Store& store, std::string* created);

  explicit AdminToken(std::string hash) : hash_(std::move(hash)) {}
  AdminToken(AdminToken&& other) noexcept : hash_(std::move(other.hash_)) {}

  // Constant-time after the first success; never logs or echoes the token.
  bool Verify(std::string_view token) const;

 private:
  std::string hash_;
  mutable std::mutex mutex_;
  mutable std::optional<std::array<uint8_t, 32>> verified_digest_;
};

}  // namespace coffre::auth
