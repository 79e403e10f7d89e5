#include "auth/SharedMessageTally.h"

#include <utility>

#include "auth/SharedWindow.h"

namespace wsr::auth {

uint32_t SharedMessageTally::onMessage() {
  if (inFlight_) {
    ++waiting_;
    return 0;
  }
  inFlight_ = true;
  return 1;
}

SharedMessageTally::Next SharedMessageTally::onAnswer(std::optional<uint64_t> total,
                                                      uint32_t limit) {
  inFlight_ = false;
  Next next;
  if (total && overSharedLimit(*total, limit)) {
    next.overLimit = true;
    return next;
  }
  if (waiting_ == 0) return next;
  next.add = std::exchange(waiting_, 0);
  inFlight_ = true;
  return next;
}

}  // namespace wsr::auth
