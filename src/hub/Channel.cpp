#include "hub/Channel.h"

namespace wsr::hub {

Channel::Channel(std::string name, const config::NamespaceConfig& settings, size_t namespaceIndex,
                 NamespaceTotals& totals, ChannelInterest* interest)
    : name_(std::move(name)),
      config_(settings),
      namespaceIndex_(namespaceIndex),
      totals_(totals),
      interest_(interest),
      history_(settings.historySize, settings.historyMaxAgeMs) {}

Channel::Subscription Channel::subscribe(size_t worker, const uint64_t* since, int64_t nowMs) {
  Subscription out;
  std::lock_guard state(state_);
  if (interest_ != nullptr) {
    if (workers_.empty()) interest_->watched(name_);
    if (!primed_) {
      workers_.insert(worker);
      waiting_.insert(worker);
      out.pending = true;
      return out;
    }
  }
  workers_.insert(worker);
  out.seq = seq_.load(std::memory_order_relaxed);
  if (since != nullptr) {
    out.replay = history_.replaySince(*since, out.seq, nowMs);
  } else if (config_.retainLast) {
    out.retained = retained_;
  }
  return out;
}

void Channel::leave(size_t worker) {
  std::lock_guard state(state_);
  workers_.erase(worker);
  waiting_.erase(worker);
  if (interest_ != nullptr && workers_.empty()) interest_->unwatched(name_);
}

bool Channel::unprime() {
  std::lock_guard turn(turn_);
  std::lock_guard state(state_);
  if (!workers_.empty()) return false;
  primed_ = false;
  epoch_ = 0;
  seq_.store(0, std::memory_order_release);
  history_.reset();
  retained_.reset();
  return true;
}

void Channel::forgetStored() {
  std::lock_guard turn(turn_);
  std::lock_guard state(state_);
  history_.reset();
  retained_.reset();
}

bool Channel::primed() {
  std::lock_guard state(state_);
  return primed_;
}

uint64_t Channel::epoch() {
  std::lock_guard state(state_);
  return epoch_;
}

void Channel::subscriberAdded() {
  subscribers_.fetch_add(1, std::memory_order_relaxed);
}

void Channel::subscriberRemoved() {
  subscribers_.fetch_sub(1, std::memory_order_relaxed);
}

bool Channel::disposable(int64_t nowMs, uint64_t idleMs) {
  if (subscribers() != 0) return false;
  std::lock_guard state(state_);
  if (!workers_.empty() || retained_) return false;
  // A mirror goes when the broker unsubscribed in Redis (unprime()).
  if (primed_) return false;
  history_.expire(nowMs);
  if (history_.size() != 0) return false;
  if (seq_.load(std::memory_order_relaxed) == 0) return true;
  return nowMs >= lastPublishMs_ && static_cast<uint64_t>(nowMs - lastPublishMs_) >= idleMs;
}

bool Channel::hasWorker(size_t worker) {
  std::lock_guard state(state_);
  return workers_.contains(worker);
}

size_t Channel::historySize() {
  std::lock_guard state(state_);
  return history_.size();
}

std::shared_ptr<const PublishedMessage> Channel::retained() {
  std::lock_guard state(state_);
  return retained_;
}

History::Replay Channel::replaySince(uint64_t since, int64_t nowMs) {
  std::lock_guard state(state_);
  return history_.replaySince(since, seq_.load(std::memory_order_relaxed), nowMs);
}

}  // namespace wsr::hub
