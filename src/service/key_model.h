// The Key Vault key model as the service layer sees it: what a KeyBundle, KeyItem and
// DeletedKeyBundle hold, independent of JSON and HTTP. Identifiers (kid, recoveryId) are not
// here: the HTTP layer renders them from the request's host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/asymmetric_key.h"
#include "store/store.h"

namespace coffre::service {

using Tags = store::Tags;

enum class KeyType { kRsa, kRsaHsm, kEc, kEcHsm, kOct, kOctHsm };

// Wire names: "RSA", "RSA-HSM", "EC", "EC-HSM", "oct", "oct-HSM" (exact case).
std::optional<KeyType> KeyTypeFromName(std::string_view name);
std::string_view KeyTypeName(KeyType type);
bool IsRsa(KeyType type);
bool IsEc(KeyType type);

// JsonWebKeyOperation wire names.
inline constexpr std::string_view kKeyOperations[] = {"encrypt", "decrypt",   "sign",   "verify",
                                                      "wrapKey", "unwrapKey", "import", "export"};
bool IsKeyOperation(std::string_view op);

struct KeyAttributes {
  bool enabled = true;
  std::optional<int64_t> not_before;
  std::optional<int64_t> expires;
  int64_t created = 0;
  int64_t updated = 0;
  int recoverable_days = 90;
  std::string recovery_level;  // DeletionRecoveryLevel, from the vault's settings
};

// Public part of a key as a JWK shows it. Private parts never leave the service.
struct PublicJsonWebKey {
  KeyType kty = KeyType::kRsa;
  std::vector<std::string> key_ops;
  crypto::PublicKeyParams params;  // RSA n/e or EC crv/x/y; unused for oct
};

struct KeyBundle {
  std::string name;
  std::string version;
  PublicJsonWebKey key;
  KeyAttributes attributes;
  Tags tags;
};

// A list entry: no key material.
struct KeyItem {
  std::string name;
  std::string version;  // empty in /keys and /deletedkeys listings (version-less kid)
  KeyAttributes attributes;
  Tags tags;
};

struct DeletionInfo {
  int64_t deleted_date = 0;
  int64_t scheduled_purge_date = 0;
};

struct DeletedKeyBundle {
  KeyBundle bundle;
  DeletionInfo deletion;
};

struct DeletedKeyItem {
  KeyItem item;
  DeletionInfo deletion;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // empty: last page
};

struct PageRequest {
  std::string cursor;  // from a previous Page::next_cursor; empty for the first page
  int max_results = 25;
};

// Attribute changes from a create/import/update body: absent = unchanged (or default on create).
struct AttributeChanges {
  std::optional<bool> enabled;
  std::optional<int64_t> not_before;
  std::optional<int64_t> expires;
};

struct CreateKeyRequest {
  std::string name;
  KeyType kty = KeyType::kRsa;
  std::optional<int> key_size;
  std::optional<uint32_t> public_exponent;
  std::optional<crypto::Curve> curve;
  std::optional<std::vector<std::string>> key_ops;
  AttributeChanges attributes;
  std::optional<Tags> tags;
};

// A JWK with private parts, as an import body carries it. Binary fields are decoded already.
struct PrivateJsonWebKey {
  std::string kty;
  std::optional<std::vector<std::string>> key_ops;
  Bytes n, e;                       // RSA public
  SecureBytes d, p, q, dp, dq, qi;  // RSA private (d is also the EC private scalar)
  std::string crv;                  // EC
  Bytes x, y;
  SecureBytes k;  // oct
};

struct ImportKeyRequest {
  std::string name;
  PrivateJsonWebKey key;
  bool hsm = false;  // "Hsm": store as RSA-HSM / EC-HSM / oct-HSM
  AttributeChanges attributes;
  std::optional<Tags> tags;
};

struct UpdateKeyRequest {
  std::optional<std::vector<std::string>> key_ops;
  AttributeChanges attributes;
  std::optional<Tags> tags;  // replaces all tags when present
};

// Limits from the Key Vault documentation.
inline constexpr size_t kMaxTags = 15;
inline constexpr size_t kMaxTagNameLength = 256;
inline constexpr size_t kMaxTagValueLength = 256;
inline constexpr size_t kMaxKeyNameLength = 127;

// ^[0-9a-zA-Z-]{1,127}$
bool IsValidObjectName(std::string_view name);
// 32 lowercase or uppercase hex characters.
bool IsValidVersion(std::string_view version);

// Key Vault's tag limits, shared by keys and secrets: at most 15, names 1-256 characters,
// values at most 256.
Status ValidateTags(const Tags& tags);
// Tags in name order, as they are stored and answered.
Tags SortedTags(Tags tags);

}  // namespace coffre::service
