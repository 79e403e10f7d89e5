#include "hub/Hub.h"

#include <gtest/gtest.h>

#include <string>

#include "hub/PublishedMessage.h"
#include "hub/ServerMessages.h"
#include "hub/WallClock.h"
#include "net/EventLoop.h"
#include "ws/FrameWriter.h"
#include "ws/PerMessageDeflate.h"

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
  std::shared_ptr<Channel> channel = hub.channel("stock:A");
  ASSERT_NE(channel, nullptr);
  History::Replay replay = channel->replaySince(1, 0);
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
    std::shared_ptr<Channel> market = hub.channel("market");
    ASSERT_TRUE(market->retained());
    EXPECT_EQ(market->retained()->seq, 2u);
  }
  std::shared_ptr<Channel> stock = hub.channel("stock:A");
  EXPECT_FALSE(stock->retained());
}

TEST(Hub, AChannelNobodyCanSeeCostsOnlyItsSeq) {
  const config::Config config = testConfig();
  Hub hub(config);
  EXPECT_EQ(hub.publish(make("fire:x")).seq, 1u);
  EXPECT_EQ(hub.publish(make("fire:x")).seq, 2u);
  std::shared_ptr<Channel> channel = hub.channel("fire:x");
  EXPECT_EQ(channel->historySize(), 0u);
  EXPECT_FALSE(channel->retained());
  EXPECT_FALSE(hub.hasSubscribers("fire:x"));
}

TEST(Hub, LargeMessagesGetACompressedTwin) {
  config::Config config = testConfig();
  config.namespaces["default"].compressionThresholdBytes = 200;  // the envelope counts
  Hub hub(config);
  hub.publish(make("stock:A", "{\"text\":\"" + std::string(2000, 'a') + "\"}"));
  hub.publish(make("stock:A", "{\"s\":1}"));
  std::shared_ptr<Channel> channel = hub.channel("stock:A");
  History::Replay replay = channel->replaySince(0, 0);
  ASSERT_EQ(replay.messages.size(), 2u);
  EXPECT_TRUE(replay.messages[0]->frames.compressed);
  EXPECT_LT(replay.messages[0]->frames.compressed.size(), 200u);
  EXPECT_FALSE(replay.messages[1]->frames.compressed);  // under the threshold
}

// The envelope is written straight into the frame: the frames are byte for
// byte those of the envelope string framed and deflated, at every header
// size, with and without a twin.
TEST(Hub, FramesAreTheEnvelopeFramedAndDeflated) {
  config::Config config = testConfig();
  config.namespaces["default"].compressionThresholdBytes = 100;
  Hub hub(config);
  ws::Deflater deflater;
  for (const size_t size : {1u, 60u, 125u, 126u, 1000u, 65535u, 65536u, 100000u}) {
    Publication publication = make("stock:A", "\"" + std::string(size, 'x') + "\"");
    publication.type = "quote\"\n";  // escaped in the envelope
    const std::string type = publication.type;
    const std::string data = publication.data;
    const PublishResult result = hub.publish(std::move(publication));
    ASSERT_TRUE(result.ok()) << result.message;
    const History::Replay replay = hub.channel("stock:A")->replaySince(result.seq - 1, 0);
    ASSERT_EQ(replay.messages.size(), 1u);
    const PublishedMessage& message = *replay.messages[0];
    const ws::PreparedMessage expected = ws::prepareMessage(
        ws::Opcode::Text, dataMessage(type, "stock:A", result.seq, message.tsMs, data), &deflater,
        100);
    EXPECT_EQ(message.frames.plain.view(), expected.plain.view()) << size;
    ASSERT_EQ(bool(message.frames.compressed), bool(expected.compressed)) << size;
    if (expected.compressed) {
      EXPECT_EQ(message.frames.compressed.view(), expected.compressed.view()) << size;
    }
  }
}

