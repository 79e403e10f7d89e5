#include "telemetry/IdGenerator.h"

#include <cstring>
#include <random>

namespace wsr::telemetry {
namespace {

// xoshiro256** (Blackman and Vigna): fast, 256 bits of state, good enough
// for ids that must be unique, not secret.
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device entropy;
    for (uint64_t& word : state_) {
      word = (static_cast<uint64_t>(entropy()) << 32) ^ entropy();
    }
    // The all-zero state would only ever produce zeros.
    if (state_[0] == 0 && state_[1] == 0 && state_[2] == 0 && state_[3] == 0) state_[0] = 1;
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

Xoshiro256& generator() {
  thread_local Xoshiro256 instance;
  return instance;
}

template <size_t N>
void fill(std::array<uint8_t, N>& bytes) {
  Xoshiro256& random = generator();
  do {
    for (size_t i = 0; i < N; i += 8) {
      const uint64_t word = random.next();
      std::memcpy(bytes.data() + i, &word, 8);
    }
  } while (isZero(bytes));
}

}  // namespace

TraceId newTraceId() {
  TraceId id;
  fill(id);
  return id;
}

SpanId newSpanId() {
  SpanId id;
  fill(id);
  return id;
}

}  // namespace wsr::telemetry
