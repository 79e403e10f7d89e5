#include "auth/MessageRateLimiter.h"

#include <algorithm>

namespace wsr::auth {

MessageRateLimiter::MessageRateLimiter(uint32_t perMinute)
    : tokens_(static_cast<int64_t>(perMinute) * kMinuteMs), limit_(perMinute) {}

RateVerdict MessageRateLimiter::check(int64_t nowMs) {
  if (limit_ == 0) return RateVerdict::Allowed;
  const int64_t capacity = static_cast<int64_t>(limit_) * kMinuteMs;
  if (lastMs_ >= 0 && nowMs > lastMs_) {
    // Elapsed time is capped so the product cannot overflow after long idling.
    const int64_t elapsed = std::min(nowMs - lastMs_, kMinuteMs);
    tokens_ = std::min(capacity, tokens_ + elapsed * limit_);
  }
  if (nowMs > lastMs_) lastMs_ = nowMs;
  if (tokens_ >= kMinuteMs) {
    tokens_ -= kMinuteMs;
    refusedInARow_ = 0;
    return RateVerdict::Allowed;
  }
  ++refusedInARow_;
  return refusedInARow_ > std::max<uint32_t>(1, limit_ / 2) ? RateVerdict::Close
                                                            : RateVerdict::Limited;
}

}  // namespace wsr::auth
