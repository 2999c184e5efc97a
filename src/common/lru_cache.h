// LruCache: a bounded, thread-safe map from string keys to values that drops the least
// recently used entry when full. The hot paths use it to keep the results of expensive,
// deterministic work (unsealing a key, decoding a public key, checking a token's signature).
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace coffre {

template <typename Value>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // A copy of the value, marked as most recently used; nullopt if absent.
  std::optional<Value> Get(std::string_view key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }

  // Inserts or replaces, then trims to capacity.
  void Put(std::string key, Value value) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->second = std::move(value);
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    lru_.emplace_front(std::move(key), std::move(value));
    index_.emplace(lru_.front().first, lru_.begin());
    while (lru_.size() > capacity_) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }

  void Erase(std::string_view key) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
      lru_.erase(it->second);
      index_.erase(it);
    }
  }

  void Clear() {
    std::lock_guard lock(mutex_);
    index_.clear();
    lru_.clear();
  }

  // Drops every entry whose key satisfies `predicate(key)`.
  template <typename Predicate>
  void EraseIf(Predicate predicate) {
    std::lock_guard lock(mutex_);
    for (auto it = lru_.begin(); it != lru_.end();) {
      if (predicate(std::string_view(it->first))) {
        index_.erase(it->first);
        it = lru_.erase(it);
      } else {
        ++it;
      }
    }
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return lru_.size();
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Entry = std::pair<std::string, Value>;

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  // Keys are views of the list's strings, which never move while their node lives.
  std::unordered_map<std::string_view, typename std::list<Entry>::iterator, Hash, std::equal_to<>>
      index_;
};

}  // namespace coffre
