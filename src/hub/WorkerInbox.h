#pragma once
// One worker's inbox: the publications handed to it by any thread, waiting
// for its loop to fan them out. Bounded in count and age, because past the
// worker's capacity market data that waits is worse than a gap:
// - a publication arriving at a full inbox sheds the oldest publication of
//   its own channel there (of any channel when its channel has none); in a
//   conflate namespace one with the same channel and key first;
// - a publication older than the max delay when the worker takes it is
//   shed instead of fanned out.
// The worker learns, per channel, how many were shed and the highest seq
// shed; the seqs themselves show as holes among what it takes, so the gaps
// it sends are exact. Pure: no socket, no subscriber; LocalHub acts.
//
// push() runs on publishers' threads and costs O(1) (amortized): each
// channel keeps the positions of its slots, a shed slot becomes a tombstone
// (skipped when reached), and the slots are compacted when tombstones
// outnumber the cap.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/PublishedMessage.h"

namespace wsr::hub {

// The `gap` reason, and the wsrouter_dropped_total reason, of a shed
// publication.
inline constexpr std::string_view kDroppedOverload = "overload";

class WorkerInbox {
 public:
  // `conflates(channel)`: whether the channel's namespace has the conflate
  // policy; asked once per channel while it has publications waiting.
  WorkerInbox(size_t maxMessages, uint64_t maxDelayNs,
              std::function<bool(std::string_view)> conflates);

  // Any thread. True when the worker must be woken (no take is pending).
  bool push(std::shared_ptr<const PublishedMessage> message);

  // What was shed of one channel since the last take.
  struct Shed {
    std::string channel;
    uint64_t count = 0;  // publications shed
    uint64_t upTo = 0;   // the highest seq shed
    // Nothing of the channel waits any more: no later publication will show
    // the hole, so the worker announces it up to `upTo` now.
    bool trailing = false;
  };
  // Worker thread: moves up to `most` publications, oldest first, into
  // `taken` (those older than the max delay at `nowNs` are shed instead),
  // and what was shed into `shed`. True when more wait: take again.
  bool take(size_t most, uint64_t nowNs,
            std::vector<std::shared_ptr<const PublishedMessage>>& taken, std::vector<Shed>& shed);

  // Any thread, cheap: publications waiting now, and shed so far.
  size_t depth() const { return depth_.load(std::memory_order_relaxed); }
  uint64_t shedTotal() const { return shedTotal_.load(std::memory_order_relaxed); }
  size_t capacity() const { return maxMessages_; }
  // Any thread, cheap: when the oldest publication waiting was accepted
  // (net::EventLoop::monotonicNs), as of the last take; 0 when none waits.
  uint64_t oldestNs() const { return oldestNs_.load(std::memory_order_relaxed); }

 private:
  struct ChannelSlots {
    const std::string* name = nullptr;  // the map's key
    bool conflates = false;
    // Positions of its slots, oldest first; may still hold shed ones.
    std::deque<uint64_t> positions;
    // Conflate namespaces: the newest slot of each key (may be stale).
    std::unordered_map<std::string, uint64_t> byKey;
    size_t live = 0;
    uint64_t shedCount = 0;
    uint64_t shedUpTo = 0;
    bool listed = false;  // in shedChannels_
  };
  struct Slot {
    std::shared_ptr<const PublishedMessage> message;  // null: shed
    ChannelSlots* channel = nullptr;
  };

  // With mutex_ held.
  Slot* victimFor(ChannelSlots& channel, const PublishedMessage& arriving);
  void shed(const PublishedMessage& message, ChannelSlots& channel);
  void popFront(ChannelSlots& channel, uint64_t position);
  // Drops the entries of channels with nothing waiting and nothing to report.
  void sweepIdleChannels();
  void compact();
  Slot& at(uint64_t position) { return slots_[static_cast<size_t>(position - head_)]; }
  bool isLive(uint64_t position) const {
    return position >= head_ && slots_[static_cast<size_t>(position - head_)].message != nullptr;
  }

  const size_t maxMessages_;
  const uint64_t maxDelayNs_;
  const std::function<bool(std::string_view)> conflates_;
  std::mutex mutex_;
  std::deque<Slot> slots_;
  uint64_t head_ = 0;  // the position of slots_.front()
  size_t live_ = 0;
  bool scheduled_ = false;  // a take is pending on the worker
  static constexpr size_t kIdleChannelsKept = 1024;
  std::unordered_map<std::string, ChannelSlots> channels_;
  size_t sweepAbove_ = kIdleChannelsKept;
  std::vector<ChannelSlots*> shedChannels_;
  std::atomic<size_t> depth_{0};
  std::atomic<uint64_t> oldestNs_{0};
  std::atomic<uint64_t> shedTotal_{0};
};

}  // namespace wsr::hub
