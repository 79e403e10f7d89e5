#pragma once
// Reconnection delays: exponential from `initial` to `max`, each drawn at
// random between half and all of the current step ("equal jitter"), so that
// many instances losing the same Redis do not all come back at once.

#include <cstdint>
#include <random>

namespace wsr::broker {

class Backoff {
 public:
  Backoff(uint32_t initialMs, uint32_t maxMs, uint64_t seed);
  // The delay before the next attempt; each call doubles the step.
  uint32_t nextMs();
  // A connection succeeded: the next failure starts from `initial` again.
  void reset() { stepMs_ = initialMs_; }

 private:
  const uint32_t initialMs_;
  const uint32_t maxMs_;
  uint32_t stepMs_;
  std::mt19937_64 random_;
};

}  // namespace wsr::broker
