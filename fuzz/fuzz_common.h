// Shared pieces of the fuzz targets: deterministic keys and clock (so tokens and backup blobs in
// the committed corpora stay valid), a scratch directory, a byte reader for splitting inputs,
// and a "world" of real server objects (SQLite store, barrier, token authority, services,
// router) over a vault "dev".
//
// Every target defines LLVMFuzzerInitialize and LLVMFuzzerTestOneInput. The libFuzzer build
// links each target on its own; the replay build (fuzz/replay_main.cc, any compiler) renames the
// two entry points per target and links them all into one binary that runs saved inputs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/access_checker.h"
#include "auth/identity_endpoints.h"
#include "auth/token_authority.h"
#include "coffre/status.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "http/router.h"
#include "service/crypto_service.h"
#include "service/key_material.h"
#include "service/key_service.h"
#include "service/material_barrier.h"
#include "service/vault_directory.h"
#include "store/store.h"

namespace coffre::fuzz {

// 2026-01-01T00:00:00Z: the fixed time of every fuzzing clock.
inline constexpr int64_t kNow = 1767225600;
inline constexpr char kTenant[] = "11111111-2222-4333-8444-555555555555";
inline constexpr char kHost[] = "dev.localhost:8443";
inline constexpr char kResource[] = "https://localhost:8443";

// The fixed 32-byte master key of every fuzzing barrier.
SecureBytes MasterKey();
// The fixed P-256 token signing key.
crypto::AsymmetricKey TokenSigningKey();
auth::Identity DevIdentity();

// Aborts (a crash libFuzzer reports) with a message when a property does not hold.
[[noreturn]] void Fail(const char* what, std::string_view detail = {});
#define COFFRE_FUZZ_CHECK(cond, detail)                                   \
  do {                                                                    \
    if (!(cond)) ::coffre::fuzz::Fail(#cond " (" __FILE__ ")", (detail)); \
  } while (0)

// A directory for this process's files (under /dev/shm when it exists, so SQLite's fsyncs
// cost nothing), removed at exit. `name` makes a subdirectory, emptied first.
std::string ScratchDir(std::string_view name);

// Whether `text` is a JSON document boost::json accepts (valid UTF-8 included).
bool IsValidJson(std::string_view text);

// Splits an input into pieces.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ == size_; }
  size_t remaining() const { return size_ - pos_; }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>((U8() << 8) | U8()); }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | U8();
    return v;
  }
  // Up to n bytes.
  ByteSpan Take(size_t n) {
    n = std::min(n, remaining());
    ByteSpan out(data_ + pos_, n);
    pos_ += n;
    return out;
  }
  // A 16-bit big-endian length, then that many bytes (fewer at the end of the input).
  ByteSpan Prefixed() { return Take(U16()); }
  ByteSpan Rest() { return Take(remaining()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// The server's objects over a fresh SQLite database in `dir`, with vault "dev" (retention 90
// days, no purge protection, access policy granting the dev identity every key permission).
class World {
 public:
  explicit World(const std::string& dir);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // A valid bearer token for the dev identity and kResource.
  const std::string& token() const { return token_; }
  const store::VaultRecord& vault() const { return vault_; }

  ManualClock clock{kNow};
  std::unique_ptr<store::Store> store;
  std::unique_ptr<service::MaterialBarrier> barrier;
  std::unique_ptr<auth::TokenAuthority> tokens;
  std::unique_ptr<auth::IdentityEndpoints> identity;
  std::unique_ptr<auth::AccessChecker> access;
  std::unique_ptr<service::VaultDirectory> vaults;
  std::unique_ptr<service::KeyService> keys;
  std::unique_ptr<service::CryptoService> crypto;
  std::unique_ptr<http::Router> router;

 private:
  store::VaultRecord vault_;
  std::string token_;
};

// Removes `name` from the vault entirely (delete, then purge); true if it is gone.
bool RemoveKey(World& world, const std::string& name);

// Writes `data` to dir/name (for seed generation: COFFRE_FUZZ_WRITE_SEEDS=dir).
void WriteFile(const std::string& dir, const std::string& name, std::string_view data);
// The directory named by COFFRE_FUZZ_WRITE_SEEDS, or empty.
std::string SeedOutputDir();

}  // namespace coffre::fuzz
