// A Store decorator that answers GetKeyVersion and GetSecretVersion from memory for stores whose
// reads are local (secret values stay sealed in it, as in the store).
//
// A GET or a cryptographic operation reads one key version; on SQLite that query was the largest
// single cost of a GET. The cache is exact for writes made through this process: every write
// that can change what GetKeyVersion (GetSecretVersion) returns drops that key's (secret's) entries
// (vault deletion and the scheduled purge: every entry) after it commits and before it returns, and
// a read that raced with a write is not cached (a generation count taken before the read must still
// hold when its result is stored). Writes made elsewhere (another process on the same file) are
// seen within kTtl. Stores whose reads are remote (PostgreSQL replicas, which other processes write
// all the time) are not wrapped.
#pragma once

#include <chrono>
#include <memory>

#include "common/clock.h"
#include "store/store.h"

namespace coffre::store {

inline constexpr std::chrono::milliseconds kKeyVersionCacheTtl{1000};

// Wraps `inner` if its reads are local; otherwise returns it unchanged. Entries age by `clock`'s
// monotonic time.
std::unique_ptr<Store> WithKeyVersionCache(std::unique_ptr<Store> inner,
                                           const Clock& clock = SystemClock::Instance(),
                                           size_t capacity = 4096);

}  // namespace coffre::store
