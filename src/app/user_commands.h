// `coffre user create|list|delete --data-dir D`: user principals (password sign-in), offline on
// a server's store, like `coffre principal ... --data-dir`.
#pragma once

#include <string>

namespace coffre::app {

// Creates a user and prints {"userPrincipalName","objectId","displayName","tenant"} plus
// "password" when none was given (shown only this once). password_file: read the password from
// it (first line; "-" for stdin); empty: a random one.
int CreateUserCommand(const std::string& data_dir, const std::string& upn,
                      const std::string& display_name, const std::string& password_file);
int ListUsersCommand(const std::string& data_dir);
// By UPN or object id.
int DeleteUserCommand(const std::string& data_dir, const std::string& upn_or_object_id);

}  // namespace coffre::app
