#include "auth/AddressLimiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace wsr::auth {
namespace {

IpAddress ip(std::string_view text) {
  return IpAddress::parse(text).value_or(IpAddress{});
}

AddressLimiter::Limits limits(uint32_t connections, uint32_t attempts, size_t entries = 1000) {
  AddressLimiter::Limits out;
  out.maxConnections = connections;
  out.maxAttemptsPerMinute = attempts;
  out.maxEntries = entries;
  return out;
}

TEST(AddressLimiter, TheSixthConcurrentConnectionIsRefusedUntilOneCloses) {
  AddressLimiter limiter(limits(5, 0));
  const IpAddress a = ip("192.0.2.1");
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(limiter.admit(a, 1000).admitted);
  const Admission sixth = limiter.admit(a, 1000);
  EXPECT_FALSE(sixth.admitted);
  EXPECT_EQ(sixth.reason, AdmissionRefusal::TooManyConnections);
  EXPECT_EQ(sixth.retryAfterSeconds, AddressLimiter::kRetryAfterConnectionsSeconds);
  EXPECT_TRUE(limiter.admit(ip("192.0.2.2"), 1000).admitted);  // others are not affected
  limiter.release(a);
  EXPECT_TRUE(limiter.admit(a, 1000).admitted);
}

// Issue 11, defect 13: connections still in their handshake hold places.
TEST(AddressLimiter, HandshakesInProgressHoldPlacesWithoutCountingAttempts) {
  AddressLimiter limiter(limits(3, 2));
  const IpAddress a = ip("192.0.2.1");
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(limiter.hold(a, 1000).admitted);  // three idle sockets: no attempt yet
  EXPECT_EQ(limiter.connections(a), 3u);
  const Admission fourth = limiter.hold(a, 1000);
  EXPECT_FALSE(fourth.admitted);
  EXPECT_EQ(fourth.reason, AdmissionRefusal::TooManyConnections);
  EXPECT_EQ(fourth.retryAfterSeconds, AddressLimiter::kRetryAfterConnectionsSeconds);
  EXPECT_FALSE(limiter.admit(a, 1000).admitted);              // an upgrade finds no place
  EXPECT_TRUE(limiter.hold(ip("192.0.2.2"), 1000).admitted);  // others are not affected
  // One head completes: its place is given back and taken by the upgrade.
  limiter.release(a);
  EXPECT_TRUE(limiter.admit(a, 1000).admitted);
  EXPECT_EQ(limiter.connections(a), 3u);
  // Holds made no attempts: the one refused admit() and this one fit in 2.
  for (int i = 0; i < 3; ++i)
    limiter.release(a);
  EXPECT_FALSE(limiter.admit(a, 1000).admitted);  // the third attempt in the minute
  EXPECT_TRUE(limiter.hold(a, 1000).admitted);    // a hold is no attempt
  limiter.release(a);
  limiter.release(ip("192.0.2.2"));
  EXPECT_EQ(limiter.connections(a), 0u);
  limiter.sweep(1000 + AddressLimiter::kWindowMs);
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(AddressLimiter, AttemptsPerMinuteCountRefusalsToo) {
  AddressLimiter limiter(limits(0, 10));
  const IpAddress a = ip("192.0.2.1");
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(limiter.admit(a, 1000 + i * 1000).admitted);
  const Admission eleventh = limiter.admit(a, 20000);
  EXPECT_FALSE(eleventh.admitted);
  EXPECT_EQ(eleventh.reason, AdmissionRefusal::TooManyAttempts);
  // The oldest attempt (t=1 s) leaves the window at 61 s: 41 s from now.
  EXPECT_EQ(eleventh.retryAfterSeconds, 41);
  // Hammering keeps the window full: at 61.5 s the attempts of 2..10 s and
  // the refused one at 20 s are still inside it.
  EXPECT_FALSE(limiter.admit(a, 61500).admitted);
  // A quiet minute later the address is welcome again.
  EXPECT_TRUE(limiter.admit(a, 200000).admitted);
}

TEST(AddressLimiter, ReleasesNeverGoBelowZeroAndUnknownOnesAreCounted) {
  AddressLimiter limiter(limits(2, 0));
  const IpAddress a = ip("192.0.2.1");
  limiter.release(a);
  EXPECT_EQ(limiter.unmatchedReleases(), 1u);
  EXPECT_TRUE(limiter.admit(a, 0).admitted);
  limiter.release(a);
  limiter.release(a);
  EXPECT_EQ(limiter.unmatchedReleases(), 2u);
  EXPECT_EQ(limiter.connections(a), 0u);
}

TEST(AddressLimiter, SweepForgetsIdleAddressesOnly) {
  AddressLimiter limiter(limits(5, 10));
  const IpAddress busy = ip("192.0.2.1");
  const IpAddress gone = ip("192.0.2.2");
  const IpAddress recent = ip("192.0.2.3");
  ASSERT_TRUE(limiter.admit(busy, 0).admitted);
  ASSERT_TRUE(limiter.admit(gone, 0).admitted);
  limiter.release(gone);
  ASSERT_TRUE(limiter.admit(recent, 50000).admitted);
  limiter.release(recent);
  EXPECT_EQ(limiter.size(), 3u);
  limiter.sweep(70000);  // gone's only attempt is older than a minute
  EXPECT_EQ(limiter.size(), 2u);
  EXPECT_EQ(limiter.connections(busy), 1u);
}

TEST(AddressLimiter, AFullTableRefusesNewAddressesAfterSweeping) {
  AddressLimiter limiter(limits(5, 10, 2));
  ASSERT_TRUE(limiter.admit(ip("192.0.2.1"), 0).admitted);
  ASSERT_TRUE(limiter.admit(ip("192.0.2.2"), 0).admitted);
  const Admission third = limiter.admit(ip("192.0.2.3"), 0);
  EXPECT_FALSE(third.admitted);
  EXPECT_EQ(third.reason, AdmissionRefusal::AddressTableFull);
  EXPECT_EQ(limiter.size(), 2u);
  // Known addresses still get in; once one is idle and swept (the periodic
  // sweep; a full table sweeps only the new address's shard), room is made.
  EXPECT_TRUE(limiter.admit(ip("192.0.2.1"), 0).admitted);
  limiter.release(ip("192.0.2.2"));
  limiter.sweep(120000);
  EXPECT_TRUE(limiter.admit(ip("192.0.2.3"), 120000).admitted);
}

TEST(AddressLimiter, ZeroLimitsAreUnlimited) {
  AddressLimiter limiter(limits(0, 0));
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(limiter.admit(ip("192.0.2.1"), 0).admitted);
}

TEST(AddressLimiter, CountersReturnToZeroUnderConcurrency) {
  AddressLimiter limiter(limits(1000, 0));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&limiter, t] {
      for (int i = 0; i < 5000; ++i) {
        const IpAddress a = ip(i % 2 == 0 ? "192.0.2.1" : t % 2 == 0 ? "2001:db8::1" : "192.0.2.9");
        if (limiter.admit(a, i).admitted) limiter.release(a);
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(limiter.connections(ip("192.0.2.1")), 0u);
  EXPECT_EQ(limiter.connections(ip("2001:db8::1")), 0u);
  EXPECT_EQ(limiter.unmatchedReleases(), 0u);
  limiter.sweep(1000000);
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(AddressLimiter, ALeaseGivesItsConnectionBackOnce) {
  AddressLimiter limiter(limits(1, 0));
  const IpAddress a = ip("192.0.2.1");
  {
    ASSERT_TRUE(limiter.admit(a, 0).admitted);
    AddressLease lease(limiter, a);
    AddressLease moved = std::move(lease);
    EXPECT_FALSE(limiter.admit(a, 0).admitted);
  }
  EXPECT_EQ(limiter.connections(a), 0u);
  EXPECT_EQ(limiter.unmatchedReleases(), 0u);
}

}  // namespace
}  // namespace wsr::auth
