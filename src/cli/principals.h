// Looking up principals through the admin API (shared by the vault, role and principal
// commands, which all accept a principal's client id where az takes a service principal).
#pragma once

#include <optional>
#include <string>

#include "cli/connection.h"

namespace coffre::cli {

struct PrincipalInfo {
  std::string app_id;
  std::string display_name;
  std::string object_id;
};

// The principal whose client id (appId), object id or display name is `id` (case-insensitive).
std::optional<PrincipalInfo> FindPrincipal(const AdminClient& admin, const std::string& id);

}  // namespace coffre::cli
