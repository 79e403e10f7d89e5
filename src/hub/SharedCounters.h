#pragma once
// Counts kept beyond this instance, for the limits counted across instances
// (limits.connection_attempts_per_minute and limits.messages_per_minute with
// broker.type redis; broker::RedisCounters keeps them in Redis). A worker
// never waits for them: it asks, goes on, and is called back with the
// total. Without one (broker.type memory) every limit is this instance's.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace wsr::hub {

enum class SharedLimit : uint8_t { ConnectionAttempts, Messages };
inline constexpr size_t kSharedLimitCount = 2;
// The metrics' `kind` label and the Redis key's: "connection_attempts", "messages".
std::string_view sharedLimitName(SharedLimit limit);

class SharedCounters {
 public:
  // The client's total in the current window after the addition, or nothing
  // when the count could not be reached in time (the local limit decides).
  using Done = std::function<void(std::optional<uint64_t> total)>;

  virtual ~SharedCounters() = default;

  // Any thread. Adds `amount` to `client`'s count of `limit` in the current
  // window (auth/SharedWindow.h) and calls `done` exactly once, within about
  // broker.redis.command_timeout_ms: on the counters' own thread, or on the
  // caller's before add() returns when the count is known unreachable. The
  // caller posts what it does with the answer to its own thread.
  virtual void add(SharedLimit limit, std::string client, uint32_t amount, Done done) = 0;
};

// What the workers saw of the shared counts, for the metrics.
struct SharedLimitStats {
  // Checks the local limit decided alone: no answer in time, or none reachable.
  std::array<std::atomic<uint64_t>, kSharedLimitCount> fallbacks{};
  // Upgrades refused and connections closed because the shared total was past the limit.
  std::array<std::atomic<uint64_t>, kSharedLimitCount> refusals{};

  void countFallback(SharedLimit limit) {
    fallbacks[static_cast<size_t>(limit)].fetch_add(1, std::memory_order_relaxed);
  }
  void countRefusal(SharedLimit limit) {
    refusals[static_cast<size_t>(limit)].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace wsr::hub
