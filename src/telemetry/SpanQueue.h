#pragma once
// The bounded queue between the threads that end spans (workers, admin
// threads, the demo feed) and the exporter's thread. push() holds the lock
// for a pointer move and never waits for room: a full queue refuses the span.
// The exporter's thread wakes when a batch is ready or its timer is up.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "telemetry/Span.h"

namespace wsr::telemetry {

class SpanQueue {
 public:
  using Clock = std::chrono::steady_clock;

  SpanQueue(size_t capacity, size_t batchSize);

  // Any thread. False (and the span is destroyed) when the queue is full.
  bool push(std::unique_ptr<Span> span);

  // The exporter's thread: waits until batchSize spans are queued, `until`
  // passes or close() is called, then takes up to batchSize of them, oldest
  // first (possibly none).
  std::vector<std::unique_ptr<Span>> takeBatch(Clock::time_point until);
  // Wakes takeBatch() for good: from now on it waits no more.
  void close();
  bool closed() const;
  // Empties the queue; returns how many spans it held.
  size_t clear();
  size_t size() const;

 private:
  const size_t capacity_;
  const size_t batchSize_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::unique_ptr<Span>> spans_;
  bool closed_ = false;
};

}  // namespace wsr::telemetry
