#pragma once
// broker.redis.mode cluster: which of Redis Cluster's 16384 hash slots a
// key is in, as the Redis Cluster specification defines it: CRC16 (XMODEM:
// polynomial 0x1021, initial value 0) of the key's hash tag (what is
// between the first `{` and the next `}`, when not empty) or else of the
// whole key, modulo 16384. Every key of a channel has the tag {<channel>}
// (RedisKeys.h), so a channel's slot is that of its name.

#include <cstdint>
#include <string_view>

namespace wsr::broker {

inline constexpr uint16_t kClusterSlots = 16384;

uint16_t crc16(std::string_view data);
// The slot of `key`, hash tags honoured.
uint16_t keySlot(std::string_view key);
// The slot of every key of router channel `channel` (its name is the tag;
// channel names hold no braces).
inline uint16_t channelSlot(std::string_view channel) {
  return static_cast<uint16_t>(crc16(channel) % kClusterSlots);
}

}  // namespace wsr::broker
