#pragma once
// A latency histogram for the data path: fixed bucket bounds from 100 us to
// 10 s, one writer thread (a worker), any number of readers. observe() is a
// short scan of the bounds and two single-writer adds: no lock, no
// allocation, no locked instruction. Readers (the /metrics scrape) add each
// worker's histogram into a Snapshot and expose the sum.
//
// Beside the single-writer counters, below every concern that counts: the
// engine times its own writes (publish-to-write), the hub its fan-out.
// Exposition is telemetry's business (telemetry/MetricFamilies.h), which
// knows nothing of this type: it takes bounds, counts and a sum.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stats/SingleWriter.h"

namespace wsr::stats {

class LatencyHistogram {
 public:
  // Upper bounds (inclusive, as Prometheus's `le`), in nanoseconds; one more
  // bucket past the last counts everything slower.
  static constexpr std::array<uint64_t, 16> kBoundsNs = {
      100'000,       250'000,       500'000,       1'000'000,      2'500'000,   5'000'000,
      10'000'000,    25'000'000,    50'000'000,    100'000'000,    250'000'000, 500'000'000,
      1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000,
  };
  static constexpr size_t kBuckets = kBoundsNs.size() + 1;

  // The bounds in seconds, as the exposition takes them; made once.
  static const std::vector<double>& boundsSeconds() {
    static const std::vector<double> bounds = [] {
      std::vector<double> out;
      out.reserve(kBoundsNs.size());
      for (uint64_t ns : kBoundsNs)
        out.push_back(static_cast<double>(ns) / 1e9);
      return out;
    }();
    return bounds;
  }

  // What readers sum: per-bucket counts (not cumulative; the last one is
  // +Inf) and the sum of the observed values.
  struct Snapshot {
    std::array<uint64_t, kBuckets> counts{};
    uint64_t sumNs = 0;

    double sumSeconds() const { return static_cast<double>(sumNs) / 1e9; }
    uint64_t count() const {
      uint64_t total = 0;
      for (uint64_t c : counts)
        total += c;
      return total;
    }
  };

  // The writer thread only.
  void observe(uint64_t ns) {
    size_t bucket = 0;
    while (bucket < kBoundsNs.size() && ns > kBoundsNs[bucket])
      ++bucket;
    singleWriterAdd(counts_[bucket]);
    singleWriterAdd(sumNs_, ns);
  }

  // Any thread: adds this histogram's counts into `into`.
  void addTo(Snapshot& into) const {
    for (size_t i = 0; i < kBuckets; ++i)
      into.counts[i] += counts_[i].load(std::memory_order_relaxed);
    into.sumNs += sumNs_.load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> sumNs_{0};
};

}  // namespace wsr::stats