// Whether the one publication of `data` on stock:A got a compressed twin.
bool publishedCompressed(const config::Config& config, const std::string& data) {
  Hub hub(config);
  hub.publish(make("stock:A", data));
  std::shared_ptr<Channel> channel = hub.channel("stock:A");
  History::Replay replay = channel->replaySince(0, 0);
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

TEST(Hub, ShutdownAnswersUnavailable) {
  const config::Config config = testConfig();
  Hub hub(config);
  EXPECT_TRUE(hub.publish(make("a")).ok());
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
  EXPECT_EQ(hub.statsFor("market").published, 1u);
  EXPECT_EQ(hub.statsFor("default").published, 2u);
  EXPECT_EQ(hub.namespaceIndex("stock:A"), hub.namespaceIndex("other:B"));
  EXPECT_EQ(hub.namespaces()[hub.namespaceIndex("other:B")], "default");
}

TEST(Hub, StampsEachPublicationAndItsFramesWithItsAcceptanceTime) {
  config::Config config = testConfig();
  config.namespaces["default"].compressionThresholdBytes = 200;
  Hub hub(config);
  const uint64_t before = net::EventLoop::monotonicNs();
  hub.publish(make("stock:A", "{\"text\":\"" + std::string(2000, 'a') + "\"}"));
  hub.publish(make("stock:A"));
  const uint64_t after = net::EventLoop::monotonicNs();
  std::shared_ptr<Channel> channel = hub.channel("stock:A");
  History::Replay replay = channel->replaySince(0, 0);
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
  std::shared_ptr<Channel> channel = hub.channel("stock:A");
  const PublishedMessage& big = *channel->replaySince(1, 0).messages[0];
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
  EXPECT_EQ(hub.statsFor("market").channels, 1u);
  EXPECT_EQ(hub.statsFor("stock:A").channels, 2u);  // default
  EXPECT_EQ(hub.subscribers("market"), 0u);
  EXPECT_EQ(hub.subscribers("never:seen"), 0u);
  EXPECT_EQ(hub.statsFor("never:seen").channels, 2u);  // not created by asking
  EXPECT_EQ(hub.namespaces(), (std::vector<std::string>{"default", "fire", "market"}));
}

TEST(Hub, ANewChannelPastTheCapIsRefusedWithItsOwnCodeAndCounted) {
  const config::Config config = testConfig();
  HubLimits limits;
  limits.maxChannels = 2;
  Hub hub(config, limits);
  EXPECT_TRUE(hub.publish(make("stock:A")).ok());
  EXPECT_TRUE(hub.publish(make("stock:B")).ok());
  const PublishResult refused = hub.publish(make("stock:C"));
  EXPECT_EQ(refused.error, PublishError::ChannelLimit);
  EXPECT_EQ(httpStatusOf(refused.error), 503);
  EXPECT_EQ(errorCodeOf(refused.error), "CHANNEL_LIMIT");
  EXPECT_NE(refused.message.find("limits.max_channels"), std::string::npos) << refused.message;
  EXPECT_EQ(hub.channel("stock:D"), nullptr);
  EXPECT_EQ(hub.channelLimitRefusals(), 2u);
  EXPECT_TRUE(hub.publish(make("stock:A")).ok());  // existing channels go on
}

TEST(Hub, TheSweepRemovesChannelsWithNothingLeftToKeep) {
  const config::Config config = testConfig();
  HubLimits limits;
  limits.idleChannelMs = 60000;
  Hub hub(config, limits);
  hub.publish(make("fire:x"));   // keeps nothing
  hub.publish(make("market"));   // retains its last value
  hub.publish(make("stock:A"));  // history without an age limit
  EXPECT_EQ(hub.channelCount(), 3u);
  const int64_t now = wallClockMs();
  EXPECT_EQ(hub.sweepChannels(now), 0u);  // fire:x was published just now
  EXPECT_EQ(hub.sweepChannels(now + 60000), 1u);
  EXPECT_EQ(hub.channelCount(), 2u);
  EXPECT_EQ(hub.statsFor("fire:x").channels, 0u);
  // Held (a worker's subscribers, a publisher in flight): never removed.
  hub.publish(make("fire:y"));
  std::shared_ptr<Channel> held = hub.channel("fire:y");
  EXPECT_EQ(hub.sweepChannels(now + 120000), 0u);
  held.reset();
  EXPECT_EQ(hub.sweepChannels(now + 120000), 1u);
  // A removed channel starts again at 1.
  EXPECT_EQ(hub.publish(make("fire:x")).seq, 1u);
}

TEST(Hub, AChannelNeverPublishedGoesWhenItsLastHolderReleasesIt) {
  const config::Config config = testConfig();
  Hub hub(config);
  std::shared_ptr<Channel> channel = hub.channel("junk:abc");
  EXPECT_EQ(hub.channelCount(), 1u);
  hub.release(std::move(channel));
  EXPECT_EQ(hub.channelCount(), 0u);
  EXPECT_EQ(hub.statsFor("junk:abc").channels, 0u);
}

}  // namespace
}  // namespace wsr::hub
