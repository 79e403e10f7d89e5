#pragma once
// broker.type redis: every instance on the same Redis deployment acts as
// one router. Publications go to Redis (RedisPublisher: one script numbers,
// stores and publishes each); what Redis publishes reaches the workers of
// every instance with subscribers (RedisSubscriber -> Hub::accept).
//
// One shard per Redis: a publisher and a subscriber (two threads, three
// connections, none of it on a worker). Mode standalone has one shard, on
// the first address; mode sharded one per address, each channel on the
// shard ShardChoice names, so that every message of a channel is numbered
// by one Redis and mirrored by one subscriber thread. This class routes
// publications and the hub's interest in channels to their shard.

#include <memory>
#include <vector>

#include "broker/Broker.h"
#include "broker/RedisPublisher.h"
#include "broker/RedisSubscriber.h"
#include "hub/ChannelInterest.h"
#include "hub/Hub.h"
#include "telemetry/Tracer.h"

namespace wsr::broker {

class RedisBroker final : public Broker, public hub::ChannelInterest {
 public:
  // Makes the hub's channels mirrors of Redis: construct before the hub
  // serves, and keep it as long as the hub.
  RedisBroker(const config::Config& config, hub::Hub& hub, telemetry::Logger& logger);
  ~RedisBroker() override;

  // Traced like the memory broker's (a broker.publish span, child of the
  // request's), when tracing is on.
  hub::PublishResult publish(hub::Publication&& publication) override;
  // Another instance may have subscribers: always worth publishing.
  bool hasSubscribers(std::string_view) const override { return true; }
  bool start(std::string& error) override;
  void stop() override;
  // Ready when every shard is connected and caught up; `detail` names the
  // first shard that is not.
  bool ready(std::string& detail) const override;
  std::string_view name() const override { return "redis"; }
  // The shards' sums; up only when every shard is.
  BrokerStats stats() const override;

  // hub::ChannelInterest: handed to the channel's shard.
  void watched(const std::string& channel) override;
  void unwatched(const std::string& channel) override;

 private:
  struct Shard {
    Shard(const config::Config& config, const std::string& address, hub::Hub& hub,
          telemetry::Logger& logger);
    RedisPublisher publisher;
    RedisSubscriber subscriber;
  };
  Shard& shardFor(std::string_view channel) const;

  telemetry::Tracer* const tracer_;  // null: tracing is off
  const uint32_t connectTimeoutMs_;
  const bool sharded_;
  std::vector<std::unique_ptr<Shard>> shards_;  // in the order of broker.redis.addresses
};

}  // namespace wsr::broker
