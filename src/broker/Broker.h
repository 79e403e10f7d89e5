#pragma once
// The broker: where publications enter and how they reach the instances.
// Two implementations, chosen by broker.type: MemoryBroker (this process
// alone: the hub numbers, stores and fans out) and RedisBroker (Redis
// numbers and stores, every instance fans out what Redis publishes). The
// admin API and the demo feed publish through it (hub::PublishSink); the
// wiring asks it for readiness and metrics.
//
// Dependencies point one way: src/broker knows the hub, the hub knows only
// hub::ChannelInterest, which RedisBroker implements.

#include <cstdint>
#include <string>
#include <string_view>

#include "hub/PublishSink.h"
#include "stats/LatencyHistogram.h"

namespace wsr::broker {

// What the broker counts, read at scrape time.
struct BrokerStats {
  bool up = true;                // connected (memory: always)
  uint64_t errors = 0;           // failed operations: connections lost, commands that failed
  uint64_t reconnects = 0;       // connections made again after one was lost or refused
  uint64_t publishFailures = 0;  // publications answered 503 because of the broker
  // Redis: what the mirrors met (RedisSubscriber says what each is).
  uint64_t replayed = 0;
  uint64_t lost = 0;
  uint64_t epochChanges = 0;
  uint64_t numberingConflicts = 0;
  stats::LatencyHistogram::Snapshot commandLatency;  // Redis command round trips
};

class Broker : public hub::PublishSink {
 public:
  // Starts its threads (none for memory); false with `error` when it cannot.
  virtual bool start(std::string& error) = 0;
  // Stops its threads; publications are refused from then on.
  virtual void stop() = 0;
  // Whether the instance may be given clients and publications (/readyz);
  // `detail` says why not.
  virtual bool ready(std::string& detail) const = 0;
  virtual std::string_view name() const = 0;  // the metrics' `broker` label
  virtual BrokerStats stats() const = 0;
};

}  // namespace wsr::broker
