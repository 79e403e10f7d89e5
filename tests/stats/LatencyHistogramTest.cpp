#include "stats/LatencyHistogram.h"

#include <gtest/gtest.h>

namespace wsr::stats {
namespace {

size_t bucketOf(uint64_t ns) {
  LatencyHistogram histogram;
  histogram.observe(ns);
  LatencyHistogram::Snapshot snapshot;
  histogram.addTo(snapshot);
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    if (snapshot.counts[i] == 1) return i;
  }
  return SIZE_MAX;
}

TEST(LatencyHistogram, BoundsAreInclusiveUpperBoundsFrom100MicrosecondsTo10Seconds) {
  EXPECT_EQ(LatencyHistogram::kBoundsNs.front(), 100'000u);
  EXPECT_EQ(LatencyHistogram::kBoundsNs.back(), 10'000'000'000u);
  for (size_t i = 1; i < LatencyHistogram::kBoundsNs.size(); ++i) {
    EXPECT_LT(LatencyHistogram::kBoundsNs[i - 1], LatencyHistogram::kBoundsNs[i]);
  }
  EXPECT_EQ(bucketOf(0), 0u);
  EXPECT_EQ(bucketOf(100'000), 0u);  // le="0.0001"
  EXPECT_EQ(bucketOf(100'001), 1u);
  EXPECT_EQ(bucketOf(1'000'000), 3u);  // le="0.001"
  EXPECT_EQ(bucketOf(10'000'000'000), 15u);
  EXPECT_EQ(bucketOf(10'000'000'001), 16u);  // +Inf
  EXPECT_EQ(bucketOf(UINT64_MAX), 16u);
}

TEST(LatencyHistogram, CountsAndSumsObservations) {
  LatencyHistogram histogram;
  histogram.observe(50'000);
  histogram.observe(50'000);
  histogram.observe(3'000'000);
  LatencyHistogram::Snapshot snapshot;
  histogram.addTo(snapshot);
  EXPECT_EQ(snapshot.counts[0], 2u);
  EXPECT_EQ(snapshot.counts[5], 1u);  // (2.5 ms, 5 ms]
  EXPECT_EQ(snapshot.count(), 3u);
  EXPECT_EQ(snapshot.sumNs, 3'100'000u);
}

TEST(LatencyHistogram, SnapshotsOfSeveralWorkersAddUp) {
  LatencyHistogram a;
  LatencyHistogram b;
  a.observe(200'000);
  b.observe(200'000);
  b.observe(20'000'000'000);
  LatencyHistogram::Snapshot sum;
  a.addTo(sum);
  b.addTo(sum);
  EXPECT_EQ(sum.counts[1], 2u);
  EXPECT_EQ(sum.counts[16], 1u);
  EXPECT_EQ(sum.count(), 3u);
  EXPECT_EQ(sum.sumNs, 20'000'400'000u);
}

}  // namespace
}  // namespace wsr::stats
