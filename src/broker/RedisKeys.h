#pragma once
// Where a channel lives in Redis. Every key of a channel carries the
// channel in one hash tag, {<channel>}, so that Redis Cluster keeps them
// on one slot (the script touches them together). Outside tools rely on
// these names (docs/scaling.md).

#include <cstdint>
#include <string>
#include <string_view>

namespace wsr::broker {

inline constexpr std::string_view kKeyPrefix = "wsr:{";

// Hash: `seq` (the last seq given) and `epoch` (made with the first
// publication; a new one means the numbering restarted).
inline std::string seqKey(std::string_view channel) {
  return std::string(kKeyPrefix) + std::string(channel) + "}:seq";
}
// Stream of the recent publications, entry id 0-<seq>, field `m`.
inline std::string streamKey(std::string_view channel) {
  return std::string(kKeyPrefix) + std::string(channel) + "}:stream";
}
// String: the retained value (namespaces with retain_last).
inline std::string lastKey(std::string_view channel) {
  return std::string(kKeyPrefix) + std::string(channel) + "}:last";
}
// The pub/sub channel the instances subscribe to.
inline std::string pubsubChannel(std::string_view channel) {
  return std::string(kKeyPrefix) + std::string(channel) + "}:msg";
}
// The router channel a pub/sub channel name carries; empty when it is not one.
inline std::string_view channelOfPubsub(std::string_view name) {
  constexpr std::string_view suffix = "}:msg";
  if (!name.starts_with(kKeyPrefix) || !name.ends_with(suffix) ||
      name.size() <= kKeyPrefix.size() + suffix.size()) {
    return {};
  }
  return name.substr(kKeyPrefix.size(), name.size() - kKeyPrefix.size() - suffix.size());
}

// The count of `kind` ("connection_attempts", "messages") for one client
// address in one fixed window (auth/SharedWindow.h), for the limits shared
// by the instances: wsr:limit:{limits}:<kind>:<client>:<window>. One hash
// tag for all: in Redis Cluster every count lives on one slot, so the one
// connection that counts serves them all (RedisCounters).
inline std::string limitKey(std::string_view kind, std::string_view client, int64_t window) {
  std::string key = "wsr:limit:{limits}:";
  key.append(kind);
  key += ':';
  key.append(client);
  key += ':';
  key += std::to_string(window);
  return key;
}

}  // namespace wsr::broker
