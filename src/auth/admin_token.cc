#include "auth/admin_token.h"

#include <algorithm>
#include <optional>

#include "common/base64url.h"
#include "crypto/digest.h"
#include "crypto/random.h"
#include "crypto/secret_hash.h"

namespace coffre::auth {
namespace {

constexpr std::string_view kTokenPrefix = "coffre-admin-";
constexpr size_t kMaxTokenLength = 256;

std::string EncodeDigest(std::string_view token) {
  return Base64UrlEncode(crypto::Sha256(AsBytes(token)));
}

Result<AdminToken> FromStored(const std::string& stored) {
  std::optional<Bytes> digest = Base64UrlDecode(stored);
  if (!digest || digest->size() != 32) {
    return Status::Internal("The stored admin token digest is damaged.");
  }
  std::array<uint8_t, 32> value{};
  std::copy(digest->begin(), digest->end(), value.begin());
  return AdminToken(value);
}

}  // namespace

Result<AdminToken> AdminToken::LoadOrCreate(store::Store& store, std::string* created,
                                            std::string_view current_token) {
  if (created != nullptr) created->clear();
  COFFRE_ASSIGN_OR_RETURN(std::optional<std::string> stored, store.GetSetting(kDigestSetting));
  if (stored) return FromStored(*stored);

  // Upgrade from the PBKDF2 record: keep the operator's token if it still matches.
  COFFRE_ASSIGN_OR_RETURN(std::optional<std::string> legacy, store.GetSetting(kLegacyHashSetting));
  if (legacy && !current_token.empty() && current_token.size() <= kMaxTokenLength &&
      crypto::VerifySecret(current_token, *legacy)) {
    COFFRE_ASSIGN_OR_RETURN(std::string kept,
                            store.GetOrPutSetting(kDigestSetting, EncodeDigest(current_token)));
    return FromStored(kept);
  }

  std::string token = std::string(kTokenPrefix) + Base64UrlEncode(crypto::RandomBytes(32));
  std::string digest = EncodeDigest(token);
  COFFRE_ASSIGN_OR_RETURN(std::string kept, store.GetOrPutSetting(kDigestSetting, digest));
  // Ours was stored only if nobody had stored one before.
  if (created != nullptr && kept == digest) *created = token;
  SecureWipe(token.data(), token.size());
  return FromStored(kept);
}

bool AdminToken::Verify(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenLength) return false;
  auto digest = crypto::Sha256(AsBytes(token));
  return crypto::ConstantTimeEquals(digest, digest_);
}

}  // namespace coffre::auth
