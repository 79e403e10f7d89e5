// What Redis said about who listens to a channel (RedisBroker::hasSubscribers).

#include "broker/ChannelAudience.h"

#include <gtest/gtest.h>

namespace wsr::broker {
namespace {

TEST(ChannelAudience, UnknownChannelsMayBeListenedTo) {
  ChannelAudience audience(1000, 10);
  EXPECT_TRUE(audience.mayListen("a", 5000));
}

TEST(ChannelAudience, NobodyAtTheLastPublicationHoldsForTheRecheckInterval) {
  ChannelAudience audience(1000, 10);
  audience.published("a", 0, 5000);
  EXPECT_FALSE(audience.mayListen("a", 5000));
  EXPECT_FALSE(audience.mayListen("a", 5999));
  EXPECT_TRUE(audience.mayListen("a", 6000));  // worth a publication to ask again
  EXPECT_TRUE(audience.mayListen("b", 5000));
  audience.published("a", 0, 6000);  // asked again: still nobody
  EXPECT_FALSE(audience.mayListen("a", 6500));
  audience.published("a", 2, 6600);  // two instances subscribed now
  EXPECT_TRUE(audience.mayListen("a", 6601));
  EXPECT_EQ(audience.remembered(), 0u);
  audience.published("a", 0, 7000);
  audience.published("a", -1, 7001);  // Redis did not say: publish
  EXPECT_TRUE(audience.mayListen("a", 7002));
}

TEST(ChannelAudience, TheTableIsBounded) {
  ChannelAudience audience(1000, 3);
  for (const char* name : {"a", "b", "c", "d"})
    audience.published(name, 0, 5000);
  EXPECT_EQ(audience.remembered(), 3u);
  EXPECT_TRUE(audience.mayListen("d", 5000));  // not remembered: counts as heard
  // Once the entries aged past the interval they are swept for new ones.
  audience.published("e", 0, 6500);
  EXPECT_EQ(audience.remembered(), 1u);
  EXPECT_FALSE(audience.mayListen("e", 6500));
}

}  // namespace
}  // namespace wsr::broker
