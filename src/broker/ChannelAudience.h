#pragma once
// Whether any instance listens to a channel, as far as Redis told: the
// publish script answers how many subscriptions its PUBLISH (SPUBLISH)
// reached, i.e. how many instances were subscribed to the channel then.
// A channel whose last publication reached nobody is remembered with that
// time; it counts as unheard (a publisher may skip building its snapshot,
// PublishSink::hasSubscribers) for `recheckMs` only, after which it is
// worth publishing again: the publication that follows tells anew. So an
// instance that gains a subscriber for such a channel gets its messages
// within about `recheckMs` (plus the publisher's own period).
//
// Bounded: at most `capacity` channels are remembered; entries older than
// `recheckMs` are worth nothing and swept when the table is full; a channel
// that cannot be remembered counts as heard (published), which is always
// safe.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wsr::broker {

class ChannelAudience {
 public:
  static constexpr uint64_t kDefaultRecheckMs = 1000;
  static constexpr size_t kDefaultCapacity = 100000;

  explicit ChannelAudience(uint64_t recheckMs = kDefaultRecheckMs,
                           size_t capacity = kDefaultCapacity)
      : recheckMs_(recheckMs), capacity_(capacity) {}

  // Any thread: a publication of `channel` reached `receivers`
  // subscriptions (negative: Redis did not say) at `nowMs` (monotonic).
  void published(std::string_view channel, int64_t receivers, uint64_t nowMs);
  // Any thread: false only when the channel's last publication reached
  // nobody less than `recheckMs` before `nowMs`.
  bool mayListen(std::string_view channel, uint64_t nowMs) const;
  size_t remembered() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // With mutex_ held: drops what is older than the recheck interval.
  void sweep(uint64_t nowMs);

  const uint64_t recheckMs_;
  const size_t capacity_;
  mutable std::mutex mutex_;  // guards what follows
  // Channel -> when a publication last reached nobody.
  std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> unheardSince_;
  uint64_t lastSweepMs_ = 0;
};

}  // namespace wsr::broker
