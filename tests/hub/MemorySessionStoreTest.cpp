#include "hub/MemorySessionStore.h"

#include <gtest/gtest.h>

namespace wsr::hub {
namespace {

class MemorySessionStoreTest : public ::testing::Test {
 protected:
  TakeResult take(const std::string& id, const std::string& token, const std::string& subject) {
    TakeResult out;
    int calls = 0;
    store_.take(id, token, subject, [&](TakeResult result) {
      out = std::move(result);
      ++calls;
    });
    EXPECT_EQ(calls, 1);  // once, and at once: nothing to wait for in memory
    return out;
  }

  SavedSession session(const std::string& subject) {
    SavedSession s;
    s.subject = subject;
    s.subscriptions = {{"stock:A", 7}};
    return s;
  }

  int64_t now_ = 1000000;
  MemorySessionStore store_{3, [this] { return now_; }};
};

TEST_F(MemorySessionStoreTest, ASessionIsTakenOnceWithItsTokenAndSubject) {
  store_.keep("s-1", "r-1", session("alice"), 60000);
  const TakeResult first = take("s-1", "r-1", "alice");
  ASSERT_EQ(first.outcome, TakeOutcome::Taken);
  EXPECT_EQ(first.session, session("alice"));
  EXPECT_EQ(take("s-1", "r-1", "alice").outcome, TakeOutcome::Unknown);  // used
  EXPECT_EQ(store_.counts().held, 0u);
}

TEST_F(MemorySessionStoreTest, AWrongTokenOrSubjectIsRefusedAndLeavesTheSession) {
  store_.keep("s-1", "r-1", session("alice"), 60000);
  EXPECT_EQ(take("s-1", "r-2", "alice").outcome, TakeOutcome::WrongToken);
  EXPECT_EQ(take("s-1", "r-1", "mallory").outcome, TakeOutcome::OtherSubject);
  EXPECT_EQ(take("s-2", "r-1", "alice").outcome, TakeOutcome::Unknown);
  EXPECT_EQ(take("s-1", "r-1", "alice").outcome, TakeOutcome::Taken);
}

TEST_F(MemorySessionStoreTest, ASessionPastItsWindowIsUnknownAndSweptAway) {
  store_.keep("s-1", "r-1", session("alice"), 500);
  store_.keep("s-2", "r-2", session("bob"), 5000);
  now_ += 500;
  EXPECT_EQ(take("s-1", "r-1", "alice").outcome, TakeOutcome::Unknown);
  EXPECT_EQ(store_.counts().held, 2u);
  store_.sweep(now_);
  EXPECT_EQ(store_.counts().held, 1u);  // bob's is within its window
  EXPECT_EQ(take("s-2", "r-2", "bob").outcome, TakeOutcome::Taken);
}

TEST_F(MemorySessionStoreTest, TheSweepRunsAtMostEveryMinute) {
  store_.sweep(now_);
  store_.keep("s-1", "r-1", session("alice"), 10);
  now_ += 1000;
  store_.sweep(now_);  // within a minute of the last sweep: nothing done
  EXPECT_EQ(store_.counts().held, 1u);
  now_ += 60000;
  store_.sweep(now_);
  EXPECT_EQ(store_.counts().held, 0u);
}

TEST_F(MemorySessionStoreTest, PastItsCapacityASessionIsLostAndCounted) {
  for (int i = 0; i < 4; ++i)
    store_.keep("s-" + std::to_string(i), "r", session("u"), 60000);
  const SessionStore::Counts counts = store_.counts();
  EXPECT_EQ(counts.kept, 4u);
  EXPECT_EQ(counts.lost, 1u);
  EXPECT_EQ(counts.held, 3u);
  EXPECT_EQ(take("s-3", "r", "u").outcome, TakeOutcome::Unknown);
}

}  // namespace
}  // namespace wsr::hub
