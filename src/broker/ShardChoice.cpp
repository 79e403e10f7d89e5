#include "broker/ShardChoice.h"

namespace wsr::broker {

uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = 14695981039346656037ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

uint32_t jumpConsistentHash(uint64_t key, uint32_t buckets) {
  // The paper's loop: each step jumps ahead to the next bucket count at
  // which this key would move, so a key moves only to a bucket just added.
  int64_t bucket = -1;
  int64_t next = 0;
  while (next < static_cast<int64_t>(buckets)) {
    bucket = next;
    key = key * 2862933555777941757ULL + 1;
    next = static_cast<int64_t>(
        static_cast<double>(bucket + 1) *
        (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<uint32_t>(bucket);
}

}  // namespace wsr::broker
