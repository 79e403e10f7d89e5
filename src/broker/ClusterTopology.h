#pragma once
// broker.redis.mode cluster: the slot map, kept current on its own thread.
// It asks `CLUSTER SLOTS` of the configured seed addresses (and the
// masters of the last map), the first that answers wins; again whenever
// refresh() is called (a MOVED, a channel that moved) and every
// kRefreshMs. Each map read is handed to `changed` on this thread (with
// whether it differs from the one before), which may start connections
// (never on a worker).

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "broker/ClusterSlotMap.h"
#include "broker/RedisConnection.h"
#include "config/Config.h"
#include "telemetry/Logger.h"

namespace wsr::broker {

class ClusterTopology {
 public:
  using Changed = std::function<void(std::shared_ptr<const ClusterSlotMap>, bool differs)>;
  ClusterTopology(const config::Config& config, telemetry::Logger& logger, Changed changed);
  ~ClusterTopology();  // stop()
  ClusterTopology(const ClusterTopology&) = delete;
  ClusterTopology& operator=(const ClusterTopology&) = delete;

  void start();
  void stop();
  // Any thread: read the map again soon.
  void refresh();
  // The last map read; null before the first.
  std::shared_ptr<const ClusterSlotMap> current() const;
  // Whether the first attempt has ended (either way).
  bool attempted() const { return attempted_.load(std::memory_order_acquire); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  void run();
  // One round over the seeds and known masters; null when none answered.
  std::shared_ptr<const ClusterSlotMap> read(std::string& error);

  const config::Config& config_;
  telemetry::Logger& logger_;
  const Changed changed_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool refresh_ = false;
  std::shared_ptr<const ClusterSlotMap> map_;
  std::thread thread_;
  std::atomic<bool> attempted_{false};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace wsr::broker
