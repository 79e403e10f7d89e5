#include "auth/SharedWindow.h"

namespace wsr::auth {

int64_t sharedWindowNumber(int64_t wallMs) {
  // Floor, not truncation: a clock before 1970 is absurd, but not a crash.
  return wallMs >= 0 ? wallMs / kSharedWindowMs : (wallMs - kSharedWindowMs + 1) / kSharedWindowMs;
}

int sharedWindowSecondsLeft(int64_t wallMs) {
  const int64_t endMs = (sharedWindowNumber(wallMs) + 1) * kSharedWindowMs;
  return static_cast<int>((endMs - wallMs + 999) / 1000);
}

}  // namespace wsr::auth
