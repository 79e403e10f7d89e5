#pragma once
// broker.type redis (mode standalone): every instance on one Redis acts as
// one router. Publications go to Redis (RedisPublisher: one script numbers,
// stores and publishes each); what Redis publishes reaches the workers of
// every instance with subscribers (RedisSubscriber -> Hub::accept). Two
// threads, three connections, none of it on a worker.

#include "broker/Broker.h"
#include "broker/RedisPublisher.h"
#include "broker/RedisSessionStore.h"
#include "broker/RedisSubscriber.h"
#include "hub/Hub.h"
#include "telemetry/Tracer.h"

namespace wsr::broker {

class RedisBroker final : public Broker {
 public:
  // Makes the hub's channels mirrors of Redis: construct before the hub
  // serves, and keep it as long as the hub.
  RedisBroker(const config::Config& config, hub::Hub& hub, telemetry::Logger& logger);
  ~RedisBroker() override;

  // Traced like the memory broker's (a broker.publish span, child of the
  // request's), when tracing is on.
  hub::PublishResult publish(hub::Publication&& publication) override;
  // One pipeline for all of them.
  std::vector<hub::PublishResult> publishBatch(
      std::vector<hub::Publication>&& publications) override;
  // Another instance may have subscribers: always worth publishing.
  bool hasSubscribers(std::string_view) const override { return true; }
  bool start(std::string& error) override;
  void stop() override;
  bool ready(std::string& detail) const override;
  std::string_view name() const override { return "redis"; }
  BrokerStats stats() const override;

 private:
  telemetry::Tracer* const tracer_;  // null: tracing is off
  const uint32_t connectTimeoutMs_;
  RedisPublisher publisher_;
  RedisSubscriber subscriber_;
  RedisSessionStore sessions_;  // resume, on any instance
};

}  // namespace wsr::broker
