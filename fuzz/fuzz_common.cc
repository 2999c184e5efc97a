#include "fuzz/fuzz_common.h"

#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <system_error>

#include "auth/access_control.h"

namespace coffre::fuzz {
namespace {

namespace fs = std::filesystem;

// Generated once for fuzzing; never used anywhere else.
constexpr char kTokenSigningPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgfv9ZE4wR4dJBMIMU\n"
    "49H60AkAq7H8Fvvp8eJg2fnUurihRANCAAR+wzI8pUJzgV64hlUCJw2Na8RyPDRy\n"
    "wjhafOo2TtLPyVb1p13ENUa34pdL6rXq1zps03bEDEL8jwdCeTs11e0s\n"
    "-----END PRIVATE KEY-----\n";

std::mutex scratch_mutex;
std::string scratch_root;

// Scratch roots of processes that died without running atexit (a crash the fuzzer reported):
// "coffre-fuzz-<pid>-XXXXXX" whose pid no longer runs.
void RemoveStaleScratchRoots(const fs::path& base) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(base, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("coffre-fuzz-", 0) != 0) continue;
    long pid = std::strtol(name.c_str() + 12, nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      fs::remove_all(entry.path(), ec);
    }
  }
}

void RemoveScratchRoot() {
  if (scratch_root.empty()) return;
  std::error_code ec;
  fs::remove_all(scratch_root, ec);
}

}  // namespace

SecureBytes MasterKey() {
  SecureBytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(0xc0 + i);
  return key;
}

crypto::AsymmetricKey TokenSigningKey() {
  auto key = crypto::AsymmetricKey::FromPrivatePem(kTokenSigningPem);
  if (!key.ok()) Fail("fixed token signing key does not load", key.status().ToString());
  return std::move(key).value();
}

auth::Identity DevIdentity() {
  return auth::Identity{"aaaaaaaa-0000-4000-8000-000000000001",
                        "bbbbbbbb-0000-4000-8000-000000000002", "dev"};
}

void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "\n*** fuzz property failed: %s\n", what);
  if (!detail.empty()) {
    std::fprintf(stderr, "*** detail: %.*s\n",
                 static_cast<int>(std::min<size_t>(detail.size(), 4096)), detail.data());
  }
  std::fflush(stderr);
  std::abort();
}

std::string ScratchDir(std::string_view name) {
  std::lock_guard lock(scratch_mutex);
  if (scratch_root.empty()) {
    std::error_code ec;
    fs::path base = fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
                        ? fs::path("/dev/shm")
                        : fs::temp_directory_path();
    RemoveStaleScratchRoots(base);
    std::string tmpl = (base / ("coffre-fuzz-" + std::to_string(::getpid()) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) Fail("cannot create a scratch directory", tmpl);
    scratch_root = tmpl;
    std::atexit(RemoveScratchRoot);
  }
  fs::path dir = fs::path(scratch_root) / std::string(name);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) Fail("cannot create a scratch directory", dir.string());
  return dir.string();
}

bool IsValidJson(std::string_view text) {
  boost::json::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

World::World(const std::string& dir) {
  auto opened = store::OpenSqliteStore(dir + "/coffre.db");
  if (!opened.ok()) Fail("cannot open the SQLite store", opened.status().ToString());
  store = std::move(opened).value();
  barrier = std::make_unique<service::MaterialBarrier>(service::Barrier(MasterKey()));
  tokens = std::make_unique<auth::TokenAuthority>(TokenSigningKey(), kTenant, clock);
  identity = std::make_unique<auth::IdentityEndpoints>(
      *tokens, *store, "identity-header-secret-for-fuzzing", DevIdentity());
  access = std::make_unique<auth::AccessChecker>(*store);
  vaults = std::make_unique<service::VaultDirectory>(*store);
  vault_.name = "dev";
  vault_.retention_days = 90;
  vault_.created = kNow;
  if (Status s = vaults->Ensure(vault_); !s.ok()) Fail("cannot create vault dev", s.ToString());
  store::AccessPolicyRecord policy;
  policy.vault = "dev";
  policy.object_id = DevIdentity().object_id;
  policy.keys = auth::AllPermissions(auth::PermissionKind::kKeys);
  if (Status s = store->PutAccessPolicy(policy); !s.ok()) {
    Fail("cannot add the access policy", s.ToString());
  }
  keys = std::make_unique<service::KeyService>(*store, *barrier, clock);
  crypto = std::make_unique<service::CryptoService>(*store, *barrier, clock);
  router = std::make_unique<http::Router>(
      http::RouterContext{*keys, *crypto, *vaults, *tokens, *identity, *access});
  auto issued = tokens->Issue(DevIdentity(), kResource);
  if (!issued.ok()) Fail("cannot issue a token", issued.status().ToString());
  token_ = issued->access_token;
}

World::~World() = default;

bool RemoveKey(World& world, const std::string& name) {
  (void)world.keys->DeleteKey(world.vault(), name);
  (void)world.keys->PurgeDeletedKey(world.vault(), name);
  return !world.keys->GetKey(world.vault(), name, "").ok() &&
         !world.keys->GetDeletedKey(world.vault(), name).ok();
}

void WriteFile(const std::string& dir, const std::string& name, std::string_view data) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream out(fs::path(dir) / name, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) Fail("cannot write a seed file", dir + "/" + name);
}

std::string SeedOutputDir() {
  const char* dir = std::getenv("COFFRE_FUZZ_WRITE_SEEDS");
  return dir ? std::string(dir) : std::string();
}

}  // namespace coffre::fuzz
