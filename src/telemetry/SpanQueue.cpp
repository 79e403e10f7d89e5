#include "telemetry/SpanQueue.h"

#include <algorithm>

namespace wsr::telemetry {

SpanQueue::SpanQueue(size_t capacity, size_t batchSize)
    : capacity_(std::max<size_t>(capacity, 1)),
      batchSize_(std::clamp<size_t>(batchSize, 1, std::max<size_t>(capacity, 1))) {}

bool SpanQueue::push(std::unique_ptr<Span> span) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (spans_.size() >= capacity_) return false;
    spans_.push_back(std::move(span));
    // Only the push that completes a batch wakes the exporter: the others
    // leave it to its timer, and cost no system call.
    wake = spans_.size() == batchSize_;
  }
  if (wake) ready_.notify_one();
  return true;
}

std::vector<std::unique_ptr<Span>> SpanQueue::takeBatch(Clock::time_point until) {
  std::unique_lock lock(mutex_);
  ready_.wait_until(lock, until, [this] { return closed_ || spans_.size() >= batchSize_; });
  const size_t count = std::min(spans_.size(), batchSize_);
  std::vector<std::unique_ptr<Span>> batch;
  batch.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    batch.push_back(std::move(spans_.front()));
    spans_.pop_front();
  }
  return batch;
}

void SpanQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

bool SpanQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

size_t SpanQueue::clear() {
  std::deque<std::unique_ptr<Span>> spans;
  {
    std::lock_guard lock(mutex_);
    spans.swap(spans_);
  }
  return spans.size();  // destroyed here, outside the lock
}

size_t SpanQueue::size() const {
  std::lock_guard lock(mutex_);
  return spans_.size();
}

}  // namespace wsr::telemetry
