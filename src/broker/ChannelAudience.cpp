#include "broker/ChannelAudience.h"

#include <iterator>

namespace wsr::broker {

void ChannelAudience::published(std::string_view channel, int64_t receivers, uint64_t nowMs) {
  std::lock_guard lock(mutex_);
  auto it = unheardSince_.find(channel);
  if (receivers != 0) {
    // Heard (or not known): nothing to remember.
    if (it != unheardSince_.end()) unheardSince_.erase(it);
    return;
  }
  if (it != unheardSince_.end()) {
    it->second = nowMs;
    return;
  }
  // A full table of fresh entries is not swept again before they can have
  // aged: one pass per recheck interval at most.
  if (unheardSince_.size() >= capacity_ && nowMs - lastSweepMs_ >= recheckMs_) {
    lastSweepMs_ = nowMs;
    sweep(nowMs);
  }
  if (unheardSince_.size() >= capacity_) return;  // not remembered: counts as heard
  unheardSince_.emplace(std::string(channel), nowMs);
}

bool ChannelAudience::mayListen(std::string_view channel, uint64_t nowMs) const {
  std::lock_guard lock(mutex_);
  auto it = unheardSince_.find(channel);
  return it == unheardSince_.end() || nowMs - it->second >= recheckMs_;
}

size_t ChannelAudience::remembered() const {
  std::lock_guard lock(mutex_);
  return unheardSince_.size();
}

void ChannelAudience::sweep(uint64_t nowMs) {
  for (auto it = unheardSince_.begin(); it != unheardSince_.end();) {
    it = nowMs - it->second >= recheckMs_ ? unheardSince_.erase(it) : std::next(it);
  }
}

}  // namespace wsr::broker
