#pragma once
// One channel's shared state. Publishers (admin threads, the demo feed) and
// workers (subscribing clients) meet here, under the channel's own lock: seq
// assignment, history, retained value and the hand-off to workers happen in
// one critical section, so every worker receives a channel's publications in
// seq order.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "config/Config.h"
#include "hub/History.h"
#include "hub/PublishedMessage.h"

namespace wsr::hub {

struct NamespaceStats;

struct Channel {
  Channel(std::string channelName, const config::NamespaceConfig& settings,
          NamespaceStats& namespaceStats)
      : name(std::move(channelName)),
        config(settings),
        stats(namespaceStats),
        history(settings.historySize, settings.historyMaxAgeMs) {}

  const std::string name;
  const config::NamespaceConfig& config;
  NamespaceStats& stats;

  std::mutex mutex;
  // Guarded by mutex:
  uint64_t seq = 0;  // the last publication's
  History history;
  std::shared_ptr<const PublishedMessage> retained;
  uint64_t workerMask = 0;  // bit w: worker w has local subscribers

  std::atomic<uint32_t> subscribers{0};  // on every worker, for hasSubscribers()
};

// Per-namespace counters, shared by every worker (relaxed atomics, added to
// once per fan-out, not once per delivery), and two gauges changed on
// subscribe and unsubscribe and when a channel is created.
struct NamespaceStats {
  std::atomic<uint64_t> channels{0};     // channels that exist (never removed)
  std::atomic<uint64_t> subscribers{0};  // subscriptions, over every connection
  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> droppedSlowConsumer{0};
  std::atomic<uint64_t> droppedConflated{0};
  std::atomic<uint64_t> disconnectedSlowConsumer{0};
  std::atomic<uint64_t> gapsSent{0};
};

}  // namespace wsr::hub
