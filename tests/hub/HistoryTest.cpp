#include "hub/History.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "hub/PublishedMessage.h"

namespace wsr::hub {

// Declared a friend by History: looks at the ring's storage.
struct HistoryInspector {
  static size_t slots(const History& history) { return history.ring_.size(); }
  static size_t allocated(const History& history) { return history.ring_.capacity(); }
  static const void* storage(const History& history) { return history.ring_.data(); }
};

namespace {

using Message = std::shared_ptr<const PublishedMessage>;

Message makeMessage(uint64_t seq, int64_t tsMs = 0) {
  auto message = std::make_shared<PublishedMessage>();
  message->channel = "stock:AAPL";
  message->seq = seq;
  message->tsMs = tsMs;
  return message;
}

// Appends seqs first..last, the publication of seq s stamped at ts(s).
void appendRange(History& history, uint64_t first, uint64_t last, int64_t tsStep = 0) {
  for (uint64_t seq = first; seq <= last; ++seq) {
    const auto ts = static_cast<int64_t>(seq) * tsStep;
    history.append(makeMessage(seq, ts), seq, ts);
  }
}

std::vector<uint64_t> seqsOf(const History::Replay& replay) {
  std::vector<uint64_t> seqs;
  for (const auto& message : replay.messages)
    seqs.push_back(message->seq);
  return seqs;
}

std::vector<uint64_t> range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> seqs;
  for (uint64_t seq = first; seq <= last; ++seq)
    seqs.push_back(seq);
  return seqs;
}

TEST(History, StartsEmpty) {
  History history(8, 0);
  EXPECT_EQ(history.size(), 0u);
  EXPECT_EQ(history.oldestSeq(), 0u);
  EXPECT_EQ(HistoryInspector::allocated(history), 0u);  // nothing until the first append
}

TEST(History, KeepsAtMostCapacity) {
  History history(5, 0);
  appendRange(history, 1, 3);
  EXPECT_EQ(history.size(), 3u);
  EXPECT_EQ(history.oldestSeq(), 1u);
  appendRange(history, 4, 12);
  EXPECT_EQ(history.size(), 5u);
  EXPECT_EQ(history.oldestSeq(), 8u);
  const History::Replay replay = history.replaySince(7, 12, 0);
  EXPECT_TRUE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(8, 12));
}

TEST(History, DropsEntriesOlderThanMaxAge) {
  History history(100, 1000);
  appendRange(history, 1, 10, 100);  // seq s at ts 100 * s
  EXPECT_EQ(history.size(), 10u);
  // At 1500, the cutoff is 500: ts 100..400 go, ts 500 (not older) stays.
  history.expire(1500);
  EXPECT_EQ(history.oldestSeq(), 5u);
  EXPECT_EQ(history.size(), 6u);
  history.expire(1500);  // idempotent
  EXPECT_EQ(history.size(), 6u);
  history.expire(100000);
  EXPECT_EQ(history.size(), 0u);
  EXPECT_EQ(history.oldestSeq(), 0u);
}

TEST(History, AppendExpiresByTheNewEntrysTime) {
  History history(100, 1000);
  history.append(makeMessage(1), 1, 0);
  history.append(makeMessage(2), 2, 500);
  history.append(makeMessage(3), 3, 1600);  // cutoff 600: 1 and 2 go
  EXPECT_EQ(history.size(), 1u);
  EXPECT_EQ(history.oldestSeq(), 3u);
}

TEST(History, NoAgeLimitKeepsEverything) {
  History history(4, 0);
  appendRange(history, 1, 4, 1);
  history.expire(INT64_MAX);
  EXPECT_EQ(history.size(), 4u);
}

TEST(History, AgeArithmeticDoesNotOverflow) {
  History history(4, UINT64_MAX);
  history.append(makeMessage(1), 1, INT64_MIN);
  history.expire(INT64_MAX);  // age 2^64 - 1, not more than the limit
  EXPECT_EQ(history.size(), 1u);
  History tight(4, 1);
  tight.append(makeMessage(1), 1, INT64_MIN);
  tight.expire(INT64_MAX);
  EXPECT_EQ(tight.size(), 0u);
  // A clock going backwards expires nothing.
  History back(4, 10);
  back.append(makeMessage(1), 1, 1000);
  back.expire(0);
  EXPECT_EQ(back.size(), 1u);
}

