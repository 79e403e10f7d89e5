#pragma once
// What one worker's LocalHub counts: connections by endpoint, closes by
// code, client messages by op, per namespace its subscriptions, deliveries,
// drops and gaps, the compressed deliveries and the broadcast duration. Only the worker's
// thread writes (single-writer adds: no locked instruction, no allocation;
// the endpoint and namespace arrays are sized once, at construction); the
// /metrics scrape and the stats view read, and sum over the workers.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "stats/LatencyHistogram.h"

namespace wsr::hub {

// Close codes counted on their own; any other counts as "other".
inline constexpr std::array<uint16_t, 11> kCountedCloseCodes = {1000, 1001, 1002, 1006, 1007, 1008,
                                                                1009, 1011, 4001, 4008, 4029};
inline constexpr size_t kCloseCodeSlots = kCountedCloseCodes.size() + 1;
// The slot of `code` in LocalHubStats::closedByCode; the last one is "other".
size_t closeCodeSlot(uint16_t code);
// The label of a slot: "1000"... or "other".
std::string_view closeCodeLabel(size_t slot);

// Client message ops as counted: the protocol's five, then "invalid" (not
// parsed, or binary).
inline constexpr std::array<std::string_view, 6> kClientOpLabels = {
    "subscribe", "unsubscribe", "ping", "auth", "resume", "invalid"};
inline constexpr size_t kInvalidClientOp = kClientOpLabels.size() - 1;

// One namespace, on one worker.
struct NamespaceCounters {
  std::atomic<uint64_t> subscribers{0};  // a gauge: subscriptions held now
  std::atomic<uint64_t> delivered{0};    // messages queued to a subscriber's socket
  std::atomic<uint64_t> droppedSlowConsumer{0};
  std::atomic<uint64_t> droppedConflated{0};
  std::atomic<uint64_t> droppedOverload{0};  // shed from the inbox, per subscriber who missed it
  std::atomic<uint64_t> disconnectedSlowConsumer{0};
  std::atomic<uint64_t> gapsSent{0};
};

struct LocalHubStats {
  LocalHubStats(size_t endpoints, size_t namespaces)
      : endpoints(endpoints),
        opened(std::make_unique<std::atomic<uint64_t>[]>(endpoints)),
        closed(std::make_unique<std::atomic<uint64_t>[]>(endpoints)),
        namespaceCount(namespaces),
        namespaces(std::make_unique<NamespaceCounters[]>(namespaces)) {}

  const size_t endpoints;  // EndpointLabels::size()
  // By endpoint index (EndpointLabels): open = opened - closed.
  std::unique_ptr<std::atomic<uint64_t>[]> opened;
  std::unique_ptr<std::atomic<uint64_t>[]> closed;
  const size_t namespaceCount;  // Hub::namespaces().size()
  // By namespace index (Channel::namespaceIndex).
  std::unique_ptr<NamespaceCounters[]> namespaces;
  std::array<std::atomic<uint64_t>, kCloseCodeSlots> closedByCode{};
  std::array<std::atomic<uint64_t>, kClientOpLabels.size()> clientMessages{};  // by ClientOp
  std::atomic<uint64_t> rateLimited{0};           // answered RATE_LIMITED
  std::atomic<uint64_t> resumed{0};               // `resume` answered `resumed`
  std::atomic<uint64_t> resumeFailed{0};          // `resume` answered RESUME_FAILED
  std::atomic<uint64_t> compressedDeliveries{0};  // deliveries of a compressed frame
  // From a publication's acceptance to its frame queued for the last local
  // subscriber, once per publication fanned out on this worker.
  stats::LatencyHistogram broadcastDuration;
};

}  // namespace wsr::hub
