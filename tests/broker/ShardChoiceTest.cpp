#include "broker/ShardChoice.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wsr::broker {
namespace {

// The published FNV-1a 64 vectors: every build of every instance must
// agree on them, or instances would pick different Redis for a channel.
TEST(ShardChoice, Fnv1a64MatchesTheReferenceVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

// Values of the paper's algorithm (42/57 and 256/1024 are those Go's
// go-jump tests with): a change here reshuffles every deployment.
TEST(ShardChoice, JumpHashMatchesTheReferenceImplementation) {
  EXPECT_EQ(jumpConsistentHash(0, 1), 0u);
  EXPECT_EQ(jumpConsistentHash(0, 100), 0u);
  EXPECT_EQ(jumpConsistentHash(42, 57), 43u);
  EXPECT_EQ(jumpConsistentHash(256, 1024), 520u);
  EXPECT_EQ(jumpConsistentHash(0xdeadbeefULL, 10), 5u);
  EXPECT_EQ(jumpConsistentHash(0x0ddc0ffeebadf00dULL, 128), 113u);
}

std::vector<std::string> names(int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i)
    out.push_back("stock:" + std::to_string(i));
  return out;
}

TEST(ShardChoice, ChannelsSpreadOverEveryShard) {
  constexpr size_t kShards = 3;
  size_t counts[kShards] = {};
  for (const std::string& name : names(3000)) {
    const size_t shard = shardOf(name, kShards);
    ASSERT_LT(shard, kShards);
    ++counts[shard];
  }
  for (size_t count : counts) {
    EXPECT_GT(count, 800u);
    EXPECT_LT(count, 1200u);
  }
}

// The same name, the same shard, every time; one shard takes everything.
TEST(ShardChoice, StableAndTrivialForOneShard) {
  for (const std::string& name : names(200)) {
    EXPECT_EQ(shardOf(name, 3), shardOf(name, 3));
    EXPECT_EQ(shardOf(name, 1), 0u);
  }
}

// Consistent: adding a shard at the end moves channels only to the new
// one, and about 1/n of them.
TEST(ShardChoice, AddingAShardMovesChannelsOnlyToIt) {
  size_t moved = 0;
  const std::vector<std::string> all = names(4000);
  for (const std::string& name : all) {
    const size_t before = shardOf(name, 3);
    const size_t after = shardOf(name, 4);
    if (before != after) {
      EXPECT_EQ(after, 3u) << name;
      ++moved;
    }
  }
  EXPECT_GT(moved, all.size() / 4 - 200);
  EXPECT_LT(moved, all.size() / 4 + 200);
}

}  // namespace
}  // namespace wsr::broker
