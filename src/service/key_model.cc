#include "service/key_model.h"

#include <algorithm>
#include <array>
#include <utility>

namespace coffre::service {
namespace {

constexpr std::array<std::pair<KeyType, std::string_view>, 6> kKeyTypeNames = {{
    {KeyType::kRsa, "RSA"},
    {KeyType::kRsaHsm, "RSA-HSM"},
    {KeyType::kEc, "EC"},
    {KeyType::kEcHsm, "EC-HSM"},
    {KeyType::kOct, "oct"},
    {KeyType::kOctHsm, "oct-HSM"},
}};

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::optional<KeyType> KeyTypeFromName(std::string_view name) {
  for (const auto& [type, type_name] : kKeyTypeNames) {
    if (type_name == name) return type;
  }
  return std::nullopt;
}

std::string_view KeyTypeName(KeyType type) {
  for (const auto& [candidate, type_name] : kKeyTypeNames) {
    if (candidate == type) return type_name;
  }
  return "RSA";
}

bool IsRsa(KeyType type) { return type == KeyType::kRsa || type == KeyType::kRsaHsm; }
bool IsEc(KeyType type) { return type == KeyType::kEc || type == KeyType::kEcHsm; }

bool IsKeyOperation(std::string_view op) {
  return std::find(std::begin(kKeyOperations), std::end(kKeyOperations), op) !=
         std::end(kKeyOperations);
}

bool IsValidObjectName(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
  });
}

bool IsValidVersion(std::string_view version) {
  return version.size() == 32 && std::all_of(version.begin(), version.end(), IsHex);
}

Status ValidateTags(const Tags& tags) {
  if (tags.size() > kMaxTags) {
    return Status::BadParameter("The number of tags exceeds the limit of 15.");
  }
  for (const auto& [name, value] : tags) {
    if (name.empty() || name.size() > kMaxTagNameLength) {
      return Status::BadParameter("Tag names must be 1 to 256 characters long.");
    }
    if (value.size() > kMaxTagValueLength) {
      return Status::BadParameter("Tag values must be at most 256 characters long.");
    }
  }
  return Status::Ok();
}

Tags SortedTags(Tags tags) {
  std::sort(tags.begin(), tags.end());
  return tags;
}

}  // namespace coffre::service
