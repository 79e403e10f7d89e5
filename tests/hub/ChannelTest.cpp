// Channel's locking rules: who gets a publication, in what order, and that
// a publication's frames are built without the lock a subscribing worker
// takes.

#include "hub/Channel.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>
#include <utility>
#include <vector>

namespace wsr::hub {
namespace {

std::shared_ptr<const PublishedMessage> message(uint64_t seq) {
  auto built = std::make_shared<PublishedMessage>();
  built->seq = seq;
  return built;
}

struct Delivery {
  size_t worker;
  uint64_t seq;
  bool operator==(const Delivery&) const = default;
};

class ChannelTest : public ::testing::Test {
 protected:
  // Publishes once; returns the deliveries it made.
  std::vector<Delivery> publish(Channel& channel, int64_t tsMs = 1000) {
    std::vector<Delivery> out;
    channel.publish(
        tsMs, [](uint64_t seq) { return message(seq); },
        [&](size_t worker, const std::shared_ptr<const PublishedMessage>& m) {
          out.push_back({worker, m->seq});
        });
    return out;
  }

  config::NamespaceConfig keepsNothing() {
    config::NamespaceConfig settings;
    settings.historySize = 0;
    return settings;
  }

  NamespaceTotals totals_;
};

// server.workers allows 1,024: a 64-bit mask was undefined from the 65th on.
TEST_F(ChannelTest, HandsPublicationsToEveryWorkerWithSubscribersBeyondTheSixtyFourth) {
  const config::NamespaceConfig settings = keepsNothing();
  Channel channel("stock:A", settings, 0, totals_);
  for (size_t worker : {0u, 63u, 64u, 70u, 1023u})
    channel.subscribe(worker, nullptr, 0);
  EXPECT_EQ(publish(channel),
            (std::vector<Delivery>{{0, 1}, {63, 1}, {64, 1}, {70, 1}, {1023, 1}}));
  channel.leave(64);
  channel.leave(1023);
  EXPECT_EQ(publish(channel), (std::vector<Delivery>{{0, 2}, {63, 2}, {70, 2}}));
  EXPECT_TRUE(channel.hasWorker(70));
  EXPECT_FALSE(channel.hasWorker(64));
}

// A 1 MiB publication compresses for milliseconds: a worker whose client
// subscribes meanwhile must not wait for it.
TEST_F(ChannelTest, FramesAreBuiltWithoutTheLockASubscribingWorkerTakes) {
  const config::NamespaceConfig settings;  // history: frames are always built
  Channel channel("stock:A", settings, 0, totals_);
  channel.subscribe(0, nullptr, 0);
  std::future_status subscribedDuringBuild = std::future_status::timeout;
  uint64_t seqSeenBySubscriber = 99;
  channel.publish(
      1000,
      [&](uint64_t seq) {
        // Another worker subscribes while this publication is being built.
        auto done = std::async(std::launch::async,
                               [&] { seqSeenBySubscriber = channel.subscribe(1, nullptr, 0).seq; });
        subscribedDuringBuild = done.wait_for(std::chrono::seconds(5));
        return message(seq);
      },
      [](size_t, const std::shared_ptr<const PublishedMessage>&) {});
  EXPECT_EQ(subscribedDuringBuild, std::future_status::ready);
  // It joined before seq 1 was stored: seq 1 is handed to it too.
  EXPECT_EQ(seqSeenBySubscriber, 0u);
  EXPECT_EQ(channel.seq(), 1u);
}

TEST_F(ChannelTest, ConcurrentPublishersHandOffInSeqOrder) {
  const config::NamespaceConfig settings = keepsNothing();
  Channel channel("stock:A", settings, 0, totals_);
  channel.subscribe(0, nullptr, 0);
  std::vector<uint64_t> handed;  // under the state lock: no other guard needed
  auto publisher = [&] {
    for (int i = 0; i < 2000; ++i) {
      channel.publish(
          1000, [](uint64_t seq) { return message(seq); },
          [&](size_t, const std::shared_ptr<const PublishedMessage>& m) {
            handed.push_back(m->seq);
          });
    }
  };
  std::thread a(publisher);
  std::thread b(publisher);
  a.join();
  b.join();
  ASSERT_EQ(handed.size(), 4000u);
  for (size_t i = 0; i < handed.size(); ++i)
    ASSERT_EQ(handed[i], i + 1);
}

TEST_F(ChannelTest, NothingIsBuiltWhenNobodyCanSeeIt) {
  const config::NamespaceConfig settings = keepsNothing();
  Channel channel("fire:x", settings, 0, totals_);
  int built = 0;
  auto build = [&](uint64_t seq) {
    ++built;
    return message(seq);
  };
  auto ignore = [](size_t, const std::shared_ptr<const PublishedMessage>&) {};
  EXPECT_EQ(channel.publish(1000, build, ignore), 1u);
  EXPECT_EQ(built, 0);
  channel.subscribe(3, nullptr, 0);
  EXPECT_EQ(channel.publish(1000, build, ignore), 2u);
  EXPECT_EQ(built, 1);
}

TEST_F(ChannelTest, SubscribeReplaysHistoryOrGivesTheRetainedValue) {
  config::NamespaceConfig settings;
  settings.historySize = 10;
  settings.retainLast = true;
  Channel channel("market", settings, 0, totals_);
  for (int i = 0; i < 3; ++i)
    publish(channel);
  const uint64_t since = 1;
  Channel::Subscription replayed = channel.subscribe(0, &since, 1000);
  EXPECT_EQ(replayed.seq, 3u);
  EXPECT_TRUE(replayed.replay.complete);
  ASSERT_EQ(replayed.replay.messages.size(), 2u);
  EXPECT_EQ(replayed.replay.messages[0]->seq, 2u);
  EXPECT_FALSE(replayed.retained);
  Channel::Subscription fresh = channel.subscribe(1, nullptr, 1000);
  ASSERT_TRUE(fresh.retained);
  EXPECT_EQ(fresh.retained->seq, 3u);
}

TEST_F(ChannelTest, DisposableOnlyWhenNothingIsLeftToAskFor) {
  const config::NamespaceConfig nothing = keepsNothing();
  Channel never("junk:1", nothing, 0, totals_);
  EXPECT_TRUE(never.disposable(0, 60000));  // never published: nothing to keep
  never.subscriberAdded();
  EXPECT_FALSE(never.disposable(0, 60000));
  never.subscriberRemoved();

  Channel published("fire:x", nothing, 0, totals_);
  publish(published, 1000);
  EXPECT_FALSE(published.disposable(1000 + 59999, 60000));  // its seq still counts
  EXPECT_TRUE(published.disposable(1000 + 60000, 60000));

  config::NamespaceConfig aging;
  aging.historySize = 5;
  aging.historyMaxAgeMs = 10000;
  Channel history("stock:A", aging, 0, totals_);
  publish(history, 1000);
  EXPECT_FALSE(history.disposable(1000 + 10000, 0));  // history still within its age
  EXPECT_TRUE(history.disposable(1000 + 10001, 0));

  config::NamespaceConfig retaining = nothing;
  retaining.retainLast = true;
  Channel retained("market", retaining, 0, totals_);
  publish(retained, 1000);
  EXPECT_FALSE(retained.disposable(1000000000, 0));  // its last value is served forever
}

}  // namespace
}  // namespace wsr::hub
