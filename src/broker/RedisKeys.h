#pragma once
// Where a channel lives in Redis. Every key of a channel carries the
// channel in one hash tag, {<channel>}, so that Redis Cluster keeps them
// on one slot (the script touches them together). Outside tools rely on
// these names (docs/scaling.md).

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

}  // namespace wsr::broker
