#include "broker/ClusterTopology.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace wsr::broker {
namespace {

// The map is read again this often without a reason (a failover, a
// resharding nobody here ran into yet).
constexpr auto kRefreshMs = std::chrono::milliseconds(5000);
// Refreshes asked in a burst (every channel of a moved slot) are one read,
// at most this often.
constexpr auto kMinGapMs = std::chrono::milliseconds(50);
// While no node answers, tried again this often.
constexpr auto kRetryMs = std::chrono::milliseconds(500);

}  // namespace

ClusterTopology::ClusterTopology(const config::Config& config, telemetry::Logger& logger,
                                 Changed changed)
    : config_(config), logger_(logger), changed_(std::move(changed)) {}

ClusterTopology::~ClusterTopology() {
  stop();
}

void ClusterTopology::start() {
  thread_ = std::thread([this] { run(); });
}

void ClusterTopology::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClusterTopology::refresh() {
  {
    std::lock_guard lock(mutex_);
    refresh_ = true;
  }
  wake_.notify_one();
}

std::shared_ptr<const ClusterSlotMap> ClusterTopology::current() const {
  std::lock_guard lock(mutex_);
  return map_;
}

std::shared_ptr<const ClusterSlotMap> ClusterTopology::read(std::string& error) {
  std::vector<std::string> candidates = config_.broker.redis.addresses;
  if (std::shared_ptr<const ClusterSlotMap> known = current()) {
    for (const std::string& master : known->masters()) {
      if (std::find(candidates.begin(), candidates.end(), master) == candidates.end())
        candidates.push_back(master);
    }
  }
  for (const std::string& address : candidates) {
    RedisConnection connection;
    std::string why;
    if (!connection.connect(config_.broker.redis, address, why)) {
      error = why;
      continue;
    }
    Reply reply = connection.command({"CLUSTER", "SLOTS"}, why);
    if (!reply) {
      error = why;
      continue;
    }
    std::shared_ptr<const ClusterSlotMap> map = ClusterSlotMap::parse(reply.get(), why);
    if (map) return map;
    error = address;
    error += ": ";
    error += why;
  }
  return nullptr;
}

void ClusterTopology::run() {
  bool failing = false;
  while (true) {
    std::string error;
    std::shared_ptr<const ClusterSlotMap> map = read(error);
    if (map) {
      bool differs = true;
      {
        std::lock_guard lock(mutex_);
        differs = !map_ || !map_->sameAs(*map);
        map_ = map;
      }
      if (failing) {
        logger_.log(telemetry::LogLevel::Info, "broker_cluster_slots",
                    {{"masters", static_cast<uint64_t>(map->masters().size())}});
      }
      failing = false;
      changed_(map, differs);
    } else {
      errors_.fetch_add(1, std::memory_order_relaxed);
      if (!failing) {
        logger_.log(telemetry::LogLevel::Warn, "broker_cluster_slots_failed", {{"message", error}});
      }
      failing = true;
    }
    attempted_.store(true, std::memory_order_release);
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, map ? kMinGapMs : kRetryMs, [this] { return stopping_; });
    wake_.wait_for(lock, map ? kRefreshMs : std::chrono::milliseconds(0),
                   [this] { return stopping_ || refresh_; });
    if (stopping_) return;
    refresh_ = false;
  }
}

}  // namespace wsr::broker