TEST(History, ReplayComplete) {
  History history(10, 0);
  appendRange(history, 1, 6);
  History::Replay replay = history.replaySince(3, 6, 0);
  EXPECT_TRUE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(4, 6));
  // Replaying leaves the history as it was.
  EXPECT_EQ(history.size(), 6u);
  replay = history.replaySince(0, 6, 0);
  EXPECT_TRUE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(1, 6));
  replay = history.replaySince(5, 6, 0);
  EXPECT_TRUE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(6, 6));
}

TEST(History, ReplayIncompleteReportsTheMissingRange) {
  History history(4, 0);
  appendRange(history, 1, 10);  // holds 7..10
  const History::Replay replay = history.replaySince(2, 10, 0);
  EXPECT_FALSE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(7, 10));
  EXPECT_EQ(replay.missingFrom, 3u);
  EXPECT_EQ(replay.missingTo, 6u);
}

TEST(History, ReplayJustBeforeTheOldestIsComplete) {
  History history(4, 0);
  appendRange(history, 1, 10);  // holds 7..10
  EXPECT_TRUE(history.replaySince(6, 10, 0).complete);
  const History::Replay replay = history.replaySince(5, 10, 0);
  EXPECT_FALSE(replay.complete);
  EXPECT_EQ(replay.missingFrom, 6u);
  EXPECT_EQ(replay.missingTo, 6u);
}

TEST(History, ReplaySinceTheNewestOrLaterIsCompleteAndEmpty) {
  History history(4, 0);
  appendRange(history, 1, 10);
  for (uint64_t since : {10u, 11u, 1000u}) {
    const History::Replay replay = history.replaySince(since, 10, 0);
    EXPECT_TRUE(replay.complete) << since;
    EXPECT_TRUE(replay.messages.empty()) << since;
  }
  EXPECT_TRUE(history.replaySince(UINT64_MAX, 10, 0).complete);
}

TEST(History, ReplaySinceOlderThanEverything) {
  History history(3, 0);
  appendRange(history, 1, 100);  // holds 98..100
  const History::Replay replay = history.replaySince(0, 100, 0);
  EXPECT_FALSE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(98, 100));
  EXPECT_EQ(replay.missingFrom, 1u);
  EXPECT_EQ(replay.missingTo, 97u);
}

TEST(History, ReplayWhenEverythingExpired) {
  History history(10, 1000);
  appendRange(history, 1, 5, 100);
  const History::Replay replay = history.replaySince(2, 5, 10000);
  EXPECT_FALSE(replay.complete);
  EXPECT_TRUE(replay.messages.empty());
  EXPECT_EQ(replay.missingFrom, 3u);
  EXPECT_EQ(replay.missingTo, 5u);
  EXPECT_EQ(history.size(), 0u);  // replay expired them
}

TEST(History, ReplayExpiresFirst) {
  History history(10, 1000);
  appendRange(history, 1, 5, 100);                                 // ts 100..500
  const History::Replay replay = history.replaySince(0, 5, 1350);  // cutoff 350
  EXPECT_FALSE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(4, 5));
  EXPECT_EQ(replay.missingFrom, 1u);
  EXPECT_EQ(replay.missingTo, 3u);
}

TEST(History, CapacityZeroHoldsNothing) {
  History history(0, 0);
  appendRange(history, 1, 50);
  EXPECT_EQ(history.size(), 0u);
  EXPECT_EQ(history.oldestSeq(), 0u);
  EXPECT_EQ(HistoryInspector::allocated(history), 0u);
  const History::Replay replay = history.replaySince(10, 50, 0);
  EXPECT_FALSE(replay.complete);
  EXPECT_TRUE(replay.messages.empty());
  EXPECT_EQ(replay.missingFrom, 11u);
  EXPECT_EQ(replay.missingTo, 50u);
  EXPECT_TRUE(history.replaySince(50, 50, 0).complete);
  // A channel nobody published to.
  EXPECT_TRUE(History(0, 0).replaySince(0, 0, 0).complete);
}

