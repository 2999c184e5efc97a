#include "crypto/ready_contexts.h"

namespace coffre::crypto::internal {
namespace {

bool SameOwner(const std::weak_ptr<evp_pkey_st>& a, const std::shared_ptr<evp_pkey_st>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

}  // namespace

ReadyContexts& ReadyContexts::ForThisThread() {
  thread_local ReadyContexts contexts;
  return contexts;
}

ReadyContexts::Entry* ReadyContexts::Lookup(const AsymmetricKey& key, uint32_t purpose) {
  Entry* found = nullptr;
  for (Entry& entry : entries_) {
    if (!entry.ctx) continue;
    // A weak_ptr keeps its control block, so an expired entry can never match a new key that
    // happens to get the same address; free it now.
    if (entry.key.expired()) {
      entry = Entry{};
      continue;
    }
    if (found == nullptr && entry.purpose == purpose && SameOwner(entry.key, key.shared_native())) {
      found = &entry;
    }
  }
  return found;
}

EVP_PKEY_CTX* ReadyContexts::Find(const AsymmetricKey& key, uint32_t purpose) {
  Entry* entry = Lookup(key, purpose);
  if (entry == nullptr) return nullptr;
  entry->last_use = ++uses_;
  return entry->ctx.get();
}

EVP_PKEY_CTX* ReadyContexts::Keep(const AsymmetricKey& key, uint32_t purpose, PkeyCtxPtr ctx) {
  Entry* slot = Lookup(key, purpose);
  if (slot == nullptr) {
    slot = &entries_[0];
    for (Entry& entry : entries_) {
      if (!entry.ctx) {
        slot = &entry;
        break;
      }
      if (entry.last_use < slot->last_use) slot = &entry;
    }
  }
  *slot = Entry{key.shared_native(), purpose, std::move(ctx), ++uses_};
  return slot->ctx.get();
}

void ReadyContexts::Drop(const AsymmetricKey& key, uint32_t purpose) {
  if (Entry* entry = Lookup(key, purpose)) *entry = Entry{};
}

size_t ReadyContexts::size() const {
  size_t n = 0;
  for (const Entry& entry : entries_) n += entry.ctx ? 1 : 0;
  return n;
}

}  // namespace coffre::crypto::internal
