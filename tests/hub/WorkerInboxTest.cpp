// The bounded inbox alone: what it keeps, what it sheds (and reports), in
// what order the worker takes the rest.

#include "hub/WorkerInbox.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace wsr::hub {
namespace {

constexpr uint64_t kNoAgeBound = 0;
constexpr size_t kEverything = 1000000;

std::shared_ptr<const PublishedMessage> message(const std::string& channel, uint64_t seq,
                                                const std::string& key = "",
                                                uint64_t acceptedNs = 0) {
  auto out = std::make_shared<PublishedMessage>();
  out->channel = channel;
  out->seq = seq;
  out->key = key;
  out->acceptedNs = acceptedNs;
  return out;
}

bool conflatesC(std::string_view channel) {
  return channel.starts_with("c:");
}

struct Taken {
  std::vector<std::pair<std::string, uint64_t>> messages;
  std::vector<WorkerInbox::Shed> shed;
  bool more = false;
};

Taken takeAll(WorkerInbox& inbox, uint64_t nowNs = 0, size_t most = kEverything) {
  std::vector<std::shared_ptr<const PublishedMessage>> taken;
  Taken out;
  out.more = inbox.take(most, nowNs, taken, out.shed);
  for (const auto& m : taken)
    out.messages.emplace_back(m->channel, m->seq);
  return out;
}

using Seqs = std::vector<std::pair<std::string, uint64_t>>;

const WorkerInbox::Shed* shedOf(const Taken& taken, const std::string& channel) {
  for (const WorkerInbox::Shed& shed : taken.shed)
    if (shed.channel == channel) return &shed;
  return nullptr;
}

TEST(WorkerInbox, NeverHoldsMoreThanItsCap) {
  WorkerInbox inbox(16, kNoAgeBound, conflatesC);
  for (uint64_t seq = 1; seq <= 100; ++seq) {
    inbox.push(message(seq % 3 == 0 ? "a" : "b", seq));
    EXPECT_LE(inbox.depth(), 16u);
  }
  EXPECT_EQ(inbox.depth(), 16u);
  EXPECT_EQ(inbox.shedTotal(), 84u);
  const Taken taken = takeAll(inbox);
  EXPECT_EQ(taken.messages.size(), 16u);
  EXPECT_EQ(inbox.depth(), 0u);
  EXPECT_FALSE(taken.more);
}

TEST(WorkerInbox, ShedsTheOldestOfTheArrivingChannel) {
  WorkerInbox inbox(4, kNoAgeBound, conflatesC);
  inbox.push(message("a", 1));
  inbox.push(message("b", 1));
  inbox.push(message("a", 2));
  inbox.push(message("b", 2));
  inbox.push(message("a", 3));  // full: a 1 goes, b keeps both
  const Taken taken = takeAll(inbox);
  EXPECT_EQ(taken.messages, (Seqs{{"b", 1}, {"a", 2}, {"b", 2}, {"a", 3}}));
  ASSERT_EQ(taken.shed.size(), 1u);
  EXPECT_EQ(taken.shed[0].channel, "a");
  EXPECT_EQ(taken.shed[0].count, 1u);
  EXPECT_EQ(taken.shed[0].upTo, 1u);
  EXPECT_TRUE(taken.shed[0].trailing);
}

TEST(WorkerInbox, ShedsTheOldestOfAnyChannelWhenItsOwnHasNone) {
  WorkerInbox inbox(2, kNoAgeBound, conflatesC);
  inbox.push(message("a", 1));
  inbox.push(message("b", 1));
  inbox.push(message("c", 7));
  const Taken taken = takeAll(inbox);
  EXPECT_EQ(taken.messages, (Seqs{{"b", 1}, {"c", 7}}));
  ASSERT_NE(shedOf(taken, "a"), nullptr);
  EXPECT_EQ(shedOf(taken, "a")->upTo, 1u);
  EXPECT_TRUE(shedOf(taken, "a")->trailing);  // nothing later of a shows the hole
}

TEST(WorkerInbox, ConflateReplacesTheSameKeyBeforeTheOldest) {
  WorkerInbox inbox(3, kNoAgeBound, conflatesC);
  inbox.push(message("c:x", 1, "k2"));
  inbox.push(message("c:x", 2, "k1"));
  inbox.push(message("c:x", 3, "k3"));
  inbox.push(message("c:x", 4, "k1"));  // replaces seq 2, not the oldest
  const Taken taken = takeAll(inbox);
  EXPECT_EQ(taken.messages, (Seqs{{"c:x", 1}, {"c:x", 3}, {"c:x", 4}}));
  ASSERT_EQ(taken.shed.size(), 1u);
  EXPECT_EQ(taken.shed[0].upTo, 2u);
}

TEST(WorkerInbox, OutsideAConflateNamespaceKeysDoNotMatter) {
  WorkerInbox inbox(3, kNoAgeBound, conflatesC);
  inbox.push(message("x", 1, "k2"));
  inbox.push(message("x", 2, "k1"));
  inbox.push(message("x", 3, "k3"));
  inbox.push(message("x", 4, "k1"));
  EXPECT_EQ(takeAll(inbox).messages, (Seqs{{"x", 2}, {"x", 3}, {"x", 4}}));
}

TEST(WorkerInbox, ConflateWithoutTheKeyShedsTheOldestOfTheChannel) {
  WorkerInbox inbox(3, kNoAgeBound, conflatesC);
  inbox.push(message("c:x", 1, "k1"));
  inbox.push(message("c:x", 2, "k2"));
  inbox.push(message("c:x", 3, "k3"));
  inbox.push(message("c:x", 4, "k4"));
  EXPECT_EQ(takeAll(inbox).messages, (Seqs{{"c:x", 2}, {"c:x", 3}, {"c:x", 4}}));
}

TEST(WorkerInbox, PublicationsPastTheMaxDelayAreShedWhenTaken) {
  WorkerInbox inbox(16, 1000, conflatesC);
  inbox.push(message("a", 1, "", 100));
  inbox.push(message("a", 2, "", 200));
  inbox.push(message("a", 3, "", 900));
  inbox.push(message("b", 1, "", 100));
  const Taken taken = takeAll(inbox, 1250);  // 1 and 2 of a, 1 of b waited > 1000 ns
  EXPECT_EQ(taken.messages, (Seqs{{"a", 3}}));
  ASSERT_NE(shedOf(taken, "a"), nullptr);
  EXPECT_EQ(shedOf(taken, "a")->count, 2u);
  EXPECT_EQ(shedOf(taken, "a")->upTo, 2u);
  ASSERT_NE(shedOf(taken, "b"), nullptr);
  EXPECT_TRUE(shedOf(taken, "b")->trailing);
  EXPECT_EQ(inbox.shedTotal(), 3u);
}

TEST(WorkerInbox, AHoleWithLaterPublicationsWaitingIsNotTrailing) {
  WorkerInbox inbox(2, kNoAgeBound, conflatesC);
  inbox.push(message("a", 1));
  inbox.push(message("a", 2));
  inbox.push(message("a", 3));  // sheds 1
  Taken first = takeAll(inbox, 0, 1);
  EXPECT_EQ(first.messages, (Seqs{{"a", 2}}));
  EXPECT_TRUE(first.more);
  ASSERT_EQ(first.shed.size(), 1u);
  EXPECT_FALSE(first.shed[0].trailing);  // 3 is still waiting
  EXPECT_EQ(first.shed[0].upTo, 1u);
  Taken second = takeAll(inbox);
  EXPECT_EQ(second.messages, (Seqs{{"a", 3}}));
  EXPECT_FALSE(second.more);
}

TEST(WorkerInbox, WakesTheWorkerOncePerDrain) {
  WorkerInbox inbox(16, kNoAgeBound, conflatesC);
  EXPECT_TRUE(inbox.push(message("a", 1)));
  EXPECT_FALSE(inbox.push(message("a", 2)));
  Taken taken = takeAll(inbox, 0, 1);
  EXPECT_TRUE(taken.more);
  EXPECT_FALSE(inbox.push(message("a", 3)));  // the next take is still due
  taken = takeAll(inbox);
  EXPECT_FALSE(taken.more);
  EXPECT_TRUE(inbox.push(message("a", 4)));
}

TEST(WorkerInbox, KeepsOrderThroughManyShedsAndCompactions) {
  WorkerInbox inbox(16, kNoAgeBound, conflatesC);
  std::vector<uint64_t> last(3, 0);
  for (uint64_t i = 1; i <= 5000; ++i) {
    const size_t channel = i % 7 == 0 ? 0 : (i % 2 == 0 ? 1 : 2);
    inbox.push(message("ch" + std::to_string(channel), ++last[channel]));
    ASSERT_LE(inbox.depth(), 16u);
  }
  const Taken taken = takeAll(inbox);
  ASSERT_EQ(taken.messages.size(), 16u);
  EXPECT_EQ(inbox.shedTotal(), 5000u - 16u);
  // Each channel kept its newest ones, consecutive and in order, and what
  // it shed ends just below them.
  std::vector<std::vector<uint64_t>> kept(3);
  for (const auto& [channel, seq] : taken.messages)
    kept[static_cast<size_t>(channel[2] - '0')].push_back(seq);
  for (size_t index = 0; index < 3; ++index) {
    const std::string channel = "ch" + std::to_string(index);
    for (size_t k = 0; k < kept[index].size(); ++k)
      EXPECT_EQ(kept[index][k], last[index] - kept[index].size() + 1 + k) << channel;
    const WorkerInbox::Shed* shed = shedOf(taken, channel);
    ASSERT_NE(shed, nullptr) << channel;
    EXPECT_EQ(shed->upTo, last[index] - kept[index].size()) << channel;
  }
}

// Channels whose publications have all been taken are kept for a while
// (no allocation for their next one), then swept: thousands of them come
// and go, and a channel coming back is as good as new.
TEST(WorkerInbox, ChannelsComeAndGoThroughTheSweep) {
  WorkerInbox inbox(16, kNoAgeBound, conflatesC);
  for (uint64_t i = 0; i < 5000; ++i) {
    const std::string channel = (i % 2 == 0 ? "c:" : "p:") + std::to_string(i);
    inbox.push(message(channel, 1, "k"));
    inbox.push(message(channel, 2, "k"));
    const Taken taken = takeAll(inbox);
    ASSERT_EQ(taken.messages, (Seqs{{channel, 1}, {channel, 2}}));
    ASSERT_TRUE(taken.shed.empty());
  }
  // Back again, past the cap: its own oldest goes, its key replaced first.
  for (uint64_t seq = 1; seq <= 16; ++seq)
    inbox.push(message("c:0", seq, "k" + std::to_string(seq)));
  inbox.push(message("c:0", 17, "k5"));
  const Taken taken = takeAll(inbox);
  ASSERT_EQ(taken.messages.size(), 16u);
  EXPECT_EQ(taken.messages[4], (std::pair<std::string, uint64_t>{"c:0", 6}));
  ASSERT_EQ(taken.shed.size(), 1u);
  EXPECT_EQ(taken.shed[0].upTo, 5u);
}

TEST(WorkerInbox, ARestartedNumberingIsNeverShed) {
  WorkerInbox inbox(2, 1000, conflatesC);
  auto restart = std::make_shared<PublishedMessage>();
  restart->channel = "a";
  restart->seq = 1;
  restart->restart = true;
  inbox.push(restart);
  inbox.push(message("a", 2));
  inbox.push(message("a", 3));               // the oldest is the restart: kept, one over
  const Taken taken = takeAll(inbox, 5000);  // aged too, but kept
  ASSERT_FALSE(taken.messages.empty());
  EXPECT_EQ(taken.messages.front(), (std::pair<std::string, uint64_t>{"a", 1}));
}

}  // namespace
}  // namespace wsr::hub
