#include "common/lru_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace coffre {
namespace {

TEST(LruCacheTest, GetReturnsWhatWasPutAndNothingElse) {
  LruCache<int> cache(4);
  EXPECT_FALSE(cache.Get("a").has_value());
  cache.Put("a", 1);
  cache.Put("b", 2);
  EXPECT_EQ(cache.Get("a"), 1);
  EXPECT_EQ(cache.Get("b"), 2);
  cache.Put("a", 3);  // replaces
  EXPECT_EQ(cache.Get("a"), 3);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(LruCacheTest, DropsTheLeastRecentlyUsedWhenFull) {
  LruCache<int> cache(2);
  cache.Put("a", 1);
  cache.Put("b", 2);
  ASSERT_EQ(cache.Get("a"), 1);  // "b" is now the least recently used
  cache.Put("c", 3);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Get("a"), 1);
  EXPECT_FALSE(cache.Get("b").has_value());
  EXPECT_EQ(cache.Get("c"), 3);
}

TEST(LruCacheTest, EraseAndEraseIf) {
  LruCache<int> cache(8);
  cache.Put("v1\nk1\na", 1);
  cache.Put("v1\nk1\nb", 2);
  cache.Put("v1\nk2\na", 3);
  cache.Erase("v1\nk2\na");
  EXPECT_FALSE(cache.Get("v1\nk2\na").has_value());
  cache.EraseIf([](std::string_view key) { return key.starts_with("v1\nk1\n"); });
  EXPECT_EQ(cache.size(), 0u);
  cache.Erase("absent");  // no effect
  EXPECT_EQ(cache.size(), 0u);
}

TEST(LruCacheTest, ConcurrentUseKeepsTheBound) {
  LruCache<std::string> cache(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string key = std::to_string((t * 7919 + i) % 200);
        if (auto hit = cache.Get(key)) {
          EXPECT_EQ(*hit, "value-" + key);
        } else {
          cache.Put(key, "value-" + key);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(cache.size(), 64u);
}

}  // namespace
}  // namespace coffre
