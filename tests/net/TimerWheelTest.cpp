#include "net/TimerWheel.h"

#include <gtest/gtest.h>

#include <vector>

namespace wsr::net {
namespace {

struct Recorder : Timer::Handler {
  std::vector<Timer*> fired;
  std::function<void(Timer&)> onFire;
  void onTimer(Timer& timer) override {
    fired.push_back(&timer);
    if (onFire) onFire(timer);
  }
};

TEST(TimerWheel, FiresAtDeadlineNotBefore) {
  Recorder recorder;
  TimerWheel wheel(1000, 10, 64);
  Timer timer(&recorder);
  wheel.schedule(timer, 1055);
  wheel.advance(1050);
  EXPECT_TRUE(recorder.fired.empty());
  EXPECT_TRUE(timer.scheduled());
  wheel.advance(1055);
  ASSERT_EQ(recorder.fired.size(), 1u);
  EXPECT_FALSE(timer.scheduled());
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, DeadlineBeyondOneRevolutionWaitsItsTurn) {
  Recorder recorder;
  TimerWheel wheel(0, 10, 8);  // one revolution = 80 ms
  Timer timer(&recorder);
  wheel.schedule(timer, 250);
  for (uint64_t now = 0; now < 250; now += 10) {
    wheel.advance(now);
    ASSERT_TRUE(recorder.fired.empty()) << "fired early at " << now;
  }
  wheel.advance(250);
  EXPECT_EQ(recorder.fired.size(), 1u);
}

TEST(TimerWheel, PastDeadlineFiresOnNextAdvance) {
  Recorder recorder;
  TimerWheel wheel(5000, 10, 64);
  wheel.advance(6000);
  Timer timer(&recorder);
  wheel.schedule(timer, 10);  // long past
  wheel.advance(6000);
  EXPECT_EQ(recorder.fired.size(), 1u);
}

TEST(TimerWheel, CancelAndRescheduleAfterTheWheelMoved) {
  // A timer filed under an old "current" slot must still unlink cleanly.
  Recorder recorder;
  TimerWheel wheel(0, 10, 16);
  Timer a(&recorder);
  Timer b(&recorder);
  wheel.schedule(a, 0);
  wheel.schedule(b, 500);
  wheel.advance(0);
  ASSERT_EQ(recorder.fired.size(), 1u);
  wheel.advance(300);
  wheel.schedule(b, 320);  // reschedule moves it
  wheel.cancel(b);
  EXPECT_FALSE(b.scheduled());
  EXPECT_EQ(wheel.size(), 0u);
  wheel.advance(1000);
  EXPECT_EQ(recorder.fired.size(), 1u);
}

TEST(TimerWheel, HandlerMayCancelAnotherDueTimer) {
  Recorder recorder;
  TimerWheel wheel(0, 10, 16);
  Timer a(&recorder);
  Timer b(&recorder);
  wheel.schedule(a, 20);
  wheel.schedule(b, 20);
  recorder.onFire = [&](Timer& fired) { wheel.cancel(&fired == &a ? b : a); };
  wheel.advance(30);
  EXPECT_EQ(recorder.fired.size(), 1u);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, HandlerMayReschedule) {
  Recorder recorder;
  TimerWheel wheel(0, 10, 16);
  Timer timer(&recorder);
  int count = 0;
  recorder.onFire = [&](Timer& fired) {
    if (++count < 3) wheel.schedule(fired, wheel.tickMs() * 100 * count);
  };
  wheel.schedule(timer, 5);
  for (uint64_t now = 0; now <= 3000; now += 10)
    wheel.advance(now);
  EXPECT_EQ(count, 3);
}

TEST(TimerWheel, DestroyedTimerLeavesTheWheel) {
  Recorder recorder;
  TimerWheel wheel(0, 10, 16);
  {
    Timer timer(&recorder);
    wheel.schedule(timer, 100);
    EXPECT_EQ(wheel.size(), 1u);
  }
  EXPECT_EQ(wheel.size(), 0u);
  wheel.advance(200);
  EXPECT_TRUE(recorder.fired.empty());
}

}  // namespace
}  // namespace wsr::net
