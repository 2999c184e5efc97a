// `coffre dev trust` / `coffre dev untrust`: puts the dev CA of a data dir into the system's
// trust store (Debian's /usr/local/share/ca-certificates + update-ca-certificates), or takes it
// out, for tools that read no CA variable from dev.env (the Azure SDK for C++ among them).
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "cli/cli.h"
#include "common/base64url.h"
#include "common/bytes.h"
#include "crypto/digest.h"

namespace coffre::cli {
namespace {

constexpr const char* kSystemCaDir = "/usr/local/share/ca-certificates";

struct TrustOptions {
  std::string data_dir = app::ServerConfig{}.data_dir;
  std::string ca_dir = kSystemCaDir;
};

std::string ReadCa(const std::string& data_dir) {
  const std::string path = data_dir + "/ca.pem";
  std::ifstream file(path);
  if (!file) {
    throw Failure("No " + path + ": start `coffre server --dev --data-dir " + data_dir +
                  "` once; it makes the dev CA.");
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    throw Failure(path + " holds no PEM certificate.");
  }
  return text.str();
}

// One file per dev CA, named after its fingerprint: several data dirs can be trusted at once and
// each untrusted alone.
std::string CaFileName(const std::string& pem) {
  auto digest = crypto::Sha256(AsBytes(pem));
  return "coffre-dev-ca-" + coffre::HexEncode(ByteSpan(digest.data(), 8)) + ".crt";
}

void RequireWritable(const std::string& dir) {
  if (::access(dir.c_str(), W_OK) == 0) return;
  const int error = errno;
  if (error == ENOENT) throw Failure(dir + " does not exist (is ca-certificates installed?).");
  throw Failure("Cannot write to " + dir + " (" + std::strerror(error) +
                "): changing the system's trusted CAs needs root. Run: sudo coffre dev " +
                "trust (or untrust) --data-dir DIR.");
}

// Runs update-ca-certificates (found on PATH) and fails if it does.
void UpdateSystemStore() {
  std::cout << std::flush;
  pid_t child = ::fork();
  if (child < 0)
    throw Failure(std::string("Cannot start update-ca-certificates: ") + std::strerror(errno));
  if (child == 0) {
    ::execlp("update-ca-certificates", "update-ca-certificates", static_cast<char*>(nullptr));
    std::cerr << "ERROR: cannot run update-ca-certificates: " << std::strerror(errno) << std::endl;
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Failure(
        "update-ca-certificates failed; the system's trusted CAs may not include the "
        "change yet.");
  }
}

int Trust(const TrustOptions& o) {
  const std::string pem = ReadCa(o.data_dir);
  RequireWritable(o.ca_dir);
  const std::string path = o.ca_dir + "/" + CaFileName(pem);
  {
    std::ofstream out(path, std::ios::trunc);
    out << pem;
    if (!out.flush()) throw Failure("Cannot write " + path + ".");
  }
  std::filesystem::permissions(path, std::filesystem::perms(0644));
  UpdateSystemStore();
  std::cout << "Trusted the dev CA of " << o.data_dir << " (" << path
            << "). Undo with: coffre dev untrust --data-dir " << o.data_dir << std::endl;
  return 0;
}

int Untrust(const TrustOptions& o) {
  const std::string pem = ReadCa(o.data_dir);
  RequireWritable(o.ca_dir);
  const std::string path = o.ca_dir + "/" + CaFileName(pem);
  std::error_code ec;
  if (!std::filesystem::remove(path, ec)) {
    if (ec) throw Failure("Cannot remove " + path + ": " + ec.message());
    std::cout << "The dev CA of " << o.data_dir << " was not trusted (no " << path << ")."
              << std::endl;
    return 0;
  }
  UpdateSystemStore();
  std::cout << "No longer trusting the dev CA of " << o.data_dir << " (removed " << path << ")."
            << std::endl;
  return 0;
}

}  // namespace

void AddDevTrustCommands(CLI::App* dev, Cli& cli);  // called by dev_command.cc

void AddDevTrustCommands(CLI::App* dev, Cli& cli) {
  for (bool trust : {true, false}) {
    auto o = std::make_shared<TrustOptions>();
    auto* cmd = dev->add_subcommand(
        trust ? "trust" : "untrust",
        trust ? "Add the dev CA to the system's trusted CAs (needs root; update-ca-certificates)"
              : "Remove the dev CA from the system's trusted CAs (needs root)");
    cmd->add_option("--data-dir", o->data_dir, "The dev server's data directory")
        ->capture_default_str();
    cmd->add_option("--ca-dir", o->ca_dir, "Where update-ca-certificates reads local CAs")
        ->capture_default_str();
    cli.OnRun(cmd, [o, trust] { return trust ? Trust(*o) : Untrust(*o); });
  }
}

}  // namespace coffre::cli
