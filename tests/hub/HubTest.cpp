#include "hub/Hub.h"

#include <gtest/gtest.h>

#include <string>

#include "hub/PublishedMessage.h"
#include "net/EventLoop.h"

namespace wsr::hub {
namespace {

config::Config testConfig() {
  config::Config config;
  config::NamespaceConfig plain;  // history 100, no retained value
  plain.historySize = 3;
  config::NamespaceConfig snapshot = plain;
  snapshot.retainLast = true;
  config::NamespaceConfig nothingKept;
  nothingKept.historySize = 0;
  config.namespaces = {{"default", plain}, {"market", snapshot}, {"fire", nothingKept}};
  return config;
}

Publication make(std::string channel, std::string data = R"({"p":1})") {
  Publication publication;
  publication.channel = std::move(channel);
  publication.type = "price_update";
  publication.data = std::move(data);
  return publication;
}

TEST(Hub, SeqStartsAtOneAndCountsPerChannel) {
  const config::Config config = testConfig();
  Hub hub(config);
  EXPECT_EQ(hub.publish(make("stock:A")).seq, 1u);
  EXPECT_EQ(hub.publish(make("stock:A")).seq, 2u);
  EXPECT_EQ(hub.publish(make("stock:B")).seq, 1u);
  EXPECT_EQ(hub.publish(make("stock:A")).seq, 3u);
}

TEST(Hub, InvalidChannelIsRefusedWithItsName) {
  const config::Config config = testConfig();
  Hub hub(config);
  const PublishResult result = hub.publish(make("bad channel"));
  EXPECT_EQ(result.error, PublishError::InvalidChannel);
  EXPECT_EQ(httpStatusOf(result.error), 404);
  EXPECT_EQ(errorCodeOf(result.error), "INVALID_CHANNEL");
  EXPECT_NE(result.message.find("bad channel"), std::string::npos) << result.message;
}

TEST(Hub, HistoryKeepsTheLastPublicationsAsBuiltFrames) {
  const config::Config config = testConfig();
  Hub hub(config);
  for (int i = 0; i < 5; ++i)
    hub.publish(make("stock:A", "{\"i\":" + std::to_string(i) + "}"));
  Channel* channel = hub.channel("stock:A");
  ASSERT_NE(channel, nullptr);
  std::lock_guard lock(channel->mutex);
  History::Replay replay = channel->history.replaySince(1, channel->seq, 0);
  EXPECT_FALSE(replay.complete);  // 2 is gone: the history holds 3
  ASSERT_EQ(replay.messages.size(), 3u);
  EXPECT_EQ(replay.messages.front()->seq, 3u);
  // The frame is the PROTOCOL.md data message, data byte for byte.
  const std::string frame(replay.messages.back()->frames.plain.view());
  EXPECT_NE(frame.find(R"("type":"price_update","channel":"stock:A","seq":5,)"), std::string::npos)
      << frame;
  EXPECT_NE(frame.find(R"("data":{"i":4}})"), std::string::npos) << frame;
}

TEST(Hub, RetainsTheLastValueWhereTheNamespaceSaysSo) {
  const config::Config config = testConfig();
  Hub hub(config);
  hub.publish(make("market"));
  hub.publish(make("market"));
  hub.publish(make("stock:A"));
  {
    Channel* market = hub.channel("market");
    std::lock_guard lock(market->mutex);
    ASSERT_TRUE(market->retained);
    EXPECT_EQ(market->retained->seq, 2u);
  }
  Channel* stock = hub.channel("stock:A");
  std::lock_guard lock(stock->mutex);
  EXPECT_FALSE(stock->retained);
}

TEST(Hub, AChannelNobodyCanSeeCostsOnlyItsSeq) {
  const config::Config config = testConfig();
  Hub hub(config);
  EXPECT_EQ(hub.publish(make("fire:x")).seq, 1u);
  EXPECT_EQ(hub.publish(make("fire:x")).seq, 2u);
  Channel* channel = hub.channel("fire:x");
  std::lock_guard lock(channel->mutex);
  EXPECT_EQ(channel->history.size(), 0u);
  EXPECT_FALSE(channel->retained);
  EXPECT_FALSE(hub.hasSubscribers("fire:x"));
}

TEST(Hub, LargeMessagesGetACompressedTwin) {
  config::Config config = testConfig();
  config.namespaces["default"].compressionThresholdBytes = 200;  // the envelope counts
  Hub hub(config);
  hub.publish(make("stock:A", "{\"text\":\"" + std::string(2000, 'a') + "\"}"));
  hub.publish(make("stock:A", "{\"s\":1}"));
  Channel* channel = hub.channel("stock:A");
  std::lock_guard lock(channel->mutex);
  History::Replay replay = channel->history.replaySince(0, channel->seq, 0);
  ASSERT_EQ(replay.messages.size(), 2u);
  EXPECT_TRUE(replay.messages[0]->frames.compressed);
  EXPECT_LT(replay.messages[0]->frames.compressed.size(), 200u);
  EXPECT_FALSE(replay.messages[1]->frames.compressed);  // under the threshold
}

// Whether the one publication of `data` on stock:A got a compressed twin.
bool publishedCompressed(const config::Config& config, const std::string& data) {
  Hub hub(config);
  hub.publish(make("stock:A", data));
  Channel* channel = hub.channel("stock:A");
  std::lock_guard lock(channel->mutex);
  History::Replay replay = channel->history.replaySince(0, channel->seq, 0);
  return replay.messages.size() == 1 && static_cast<bool>(replay.messages[0]->frames.compressed);
}

TEST(Hub, ThresholdZeroCompressesEveryMessageThatShrinks) {
  config::Config config = testConfig();
  config.namespaces["default"].compressionThresholdBytes = 0;  // documented: compress everything
  EXPECT_TRUE(publishedCompressed(config, "{\"text\":\"" + std::string(100, 'a') + "\"}"));
}

TEST(Hub, NothingIsCompressedWithoutPermessageDeflate) {
  config::Config config = testConfig();
  config.server.perMessageDeflate = false;
  config.namespaces["default"].compressionThresholdBytes = 0;
  EXPECT_FALSE(publishedCompressed(config, "{\"text\":\"" + std::string(2000, 'a') + "\"}"));
}

TEST(Hub, ChannelLimitAndShutdownAnswerUnavailable) {
  const config::Config config = testConfig();
  HubLimits limits;
  limits.maxChannels = 2;
  Hub hub(config, limits);
  EXPECT_TRUE(hub.publish(make("a")).ok());
  EXPECT_TRUE(hub.publish(make("b")).ok());
  EXPECT_EQ(hub.publish(make("c")).error, PublishError::Unavailable);
  EXPECT_TRUE(hub.publish(make("a")).ok());  // existing channels still work
  hub.stopAccepting();
  const PublishResult result = hub.publish(make("a"));
  EXPECT_EQ(result.error, PublishError::Unavailable);
  EXPECT_EQ(httpStatusOf(result.error), 503);
}

TEST(Hub, StatsCountPublicationsPerConfiguredNamespace) {
  const config::Config config = testConfig();
  Hub hub(config);
  hub.publish(make("market"));
  hub.publish(make("stock:A"));
  hub.publish(make("other:B"));  // unconfigured: counted under default
  EXPECT_EQ(hub.statsFor("market").published.load(), 1u);
  EXPECT_EQ(hub.statsFor("default").published.load(), 2u);
  EXPECT_EQ(&hub.statsFor("stock:A"), &hub.statsFor("other:B"));
  EXPECT_NE(hub.statsJson().find(R"("market":{"published":1,)"), std::string::npos)
      << hub.statsJson();
}

TEST(Hub, StampsEachPublicationAndItsFramesWithItsAcceptanceTime) {
  config::Config config = testConfig();
  config.namespaces["default"].compressionThresholdBytes = 200;
  Hub hub(config);
  const uint64_t before = net::EventLoop::monotonicNs();
  hub.publish(make("stock:A", "{\"text\":\"" + std::string(2000, 'a') + "\"}"));
  hub.publish(make("stock:A"));
  const uint64_t after = net::EventLoop::monotonicNs();
  Channel* channel = hub.channel("stock:A");
  std::lock_guard lock(channel->mutex);
  History::Replay replay = channel->history.replaySince(0, channel->seq, 0);
  ASSERT_EQ(replay.messages.size(), 2u);
  const PublishedMessage& first = *replay.messages[0];
  EXPECT_GE(first.acceptedNs, before);
  EXPECT_LE(replay.messages[1]->acceptedNs, after);
  EXPECT_LE(first.acceptedNs, replay.messages[1]->acceptedNs);  // in seq order
  EXPECT_EQ(first.frames.plain.stampNs(), first.acceptedNs);
  EXPECT_EQ(first.frames.compressed.stampNs(), first.acceptedNs);
}

TEST(Hub, CountsCompressionBytesOnlyForPublicationsWithACompressedTwin) {
  config::Config config = testConfig();
  config.namespaces["default"].compressionThresholdBytes = 200;
  Hub hub(config);
  hub.publish(make("stock:A", "{\"s\":1}"));  // under the threshold
  EXPECT_EQ(hub.compressionInputBytes(), 0u);
  hub.publish(make("stock:A", "{\"text\":\"" + std::string(2000, 'a') + "\"}"));
  Channel* channel = hub.channel("stock:A");
  std::lock_guard lock(channel->mutex);
  const PublishedMessage& big = *channel->history.replaySince(1, channel->seq, 0).messages[0];
  EXPECT_EQ(hub.compressionInputBytes(), big.frames.plain.size());
  EXPECT_EQ(hub.compressionOutputBytes(), big.frames.compressed.size());
  EXPECT_LT(hub.compressionOutputBytes(), hub.compressionInputBytes());
}

TEST(Hub, CountsChannelsPerNamespaceAndAnswersSubscribersWithoutCreating) {
  const config::Config config = testConfig();
  Hub hub(config);
  hub.publish(make("market"));
  hub.publish(make("stock:A"));
  hub.publish(make("stock:B"));
  hub.publish(make("stock:A"));
  EXPECT_EQ(hub.statsFor("market").channels.load(), 1u);
  EXPECT_EQ(hub.statsFor("stock:A").channels.load(), 2u);  // default
  EXPECT_EQ(hub.subscribers("market"), 0u);
  EXPECT_EQ(hub.subscribers("never:seen"), 0u);
  EXPECT_EQ(hub.statsFor("never:seen").channels.load(), 2u);  // not created by asking
  EXPECT_EQ(hub.namespaceStats().size(), 3u);
}

}  // namespace
}  // namespace wsr::hub
