#pragma once
// limits.messages_per_minute for one connection: a token bucket holding up
// to `limit` messages and refilled at `limit` a minute, so a client may burst
// its whole minute at once but not exceed it on average. A message over the
// budget is answered RATE_LIMITED and dropped; a client that goes on (more
// than limit / 2 refused messages, at least 1, since its last allowed one)
// is closed with 4029. Integer arithmetic, 24 bytes, one thread (the
// connection's worker).

#include <cstdint>

namespace wsr::auth {

enum class RateVerdict : uint8_t { Allowed, Limited, Close };

class MessageRateLimiter {
 public:
  explicit MessageRateLimiter(uint32_t perMinute);  // 0: unlimited

  RateVerdict check(int64_t nowMs);
  uint32_t limit() const { return limit_; }

 private:
  static constexpr int64_t kMinuteMs = 60000;

  int64_t tokens_;  // in messages x kMinuteMs
  int64_t lastMs_ = -1;
  uint32_t limit_;
  uint32_t refusedInARow_ = 0;
};

}  // namespace wsr::auth
