#pragma once
// broker.type memory: this process alone. Publications go straight to the
// hub, which numbers, stores and fans them out (what runs without Redis);
// no thread, no queue, no copy on the way.

#include "broker/Broker.h"
#include "hub/Hub.h"

namespace wsr::broker {

class MemoryBroker final : public Broker {
 public:
  explicit MemoryBroker(hub::Hub& hub) : hub_(hub) {}

  hub::PublishResult publish(hub::Publication&& publication) override {
    return hub_.publish(std::move(publication));
  }
  std::vector<hub::PublishResult> publishBatch(
      std::vector<hub::Publication>&& publications) override {
    return hub_.publishBatch(std::move(publications));
  }
  bool mayWait() const override { return hub_.mayWait(); }
  bool hasSubscribers(std::string_view channel) const override {
    return hub_.hasSubscribers(channel);
  }
  bool start(std::string&) override { return true; }
  void stop() override {}
  bool ready(std::string&) const override { return true; }
  std::string_view name() const override { return "memory"; }
  BrokerStats stats() const override { return {}; }

 private:
  hub::Hub& hub_;
};

}  // namespace wsr::broker
