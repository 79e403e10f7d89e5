#include "auth/MessageRateLimiter.h"

#include <gtest/gtest.h>

namespace wsr::auth {
namespace {

TEST(MessageRateLimiter, AWholeMinuteMayBurstThenRefillsEvenly) {
  MessageRateLimiter limiter(100);
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(limiter.check(1000), RateVerdict::Allowed) << i;
  EXPECT_EQ(limiter.check(1000), RateVerdict::Limited);
  // 600 ms buys one message at 100 a minute.
  EXPECT_EQ(limiter.check(1600), RateVerdict::Allowed);
  EXPECT_EQ(limiter.check(1600), RateVerdict::Limited);
}

TEST(MessageRateLimiter, GoingOnAfterRefusalsCloses) {
  MessageRateLimiter limiter(10);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(limiter.check(0), RateVerdict::Allowed);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(limiter.check(0), RateVerdict::Limited) << i;
  EXPECT_EQ(limiter.check(0), RateVerdict::Close);
}

TEST(MessageRateLimiter, AnAllowedMessageResetsTheRefusalCount) {
  MessageRateLimiter limiter(10);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(limiter.check(0), RateVerdict::Allowed);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(limiter.check(0), RateVerdict::Limited);
  EXPECT_EQ(limiter.check(6000), RateVerdict::Allowed);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(limiter.check(6000), RateVerdict::Limited) << i;
}

TEST(MessageRateLimiter, LongIdlingRefillsOnlyToTheCapacity) {
  MessageRateLimiter limiter(3);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(limiter.check(0), RateVerdict::Allowed);
  EXPECT_EQ(limiter.check(0), RateVerdict::Limited);
  const int64_t muchLater = int64_t{1} << 50;
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(limiter.check(muchLater), RateVerdict::Allowed) << i;
  EXPECT_EQ(limiter.check(muchLater), RateVerdict::Limited);
}

TEST(MessageRateLimiter, ZeroIsUnlimited) {
  MessageRateLimiter limiter(0);
  for (int i = 0; i < 100000; ++i)
    ASSERT_EQ(limiter.check(0), RateVerdict::Allowed);
}

}  // namespace
}  // namespace wsr::auth
