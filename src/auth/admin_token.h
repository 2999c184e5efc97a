// The admin token: the bearer secret for the admin API. Generated at first start and shown once;
// the server keeps only its SHA-256 (setting "admin_token_sha256"). The token is 256 random
// bits, so a fast hash is enough: nobody can search that space, and a wrong token costs one
// SHA-256, not a password hash on an I/O thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "coffre/status.h"
#include "store/store.h"

namespace coffre::auth {

class AdminToken {
 public:
  // The setting holding the token's SHA-256 (base64url).
  static constexpr std::string_view kDigestSetting = "admin_token_sha256";
  // Where servers before the SHA-256 record kept a PBKDF2 hash of the token.
  static constexpr std::string_view kLegacyHashSetting = "admin_token_hash";

  // Loads the stored digest, creating a token first if there is none. `created` is set to the
  // new token when one was made (the only time it is ever available), empty otherwise.
  // `current_token` is the token the operator holds (DATA_DIR/admin.token), if any: a store
  // that only has the legacy PBKDF2 hash keeps that token when it matches (checked once, here).
  static Result<AdminToken> LoadOrCreate(store::Store& store, std::string* created,
                                         std::string_view current_token = {});

  explicit AdminToken(std::array<uint8_t, 32> digest) : digest_(digest) {}

  // One SHA-256 and a constant-time comparison; never logs or echoes the token.
  bool Verify(std::string_view token) const;

 private:
  std::array<uint8_t, 32> digest_;
};

}  // namespace coffre::auth
