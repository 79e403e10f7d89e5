#include "broker/ClusterSlot.h"

#include <gtest/gtest.h>

#include "broker/ClusterRedirect.h"
#include "broker/RedisKeys.h"

namespace wsr::broker {
namespace {

// The Redis Cluster specification's test vector.
TEST(ClusterSlot, Crc16IsTheSpecsXmodem) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(crc16(""), 0);
}

// Slots as `CLUSTER KEYSLOT` answers them (Redis 7.0).
TEST(ClusterSlot, KeySlotHonoursHashTagsAsRedisDoes) {
  EXPECT_EQ(keySlot("123456789"), 0x31C3 % 16384);
  EXPECT_EQ(keySlot("foo"), 12182);
  EXPECT_EQ(keySlot("{user1000}.following"), keySlot("user1000"));
  EXPECT_EQ(keySlot("{user1000}.followers"), keySlot("{user1000}.following"));
  EXPECT_EQ(keySlot("user1000"), 3443);
  // An empty tag is no tag: the whole key is hashed.
  EXPECT_EQ(keySlot("foo{}{bar}"), crc16("foo{}{bar}") % 16384);
  // Only the first `{` and the next `}` count.
  EXPECT_EQ(keySlot("foo{{bar}}zap"), keySlot("{bar"));
  EXPECT_EQ(keySlot("foo{bar}{zap}"), keySlot("bar"));
}

// Every key of a channel is on the channel's slot.
TEST(ClusterSlot, AChannelsKeysShareItsSlot) {
  for (const char* channel : {"stock:AAPL", "market", "fx:EUR-USD", "a"}) {
    const uint16_t slot = channelSlot(channel);
    EXPECT_EQ(keySlot(seqKey(channel)), slot) << channel;
    EXPECT_EQ(keySlot(streamKey(channel)), slot) << channel;
    EXPECT_EQ(keySlot(lastKey(channel)), slot) << channel;
    EXPECT_EQ(keySlot(pubsubChannel(channel)), slot) << channel;
  }
}

}  // namespace
}  // namespace wsr::broker

namespace wsr::broker {
namespace {

TEST(ClusterRedirect, MovedAndAskAreReadOthersAreNot) {
  const auto moved = parseClusterRedirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->address, "127.0.0.1:6381");
  const auto ask = parseClusterRedirect("ASK 0 redis-2:7000");
  ASSERT_TRUE(ask);
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->slot, 0);
  EXPECT_EQ(ask->address, "redis-2:7000");
  for (const char* other :
       {"TRYAGAIN Multiple keys request during rehashing of slot", "NOSCRIPT No matching script",
        "MOVED", "MOVED 16384 h:1", "MOVED x h:1", "ASK 12 "}) {
    EXPECT_FALSE(parseClusterRedirect(other)) << other;
  }
}

}  // namespace
}  // namespace wsr::broker
