#include "auth/admin_token.h"

#include "common/base64url.h"
#include "crypto/digest.h"
#include "crypto/random.h"
#include "crypto/secret_hash.h"

namespace coffre::auth {
namespace {

constexpr std::string_view kHashSetting = "admin_token_hash";
constexpr std::string_view kTokenPrefix = "coffre-admin-";
constexpr size_t kMaxTokenLength = 256;

}  // namespace

Result<AdminToken> AdminToken::LoadOrCreate(store::Store& store, std::string* created) {
  std::string token = std::string(kTokenPrefix) + Base64UrlEncode(crypto::RandomBytes(32));
  std::string hash = crypto::HashSecret(token);
  if (hash.empty()) return Status::Internal("The admin token could not be hashed.");
  COFFRE_ASSIGN_OR_RETURN(std::string stored, store.GetOrPutSetting(kHashSetting, hash));
  if (created != nullptr) {
    // Ours was stored only if nobody had stored one before.
    *created = stored == hash ? token : std::string();
  }
  SecureWipe(token.data(), token.size());
  return AdminToken(std::move(stored));
}

bool AdminToken::Verify(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenLength) return false;
  auto digest = crypto::Sha256(AsBytes(token));
  {
    std::lock_guard lock(mutex_);
    if (verified_digest_) return crypto::ConstantTimeEquals(*verified_digest_, digest);
  }
  if (!crypto::VerifySecret(token, hash_)) return false;
  std::lock_guard lock(mutex_);
  verified_digest_ = digest;
  return true;
}

}  // namespace coffre::auth
