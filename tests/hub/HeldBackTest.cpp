// The slow-consumer policies as a pure queue: no socket, no counter.

#include "hub/HeldBack.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "hub/LocalChannel.h"

namespace wsr::hub {
namespace {

std::shared_ptr<const PublishedMessage> message(uint64_t seq, std::string key = "") {
  auto built = std::make_shared<PublishedMessage>();
  built->seq = seq;
  built->key = std::move(key);
  return built;
}

config::NamespaceConfig policy(config::SlowConsumerPolicy which, uint32_t maxMessages,
                               size_t maxBytes = 1 << 20) {
  config::NamespaceConfig settings;
  settings.policy = which;
  settings.queueMaxMessages = maxMessages;
  settings.queueMaxBytes = maxBytes;
  return settings;
}

struct Drop {
  uint64_t seq;
  std::string reason;
  bool operator==(const Drop&) const = default;
};

class HeldBackTest : public ::testing::Test {
 protected:
  HeldBack::Outcome hold(uint64_t seq, const config::NamespaceConfig& settings,
                         LocalChannel* channel = nullptr, std::string key = "",
                         size_t bytes = 100) {
    return queue_.hold(message(seq, std::move(key)), channel != nullptr ? channel : &a_, bytes,
                       settings, [&](const HeldBack::Entry& dropped, std::string_view reason) {
                         drops_.push_back({dropped.message->seq, std::string(reason)});
                       });
  }
  std::vector<uint64_t> held() {
    std::vector<uint64_t> seqs;
    for (const HeldBack::Entry& entry : queue_.takeAll())
      seqs.push_back(entry.message->seq);
    return seqs;
  }

  HeldBack queue_;
  LocalChannel a_, b_;
  std::vector<Drop> drops_;
};

TEST_F(HeldBackTest, DropOldestKeepsTheNewestWithinTheCount) {
  const auto settings = policy(config::SlowConsumerPolicy::DropOldest, 3);
  for (uint64_t seq = 1; seq <= 5; ++seq)
    EXPECT_EQ(hold(seq, settings), HeldBack::Outcome::Held);
  EXPECT_EQ(drops_, (std::vector<Drop>{{1, "slow_consumer"}, {2, "slow_consumer"}}));
  EXPECT_EQ(queue_.bytes(), 300u);
  EXPECT_EQ(held(), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_TRUE(queue_.empty());
  EXPECT_EQ(queue_.bytes(), 0u);
}

TEST_F(HeldBackTest, TheByteLimitDropsAsTheCountDoes) {
  const auto settings = policy(config::SlowConsumerPolicy::DropOldest, 100, 250);
  hold(1, settings);
  hold(2, settings);
  hold(3, settings);  // 300 bytes would not fit: 1 goes
  EXPECT_EQ(drops_, (std::vector<Drop>{{1, "slow_consumer"}}));
  EXPECT_EQ(held(), (std::vector<uint64_t>{2, 3}));
}

TEST_F(HeldBackTest, ConflateReplacesTheSameKeyOfTheSameChannelAndKeepsOrder) {
  const auto settings = policy(config::SlowConsumerPolicy::Conflate, 10);
  hold(1, settings, &a_, "AAPL");
  hold(2, settings, &a_, "MSFT");
  hold(1, settings, &b_, "AAPL");  // another channel's AAPL is another value
  hold(3, settings, &a_, "AAPL");
  EXPECT_EQ(drops_, (std::vector<Drop>{{1, "conflated"}}));
  const std::vector<HeldBack::Entry> entries = queue_.takeAll();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].message->seq, 2u);
  EXPECT_EQ(entries[1].channel, &b_);
  EXPECT_EQ(entries[2].message->seq, 3u);
}

TEST_F(HeldBackTest, ConflateWithoutAMatchingKeyDropsTheOldest) {
  const auto settings = policy(config::SlowConsumerPolicy::Conflate, 2);
  hold(1, settings, &a_, "A");
  hold(2, settings, &a_, "B");
  hold(3, settings, &a_, "C");
  EXPECT_EQ(drops_, (std::vector<Drop>{{1, "slow_consumer"}}));
  EXPECT_EQ(held(), (std::vector<uint64_t>{2, 3}));
}

TEST_F(HeldBackTest, DisconnectDropsNothingAndSaysClose) {
  const auto settings = policy(config::SlowConsumerPolicy::Disconnect, 2);
  EXPECT_EQ(hold(1, settings), HeldBack::Outcome::Held);
  EXPECT_EQ(hold(2, settings), HeldBack::Outcome::Held);
  EXPECT_EQ(hold(3, settings), HeldBack::Outcome::Disconnect);
  EXPECT_TRUE(drops_.empty());
  EXPECT_EQ(held(), (std::vector<uint64_t>{1, 2}));
}

TEST_F(HeldBackTest, ForgetDropsOneChannelsMessagesAndTheirBytes) {
  const auto settings = policy(config::SlowConsumerPolicy::DropOldest, 10);
  hold(1, settings, &a_, "", 10);
  hold(1, settings, &b_, "", 20);
  hold(2, settings, &a_, "", 30);
  queue_.forget(&a_);
  EXPECT_EQ(queue_.size(), 1u);
  EXPECT_EQ(queue_.bytes(), 20u);
  EXPECT_TRUE(drops_.empty());  // not a drop: the subscription ended
}

}  // namespace
}  // namespace wsr::hub
