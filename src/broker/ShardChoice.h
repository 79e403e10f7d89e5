#pragma once
// broker.redis.mode sharded: which of the configured Redis instances holds
// a channel. Jump consistent hash (Lamping and Veach, 2014) of the FNV-1a
// 64-bit hash of the channel name over the addresses in their configured
// order, as Centrifugo shards its Redis: every instance must list the same
// addresses in the same order, or two instances would number one channel
// on two Redis. Adding an address at the end moves about 1/n of the
// channels (to the new one only); reordering moves most of them.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wsr::broker {

// FNV-1a, 64 bits: a stable hash of the name (std::hash is not the same
// across builds, and instances of different builds share the Redis).
uint64_t fnv1a64(std::string_view text);

// The bucket in [0, buckets) of `key`; buckets >= 1.
uint32_t jumpConsistentHash(uint64_t key, uint32_t buckets);

// The index of the shard (in broker.redis.addresses) holding `channel`.
inline size_t shardOf(std::string_view channel, size_t shards) {
  return jumpConsistentHash(fnv1a64(channel), static_cast<uint32_t>(shards));
}

}  // namespace wsr::broker
