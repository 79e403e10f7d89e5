#pragma once
// broker.type redis: every instance on the same Redis deployment acts as
// one router. Publications go to Redis (RedisPublisher: one script numbers,
// stores and publishes each); what Redis publishes reaches the workers of
// every instance with subscribers (RedisSubscriber -> Hub::accept).
//
// One shard per Redis node: a publisher and a subscriber (two threads,
// three connections, none of it on a worker). This class routes
// publications and the hub's interest in channels to the channel's shard,
// so that every message of a channel is numbered by one Redis and mirrored
// by one subscriber thread at a time.
// - standalone: one shard, on the first address.
// - sharded: one per address, the channel's chosen by ShardChoice.
// - cluster: one per master of the slot map (ClusterTopology), the
//   channel's by its slot; MOVED/ASK/TRYAGAIN are followed for
//   publications, and a channel whose slot moved is handed from the old
//   owner's subscriber to the new one's.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "broker/Broker.h"
#include "broker/ChannelAudience.h"
#include "broker/ClusterTopology.h"
#include "broker/RedisPublisher.h"
#include "broker/RedisSessionStore.h"
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
  // request's), when tracing is on; the span's context travels with the
  // message (RedisMessage's traceparent), so every instance's fan-out
  // spans are its children.
  hub::PublishResult publish(hub::Publication&& publication) override;
  // One pipeline per shard (cluster: each run of a channel followed to its
  // node, one run after another).
  std::vector<hub::PublishResult> publishBatch(
      std::vector<hub::Publication>&& publications) override;
  // Subscribers here, or possibly on another instance: unless the
  // channel's last publication reached no instance less than
  // ChannelAudience::kDefaultRecheckMs ago (ChannelAudience.h).
  bool hasSubscribers(std::string_view channel) const override;
  // A publication waits for its round trip to Redis.
  bool mayWait() const override { return true; }
  bool start(std::string& error) override;
  void stop() override;
  // Ready when every shard is connected and caught up (cluster: and the
  // slot map known, every watched channel placed); `detail` names the
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
          telemetry::Logger& logger, ChannelAudience& audience, RedisSubscriber::Moved moved);
    RedisPublisher publisher;
    RedisSubscriber subscriber;
  };

  hub::PublishResult route(const hub::Publication& publication);
  std::vector<hub::PublishResult> routeBatch(const std::vector<hub::Publication>& publications);
  // The node holding a session's key (RedisSessionStore::AddressOf).
  std::string sessionNode(const std::string& key) const;
  // Mode cluster: a run of publications of ONE channel (at most
  // RedisPublisher::kMaxRun), sent to the slot's master as one script call
  // and followed through redirections together.
  std::vector<hub::PublishResult> routeInCluster(std::span<const hub::Publication* const> run);
  // The shard at `address`, made (and started) when there is none yet;
  // null once stopping. Shards are never removed before the broker goes.
  Shard* shardAt(const std::string& address);
  Shard* findShard(const std::string& address) const;
  std::vector<Shard*> allShards() const;

  // Mode cluster, under clusterMutex_.
  void place(const std::string& channel);
  void mapChanged(const std::shared_ptr<const ClusterSlotMap>& map, bool differs);
  void moved(const std::string& channel, const std::string& movedTo);

  const config::Config& config_;
  hub::Hub& hub_;
  telemetry::Logger& logger_;
  telemetry::Tracer* const tracer_;  // null: tracing is off
  const config::RedisMode mode_;
  // Which channels no instance listened to at their last publication
  // (every shard's publisher tells it); before the shards, which use it.
  ChannelAudience audience_;

  mutable std::shared_mutex shardsMutex_;                 // guards what follows
  std::map<std::string, std::unique_ptr<Shard>> shards_;  // by address
  std::vector<Shard*> ordered_;  // sharded: in the order of broker.redis.addresses
  bool started_ = false;
  bool stopping_ = false;

  // Mode cluster: where each watched channel is subscribed.
  std::unique_ptr<ClusterTopology> topology_;
  mutable std::mutex clusterMutex_;                 // guards what follows
  std::set<std::string> watched_;                   // channels the workers watch
  std::unordered_map<std::string, Shard*> placed_;  // channel -> the shard subscribed for it
  std::set<std::string> homeless_;  // watched, waiting for the slot map to say where

  // Last: its thread asks the topology where a session lives.
  RedisSessionStore sessions_;  // resume, on any instance
};

}  // namespace wsr::broker
