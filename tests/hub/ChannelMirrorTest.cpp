// A Channel as a mirror of Redis (broker.type redis): subscribers wait for
// the mirror to be primed, seqs come from Redis and are checked (duplicate,
// hole, new epoch), and the broker hears which channels are watched.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "hub/Channel.h"

namespace wsr::hub {
namespace {

struct RecordingInterest final : ChannelInterest {
  void watched(const std::string& channel) override { events.push_back("+" + channel); }
  void unwatched(const std::string& channel) override { events.push_back("-" + channel); }
  std::vector<std::string> events;
};

std::shared_ptr<const PublishedMessage> message(uint64_t seq, int64_t ts = 1000,
                                                uint64_t origin = 0) {
  auto built = std::make_shared<PublishedMessage>();
  built->seq = seq;
  built->tsMs = ts;
  built->origin = origin;
  return built;
}

class ChannelMirrorTest : public ::testing::Test {
 protected:
  ChannelMirrorTest() { settings_.retainLast = true; }

  std::pair<Channel::Accepted, std::vector<size_t>> accept(uint64_t epoch, uint64_t seq,
                                                           uint64_t origin = 0) {
    std::vector<size_t> workers;
    const auto accepted = channel_.accept(
        epoch, seq, 1000, origin,
        [origin](uint64_t s, Channel::Accepted) { return message(s, 1000, origin); },
        [&](size_t worker, const std::shared_ptr<const PublishedMessage>&) {
          workers.push_back(worker);
        });
    return {accepted, workers};
  }

