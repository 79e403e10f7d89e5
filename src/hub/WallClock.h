#pragma once
// Milliseconds since the epoch: the `ts` of publications and the
// `server_time` of answers (PROTOCOL.md), as clients compare them with
// their own clocks.

#include <chrono>
#include <cstdint>

namespace wsr::hub {

inline int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace wsr::hub
