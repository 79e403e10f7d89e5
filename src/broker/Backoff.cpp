#include "broker/Backoff.h"

#include <algorithm>

namespace wsr::broker {

Backoff::Backoff(uint32_t initialMs, uint32_t maxMs, uint64_t seed)
    : initialMs_(std::max<uint32_t>(1, initialMs)),
      maxMs_(std::max(maxMs, std::max<uint32_t>(1, initialMs))),
      stepMs_(initialMs_),
      random_(seed) {}

uint32_t Backoff::nextMs() {
  const uint32_t step = stepMs_;
  stepMs_ = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{stepMs_} * 2, maxMs_));
  std::uniform_int_distribution<uint32_t> half(step / 2, step);
  return half(random_);
}

}  // namespace wsr::broker
