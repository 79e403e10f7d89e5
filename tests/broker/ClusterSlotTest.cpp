#include "broker/ClusterSlot.h"

#include <gtest/gtest.h>

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
