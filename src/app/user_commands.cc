#include "app/user_commands.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "app/data_dir.h"
#include "auth/identity_endpoints.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/random.h"
#include "store/store.h"

namespace coffre::app {
namespace {

constexpr size_t kMaxPasswordFile = 4096;

int Fail(const Status& status) {
  spdlog::error("{}", status.message());
  return 1;
}

Result<std::unique_ptr<store::Store>> OpenDataDirStore(const std::string& data_dir) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(data_dir, ec);
  const std::string dir = ec ? data_dir : absolute.lexically_normal().string();
  return store::OpenSqliteStore(JoinPath(dir, "coffre.db"));
}

// The first line of the file (or stdin for "-"), without its line end.
Result<std::string> ReadPassword(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::getline(std::cin, text);
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::BadParameter("Cannot read the password file " + path + ".");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (text.size() > kMaxPasswordFile) {
      SecureWipe(text.data(), text.size());
      return Status::BadParameter("The password file is too large.");
    }
  }
  size_t end = text.find_first_of("\r\n");
  if (end != std::string::npos) {
    SecureWipe(text.data() + end, text.size() - end);
    text.resize(end);
  }
  if (text.empty()) return Status::BadParameter("The password file holds no password.");
  return text;
}

}  // namespace

int CreateUserCommand(const std::string& data_dir, const std::string& upn,
                      const std::string& display_name, const std::string& password_file) {
  std::string password;
  if (!password_file.empty()) {
    auto read = ReadPassword(password_file);
    if (!read.ok()) return Fail(read.status());
    password = std::move(read).value();
  }
  const bool generated = password.empty();
  auto store = OpenDataDirStore(data_dir);
  if (!store.ok()) return Fail(store.status());
  auto tenant = (*store)->GetOrPutSetting("tenant_id", crypto::RandomUuid());
  if (!tenant.ok()) return Fail(tenant.status());
  auto created = auth::NewUser(upn, display_name, std::move(password), SystemClock::Instance());
  if (!created.ok()) return Fail(created.status());
  Status added = (*store)->AddUser(created->record);
  if (!added.ok()) {
    SecureWipe(created->password.data(), created->password.size());
    if (store::HasReason(added, store::reason::kUpnTaken)) {
      return Fail(Status::Conflict("A user named " + upn + " exists."));
    }
    return Fail(added);
  }
  boost::json::object out;
  out["userPrincipalName"] = created->record.upn;
  out["objectId"] = created->record.object_id;
  out["displayName"] = created->record.display_name;
  out["tenant"] = *tenant;
  if (generated) out["password"] = created->password;  // shown this once
  std::cout << boost::json::serialize(out) << std::endl;
  SecureWipe(created->password.data(), created->password.size());
  return 0;
}

int ListUsersCommand(const std::string& data_dir) {
  auto store = OpenDataDirStore(data_dir);
  if (!store.ok()) return Fail(store.status());
  auto users = (*store)->ListUsers();
  if (!users.ok()) return Fail(users.status());
  boost::json::array out;
  for (const auto& u : *users) {
    out.push_back(boost::json::object{{"userPrincipalName", u.upn},
                                      {"objectId", u.object_id},
                                      {"displayName", u.display_name},
                                      {"created", u.created}});
  }
  std::cout << boost::json::serialize(out) << std::endl;
  return 0;
}

int DeleteUserCommand(const std::string& data_dir, const std::string& upn_or_object_id) {
  auto store = OpenDataDirStore(data_dir);
  if (!store.ok()) return Fail(store.status());
  std::string upn = upn_or_object_id;
  if (upn.find('@') == std::string::npos) {
    auto by_id = (*store)->GetUserByObjectId(upn_or_object_id);
    if (!by_id.ok()) {
      return Fail(Status::NotFound("UserNotFound", "No user " + upn_or_object_id + "."));
    }
    upn = by_id->upn;
  }
  Status deleted = (*store)->DeleteUser(upn);
  if (deleted.kind() == ErrorKind::kNotFound) {
    return Fail(Status::NotFound("UserNotFound", "No user " + upn_or_object_id + "."));
  }
  if (!deleted.ok()) return Fail(deleted);
  return 0;
}

}  // namespace coffre::app
