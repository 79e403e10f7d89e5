// The fixed windows of the limits shared by the instances.

#include "auth/SharedWindow.h"

#include <gtest/gtest.h>

namespace wsr::auth {
namespace {

TEST(SharedWindow, WindowsAreWallClockMinutesFromTheEpoch) {
  EXPECT_EQ(sharedWindowNumber(0), 0);
  EXPECT_EQ(sharedWindowNumber(59999), 0);
  EXPECT_EQ(sharedWindowNumber(60000), 1);
  // 2026-12-04T16:30:00.000Z and the millisecond before it.
  EXPECT_EQ(sharedWindowNumber(1796401800000), 29940030);
  EXPECT_EQ(sharedWindowNumber(1796401799999), 29940029);
  EXPECT_EQ(sharedWindowNumber(-1), -1);  // floor, not truncation
}

TEST(SharedWindow, RetryAfterIsTheWholeSecondsLeftInTheWindow) {
  EXPECT_EQ(sharedWindowSecondsLeft(0), 60);
  EXPECT_EQ(sharedWindowSecondsLeft(1), 60);  // 59.999 s, rounded up
  EXPECT_EQ(sharedWindowSecondsLeft(59000), 1);
  EXPECT_EQ(sharedWindowSecondsLeft(59999), 1);
  EXPECT_EQ(sharedWindowSecondsLeft(60000 + 30500), 30);
}

TEST(SharedWindow, AKeyOutlivesItsWindowByOne) {
  EXPECT_EQ(kSharedCountTtlMs, 2 * kSharedWindowMs);
}

TEST(SharedWindow, ATotalIsOverTheLimitOnlyPastIt) {
  EXPECT_FALSE(overSharedLimit(10, 10));
  EXPECT_TRUE(overSharedLimit(11, 10));
  EXPECT_FALSE(overSharedLimit(1000000, 0));  // 0: no limit
}

}  // namespace
}  // namespace wsr::auth