TEST(History, ReplayOnlyHeldNewestMissingReportsTheTail) {
  // Held entries stop before lastSeq (the channel did not append them).
  History history(10, 0);
  appendRange(history, 1, 5);
  const History::Replay replay = history.replaySince(3, 8, 0);
  EXPECT_FALSE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(4, 5));
  EXPECT_EQ(replay.missingFrom, 6u);
  EXPECT_EQ(replay.missingTo, 8u);
  // Held entries past lastSeq are not replayed.
  const History::Replay upTo = history.replaySince(1, 3, 0);
  EXPECT_TRUE(upTo.complete);
  EXPECT_EQ(seqsOf(upTo), range(2, 3));
}

TEST(History, SeqDiscontinuityClearsTheRing) {
  History history(10, 0);
  appendRange(history, 1, 5);
  history.append(makeMessage(9), 9, 0);  // 6..8 never came: start again at 9
  EXPECT_EQ(history.size(), 1u);
  EXPECT_EQ(history.oldestSeq(), 9u);
  History::Replay replay = history.replaySince(3, 9, 0);
  EXPECT_FALSE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(9, 9));
  EXPECT_EQ(replay.missingFrom, 4u);
  EXPECT_EQ(replay.missingTo, 8u);

  // Going backwards (a reset channel) or repeating a seq clears too.
  history.append(makeMessage(10), 10, 0);
  history.append(makeMessage(2), 2, 0);
  EXPECT_EQ(history.size(), 1u);
  EXPECT_EQ(history.oldestSeq(), 2u);
  history.append(makeMessage(2), 2, 0);
  EXPECT_EQ(history.size(), 1u);
  appendRange(history, 3, 4);
  replay = history.replaySince(1, 4, 0);
  EXPECT_TRUE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(2, 4));
}

TEST(History, AnySeqMayStartAnEmptyRing) {
  History history(4, 1000);
  history.append(makeMessage(1000), 1000, 0);
  EXPECT_EQ(history.oldestSeq(), 1000u);
  history.expire(5000);
  history.append(makeMessage(7), 7, 5000);  // empty after expiry: accepted as is
  EXPECT_EQ(history.size(), 1u);
  EXPECT_EQ(history.oldestSeq(), 7u);
}

TEST(History, DroppedEntriesReleaseTheirMessages) {
  History history(2, 1000);
  auto first = makeMessage(1);
  std::weak_ptr<const PublishedMessage> weakFirst = first;
  history.append(std::move(first), 1, 0);
  appendRange(history, 2, 3);  // 1 overwritten
  EXPECT_TRUE(weakFirst.expired());

  auto aged = makeMessage(4, 100);
  std::weak_ptr<const PublishedMessage> weakAged = aged;
  history.append(std::move(aged), 4, 100);
  history.expire(5000);
  EXPECT_TRUE(weakAged.expired());

  auto cleared = makeMessage(5, 5000);
  std::weak_ptr<const PublishedMessage> weakCleared = cleared;
  history.append(std::move(cleared), 5, 5000);
  history.append(makeMessage(50, 5000), 50, 5000);  // discontinuity
  EXPECT_TRUE(weakCleared.expired());
}

