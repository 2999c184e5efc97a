// Internal to crypto/: per-thread EVP_PKEY_CTXs kept ready for the private-key operations that
// run again and again on the same keys (sign, OAEP decrypt). Setting up a context (provider
// method fetch, key reference, padding and digest parameters) costs about as much as an ECDSA
// P-256 signature itself; a ready one is used as is.
//
// Safety: a context is found only for the very key object it was made from (the EVP_PKEY the
// caller's AsymmetricKey shares), never by name or version, so it cannot outlive a rotation or
// serve another key. It is used only after the caller's checks (access, enabled, key_ops,
// validity window, algorithm): the service loads and checks the key on every request and hands
// the checked material to the crypto functions, which are the only users. Entries whose key was
// dropped (deleted, purged, evicted from the material cache) are freed at the thread's next
// lookup; OpenSSL clears the private key's numbers when the last reference goes. Bounded: a few
// entries per thread, least recently used evicted.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "crypto/asymmetric_key.h"
#include "crypto/ossl_util.h"

namespace coffre::crypto::internal {

class ReadyContexts {
 public:
  static constexpr size_t kCapacity = 8;

  // The calling thread's contexts.
  static ReadyContexts& ForThisThread();

  // The ready context for (key, purpose), or nullptr. `purpose` tells apart contexts of one key
  // set up differently (operation, padding, digest).
  EVP_PKEY_CTX* Find(const AsymmetricKey& key, uint32_t purpose);
  // Keeps `ctx` for (key, purpose), evicting the least recently used entry when full; returns it.
  EVP_PKEY_CTX* Keep(const AsymmetricKey& key, uint32_t purpose, PkeyCtxPtr ctx);
  // Forgets the context for (key, purpose) (after a failed operation: never reuse its state).
  void Drop(const AsymmetricKey& key, uint32_t purpose);
  size_t size() const;

 private:
  struct Entry {
    std::weak_ptr<evp_pkey_st> key;  // identity only; the context holds its own reference
    uint32_t purpose = 0;
    PkeyCtxPtr ctx;
    uint64_t last_use = 0;
  };
  Entry* Lookup(const AsymmetricKey& key, uint32_t purpose);
  std::array<Entry, kCapacity> entries_;
  uint64_t uses_ = 0;
};

// A ready context for (key, purpose): the cached one, or a new one from `make()` (a PkeyCtxPtr,
// empty on failure), kept for next time.
template <typename Make>
EVP_PKEY_CTX* ReadyContext(const AsymmetricKey& key, uint32_t purpose, Make&& make) {
  ReadyContexts& ready = ReadyContexts::ForThisThread();
  if (EVP_PKEY_CTX* ctx = ready.Find(key, purpose)) return ctx;
  PkeyCtxPtr made = make();
  if (!made) return nullptr;
  return ready.Keep(key, purpose, std::move(made));
}

}  // namespace coffre::crypto::internal