  config::NamespaceConfig settings_;
  NamespaceTotals totals_;
  RecordingInterest interest_;
  Channel channel_{"stock:A", settings_, 0, totals_, &interest_};
};

TEST_F(ChannelMirrorTest, SubscribersWaitForThePrimeAndTheBrokerHearsOfTheFirstAndLast) {
  const Channel::Subscription first = channel_.subscribe(0, nullptr, 1000);
  EXPECT_TRUE(first.pending);
  EXPECT_TRUE(channel_.subscribe(1, nullptr, 1000).pending);
  EXPECT_EQ(interest_.events, (std::vector<std::string>{"+stock:A"}));

  // Not primed: what Redis publishes meanwhile is not ours (the prime reads it).
  EXPECT_EQ(accept(7, 1).first, Channel::Accepted::Ignored);

  std::vector<size_t> ready;
  channel_.prime(7, 3, {message(2), message(3)}, message(3), [&](size_t w) { ready.push_back(w); });
  EXPECT_EQ(ready, (std::vector<size_t>{0, 1}));
  const Channel::Subscription after = channel_.subscribe(0, nullptr, 1000);
  EXPECT_FALSE(after.pending);
  EXPECT_EQ(after.seq, 3u);
  ASSERT_TRUE(after.retained);
  EXPECT_EQ(after.retained->seq, 3u);
  const uint64_t since = 1;
  const Channel::Subscription replay = channel_.subscribe(0, &since, 1000);
  EXPECT_TRUE(replay.replay.complete);
  EXPECT_EQ(replay.replay.messages.size(), 2u);

  channel_.leave(0);
  channel_.leave(1);
  EXPECT_EQ(interest_.events, (std::vector<std::string>{"+stock:A", "-stock:A"}));
  EXPECT_TRUE(channel_.unprime());
  EXPECT_FALSE(channel_.primed());
  EXPECT_EQ(channel_.seq(), 0u);
  EXPECT_FALSE(channel_.retained());
}

TEST_F(ChannelMirrorTest, TellsNextDuplicateHoleAndRestartApart) {
  channel_.subscribe(2, nullptr, 1000);
  channel_.prime(7, 3, {}, nullptr, [](size_t) {});
  EXPECT_EQ(accept(7, 3).first, Channel::Accepted::Duplicate);
  const auto next = accept(7, 4);
  EXPECT_EQ(next.first, Channel::Accepted::Next);
  EXPECT_EQ(next.second, (std::vector<size_t>{2}));
  EXPECT_EQ(accept(7, 9).first, Channel::Accepted::Hole);
  EXPECT_EQ(channel_.seq(), 9u);
  // Redis lost the channel: a new epoch numbers from 1 again.
  EXPECT_EQ(accept(8, 1).first, Channel::Accepted::Restart);
  EXPECT_EQ(channel_.seq(), 1u);
  EXPECT_EQ(channel_.epoch(), 8u);
  EXPECT_EQ(accept(8, 2).first, Channel::Accepted::Next);
  // The old numbering's history is gone with it.
  const uint64_t since = 0;
  const Channel::Subscription replay = channel_.subscribe(2, &since, 1000);
  ASSERT_EQ(replay.replay.messages.size(), 2u);
  EXPECT_EQ(replay.replay.messages.front()->seq, 1u);
}

TEST_F(ChannelMirrorTest, ASeqSeenAsAnotherPublicationIsADivergenceNotADuplicate) {
  channel_.prime(7, 3, {message(2, 1000, 102), message(3, 1000, 103)}, nullptr, [](size_t) {});
  // The same publications again (a replay after a reconnection): duplicates.
  EXPECT_EQ(accept(7, 3, 103).first, Channel::Accepted::Duplicate);
  EXPECT_EQ(accept(7, 2, 102).first, Channel::Accepted::Duplicate);
  // Without an origin (an older publisher), as before.
  EXPECT_EQ(accept(7, 2).first, Channel::Accepted::Duplicate);
  // The same seqs as other publications: Redis numbered them twice.
  EXPECT_EQ(accept(7, 3, 203).first, Channel::Accepted::Diverged);
  EXPECT_EQ(accept(7, 2, 202).first, Channel::Accepted::Diverged);
  EXPECT_EQ(channel_.seq(), 3u);  // nothing taken from them
  EXPECT_EQ(accept(7, 4, 104).first, Channel::Accepted::Next);
  EXPECT_EQ(accept(7, 4, 204).first, Channel::Accepted::Diverged);  // the last one's origin is kept
  // A seq the history no longer holds cannot be told apart: a duplicate.
  EXPECT_EQ(accept(7, 1, 201).first, Channel::Accepted::Duplicate);
}

TEST_F(ChannelMirrorTest, AChannelNeverPublishedStartsWithoutAnEpoch) {
  channel_.subscribe(0, nullptr, 1000);
  channel_.prime(0, 0, {}, nullptr, [](size_t) {});
  EXPECT_EQ(accept(5, 1).first, Channel::Accepted::Next);
}

TEST_F(ChannelMirrorTest, AWatchedMirrorIsNeitherUnprimedNorDisposable) {
  channel_.subscribe(0, nullptr, 1000);
  channel_.prime(1, 0, {}, nullptr, [](size_t) {});
  EXPECT_FALSE(channel_.unprime());
  channel_.leave(0);
  EXPECT_FALSE(channel_.disposable(1000, 0));  // primed: the broker decides, after the linger
  EXPECT_TRUE(channel_.unprime());
  EXPECT_TRUE(channel_.disposable(1000, 0));
}

// Redis came back without the channel: its old history and retained value
// are not served, and the next publication is still seen as a restart.
TEST_F(ChannelMirrorTest, ForgettingWhatIsStoredKeepsTheNumberingUntilTheRestart) {
  channel_.subscribe(0, nullptr, 1000);
  channel_.prime(7, 3, {message(2), message(3)}, message(3), [](size_t) {});
  channel_.forgetStored();
  EXPECT_FALSE(channel_.retained());
  EXPECT_EQ(channel_.historySize(), 0u);
  EXPECT_EQ(channel_.seq(), 3u);
  EXPECT_EQ(accept(8, 1).first, Channel::Accepted::Restart);
}

TEST(ChannelMemory, WithoutInterestNothingWaits) {
  config::NamespaceConfig settings;
  NamespaceTotals totals;
  Channel channel("a", settings, 0, totals);
  EXPECT_FALSE(channel.subscribe(0, nullptr, 0).pending);
}

}  // namespace
}  // namespace wsr::hub
