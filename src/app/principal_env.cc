#include "app/principal_env.h"

#include <sstream>

#include "app/data_dir.h"

namespace coffre::app {
namespace {

// Single-quoted for a POSIX shell unless every character is plainly safe.
std::string ShellWord(const std::string& value) {
  bool plain = !value.empty();
  for (char c : value) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '~' || c == '@';
    plain = plain && safe;
  }
  if (plain) return value;
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string PrincipalEnvLines(const std::string& client_id, const std::string& client_secret,
                              const std::string& authority_host) {
  return "export AZURE_TENANT_ID=adfs\n"
         "export AZURE_CLIENT_ID=" +
         ShellWord(client_id) + "\nexport AZURE_CLIENT_SECRET=" + ShellWord(client_secret) +
         "\nexport AZURE_AUTHORITY_HOST=" + ShellWord(authority_host) + "\n";
}

std::string AuthorityHostFromDataDir(const std::string& data_dir) {
  const std::string fallback = "https://localhost:8443";
  auto text = ReadFileIfExists(JoinPath(data_dir, "dev.env"));
  if (!text.ok() || !*text) return fallback;
  std::istringstream lines(**text);
  std::string line;
  const std::string prefix = "export COFFRE_SERVER=";
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size())
      return line.substr(prefix.size());
  }
  return fallback;
}

}  // namespace coffre::app
