#include "broker/RedisBroker.h"

#include <chrono>
#include <thread>

#include "broker/ShardChoice.h"
#include "hub/PublishSpan.h"

namespace wsr::broker {

RedisBroker::Shard::Shard(const config::Config& config, const std::string& address, hub::Hub& hub,
                          telemetry::Logger& logger)
    : publisher(config, address, logger),
      // A lost subscription makes the publisher check its own connection
      // to the same Redis at once.
      subscriber(config, address, hub, logger, [this] { publisher.recheck(); }) {}

RedisBroker::RedisBroker(const config::Config& config, hub::Hub& hub, telemetry::Logger& logger)
    : tracer_(hub.tracer()),
      connectTimeoutMs_(config.broker.redis.connectTimeoutMs),
      sharded_(config.broker.redis.mode == config::RedisMode::Sharded) {
  const std::vector<std::string>& addresses = config.broker.redis.addresses;
  const size_t count = sharded_ ? addresses.size() : 1;
  for (size_t i = 0; i < count && i < addresses.size(); ++i)
    shards_.push_back(std::make_unique<Shard>(config, addresses[i], hub, logger));
  hub.mirror(*this);
}

RedisBroker::~RedisBroker() {
  stop();
}

RedisBroker::Shard& RedisBroker::shardFor(std::string_view channel) const {
  return sharded_ ? *shards_[shardOf(channel, shards_.size())] : *shards_.front();
}

hub::PublishResult RedisBroker::publish(hub::Publication&& publication) {
  RedisPublisher& publisher = shardFor(publication.channel).publisher;
  if (tracer_ == nullptr) return publisher.publish(std::move(publication));
  telemetry::ActiveSpan span = hub::startPublishSpan(*tracer_, publication, "redis");
  hub::PublishResult result = publisher.publish(std::move(publication));
  hub::endPublishSpan(span, result);
  return result;
}

void RedisBroker::watched(const std::string& channel) {
  shardFor(channel).subscriber.watched(channel);
}

void RedisBroker::unwatched(const std::string& channel) {
  shardFor(channel).subscriber.unwatched(channel);
}

bool RedisBroker::start(std::string& /*error*/) {
  // An unreachable Redis does not stop the start: the instance is unready
  // until it connects, and keeps trying. A reachable one is connected
  // before the router says it serves (the first attempts are awaited,
  // bounded by the connect timeout; the shards connect side by side).
  for (auto& shard : shards_) {
    shard->publisher.start();
    shard->subscriber.start();
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(2 * connectTimeoutMs_ + 100);
  auto attempted = [this] {
    for (const auto& shard : shards_) {
      if (!shard->publisher.attempted() || !shard->subscriber.attempted()) return false;
    }
    return true;
  };
  while (!attempted() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void RedisBroker::stop() {
  for (auto& shard : shards_) {
    shard->publisher.stop();
    shard->subscriber.stop();
  }
}

bool RedisBroker::ready(std::string& detail) const {
  for (const auto& shard : shards_) {
    const RedisPublisher& publisher = shard->publisher;
    const RedisSubscriber& subscriber = shard->subscriber;
    if (publisher.connected() && subscriber.caughtUp()) continue;
    const std::string which = sharded_ ? "the broker (Redis shard " + publisher.address() + ")"
                                       : std::string("the broker (Redis)");
    detail = publisher.connected() && subscriber.connected()
                 ? which + " is back; channels are being caught up"
                 : which + " is unreachable";
    return false;
  }
  return true;
}

BrokerStats RedisBroker::stats() const {
  BrokerStats out;
  out.up = true;
  for (const auto& shard : shards_) {
    const RedisPublisher& publisher = shard->publisher;
    const RedisSubscriber& subscriber = shard->subscriber;
    out.up = out.up && publisher.connected() && subscriber.connected();
    out.errors += publisher.errors() + subscriber.errors();
    out.reconnects += publisher.reconnects() + subscriber.reconnects();
    out.publishFailures += publisher.failures();
    publisher.addLatency(out.commandLatency);
    subscriber.addLatency(out.commandLatency);
  }
  return out;
}

}  // namespace wsr::broker
