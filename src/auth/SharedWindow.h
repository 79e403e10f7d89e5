#pragma once
// The fixed windows of the limits counted across instances (broker.type
// redis): wall-clock minutes, numbered from the epoch, the same on every
// instance whose clock is right (NTP). A count lives in its window's key
// and starts again at 0 with the next window, so a client may spend up to
// twice a limit across a window's end: the price of one round trip and one
// key per check, where a sliding window would need a sorted set per client.

#include <cstdint>

namespace wsr::auth {

inline constexpr int64_t kSharedWindowMs = 60000;

// The window `wallMs` falls in.
int64_t sharedWindowNumber(int64_t wallMs);
// Whole seconds until the window of `wallMs` ends (1 to 60): Retry-After.
int sharedWindowSecondsLeft(int64_t wallMs);
// How long a window's count is kept: its own window and the next, so that a
// clock a little behind the others still finds it.
inline constexpr int64_t kSharedCountTtlMs = 2 * kSharedWindowMs;

// Whether a shared total is past `limit` (0: no limit).
inline bool overSharedLimit(uint64_t total, uint32_t limit) {
  return limit != 0 && total > limit;
}

}  // namespace wsr::auth
