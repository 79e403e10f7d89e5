// A connection's messages on their way to the shared count: one addition
// in flight, the rest summed into the next.

#include "auth/SharedMessageTally.h"

#include <gtest/gtest.h>

namespace wsr::auth {
namespace {

TEST(SharedMessageTally, TheFirstMessageIsAddedAtOnce) {
  SharedMessageTally tally;
  EXPECT_EQ(tally.onMessage(), 1u);
  EXPECT_TRUE(tally.inFlight());
}

TEST(SharedMessageTally, MessagesWhileAnAdditionIsInFlightGoTogetherWithTheNext) {
  SharedMessageTally tally;
  ASSERT_EQ(tally.onMessage(), 1u);
  EXPECT_EQ(tally.onMessage(), 0u);
  EXPECT_EQ(tally.onMessage(), 0u);
  EXPECT_EQ(tally.onMessage(), 0u);
  EXPECT_EQ(tally.waiting(), 3u);
  const SharedMessageTally::Next next = tally.onAnswer(1, 100);
  EXPECT_FALSE(next.overLimit);
  EXPECT_EQ(next.add, 3u);
  EXPECT_TRUE(tally.inFlight());
  EXPECT_EQ(tally.waiting(), 0u);
  // That answer with nothing waiting: idle until the next message.
  const SharedMessageTally::Next idle = tally.onAnswer(4, 100);
  EXPECT_EQ(idle.add, 0u);
  EXPECT_FALSE(tally.inFlight());
  EXPECT_EQ(tally.onMessage(), 1u);
}

TEST(SharedMessageTally, ATotalPastTheLimitClosesAndSendsNothingMore) {
  SharedMessageTally tally;
  ASSERT_EQ(tally.onMessage(), 1u);
  tally.onMessage();
  EXPECT_FALSE(tally.onAnswer(20, 20).overLimit);  // at the limit: still allowed
  const SharedMessageTally::Next over = tally.onAnswer(21, 20);
  EXPECT_TRUE(over.overLimit);
  EXPECT_EQ(over.add, 0u);
}

TEST(SharedMessageTally, NoAnswerLeavesTheLocalLimitAloneAndCountsTheRestLater) {
  SharedMessageTally tally;
  ASSERT_EQ(tally.onMessage(), 1u);
  tally.onMessage();
  tally.onMessage();
  const SharedMessageTally::Next next = tally.onAnswer(std::nullopt, 1);
  EXPECT_FALSE(next.overLimit);
  EXPECT_EQ(next.add, 2u);  // the ones waiting still go, when Redis may be back
}

TEST(SharedMessageTally, NoLimitNeverCloses) {
  SharedMessageTally tally;
  tally.onMessage();
  EXPECT_FALSE(tally.onAnswer(1000000, 0).overLimit);
}

}  // namespace
}  // namespace wsr::auth