TEST(History, StorageStopsGrowingAtCapacity) {
  constexpr size_t kCapacity = 100;
  History history(kCapacity, 0);
  appendRange(history, 1, 3);
  // Lazily allocated: a few entries do not reserve the whole capacity.
  EXPECT_GT(HistoryInspector::allocated(history), 0u);
  EXPECT_LT(HistoryInspector::allocated(history), kCapacity);
  appendRange(history, 4, kCapacity);
  EXPECT_EQ(HistoryInspector::slots(history), kCapacity);
  EXPECT_EQ(HistoryInspector::allocated(history), kCapacity);
  const void* storage = HistoryInspector::storage(history);
  // Many laps around the ring: no reallocation, the bound holds.
  appendRange(history, kCapacity + 1, 10 * kCapacity + 37);
  EXPECT_EQ(HistoryInspector::storage(history), storage);
  EXPECT_EQ(HistoryInspector::allocated(history), kCapacity);
  EXPECT_EQ(history.size(), kCapacity);
  const History::Replay replay = history.replaySince(10 * kCapacity + 37 - kCapacity, 1037, 0);
  EXPECT_TRUE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(938, 1037));
}

TEST(History, GrowingAfterWrapKeepsTheOrder) {
  // Expiry moves the head, the ring wraps inside its first storage, then
  // must grow: the unrolled order must survive.
  History history(1000, 100);
  appendRange(history, 1, 10, 1);  // seq s at ts s
  history.expire(105);             // cutoff 5: 1..4 go, the head moves
  EXPECT_EQ(history.oldestSeq(), 5u);
  const size_t firstSlots = HistoryInspector::slots(history);
  appendRange(history, 11, 4 + firstSlots, 1);  // exactly full, wrapped
  EXPECT_EQ(HistoryInspector::slots(history), firstSlots);
  appendRange(history, 5 + firstSlots, 5 + firstSlots, 1);  // grows
  EXPECT_GT(HistoryInspector::slots(history), firstSlots);
  const uint64_t last = 5 + firstSlots;
  History::Replay replay = history.replaySince(4, last, static_cast<int64_t>(last));
  EXPECT_TRUE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(5, last));
  appendRange(history, last + 1, 600, 0);
  replay = history.replaySince(4, 600, 0);
  EXPECT_TRUE(replay.complete);
  EXPECT_EQ(seqsOf(replay), range(5, 600));
  EXPECT_LE(HistoryInspector::allocated(history), 1000u);
}

TEST(History, RandomisedAgainstAModel) {
  // A straightforward model: every seq with its ts, filtered on demand.
  constexpr size_t kCapacity = 37;
  constexpr uint64_t kMaxAge = 50;
  History history(kCapacity, kMaxAge);
  uint64_t state = 12345;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  int64_t now = 0;
  for (uint64_t seq = 1; seq <= 3000; ++seq) {
    now += static_cast<int64_t>(next() % 5);
    history.append(makeMessage(seq, now), seq, now);
    if (next() % 10 != 0) continue;
    const uint64_t since = next() % (seq + 2);
    const int64_t at = now + static_cast<int64_t>(next() % 20);
    const History::Replay replay = history.replaySince(since, seq, at);
    // The model: the last kCapacity seqs whose ts is not older than at - kMaxAge.
    std::vector<uint64_t> expected;
    const uint64_t lowest = seq > kCapacity ? seq - kCapacity + 1 : 1;
    for (uint64_t s = std::max(lowest, since + 1); s <= seq; ++s)
      expected.push_back(s);
    std::vector<uint64_t> got = seqsOf(replay);
    // Expired ones are a prefix; check what is held is a suffix of the model.
    ASSERT_LE(got.size(), expected.size());
    ASSERT_TRUE(std::equal(got.rbegin(), got.rend(), expected.rbegin())) << seq;
    for (const auto& message : replay.messages)
      ASSERT_GE(message->tsMs, at - int64_t{kMaxAge});
    if (since >= seq) {
      ASSERT_TRUE(replay.complete);
    } else if (!got.empty() && got.front() == since + 1) {
      ASSERT_TRUE(replay.complete);
    } else {
      ASSERT_FALSE(replay.complete);
      ASSERT_EQ(replay.missingFrom, since + 1);
      ASSERT_EQ(replay.missingTo, got.empty() ? seq : got.front() - 1);
    }
  }
  EXPECT_EQ(HistoryInspector::allocated(history), kCapacity);
}

}  // namespace
}  // namespace wsr::hub
