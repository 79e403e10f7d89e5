#include "broker/Backoff.h"

#include <gtest/gtest.h>

namespace wsr::broker {
namespace {

// Each delay lies between half and all of its step; steps double up to the
// cap; a reset starts again from the first step.
TEST(Backoff, DoublesWithEqualJitterUpToTheCap) {
  Backoff backoff(100, 1000, 7);
  const uint32_t steps[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (uint32_t step : steps) {
    const uint32_t delay = backoff.nextMs();
    EXPECT_GE(delay, step / 2);
    EXPECT_LE(delay, step);
  }
  backoff.reset();
  EXPECT_LE(backoff.nextMs(), 100u);
}

// Instances that lost the same Redis do not come back in step.
TEST(Backoff, TwoInstancesDrawDifferentDelays) {
  Backoff a(1000, 5000, 1);
  Backoff b(1000, 5000, 2);
  int same = 0;
  for (int i = 0; i < 10; ++i)
    same += a.nextMs() == b.nextMs() ? 1 : 0;
  EXPECT_LT(same, 3);
}

}  // namespace
}  // namespace wsr::broker
