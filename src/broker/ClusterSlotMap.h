#pragma once
// broker.redis.mode cluster: which master serves each hash slot, as one
// node answered `CLUSTER SLOTS`. Immutable once parsed; a newer map
// replaces it whole (ClusterTopology).

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/ClusterSlot.h"

struct redisReply;

namespace wsr::broker {

class ClusterSlotMap {
 public:
  // The map from a `CLUSTER SLOTS` answer; null (with `error`) when it is
  // not one, or leaves a slot unserved.
  static std::shared_ptr<const ClusterSlotMap> parse(const redisReply* reply, std::string& error);

  // host:port of the master serving `slot`.
  const std::string& owner(uint16_t slot) const { return masters_[owners_[slot]]; }
  const std::string& ownerOfChannel(std::string_view channel) const {
    return owner(channelSlot(channel));
  }
  // Whether both name the same master for every slot.
  bool sameAs(const ClusterSlotMap& other) const;
  // Every master serving a slot, each once.
  const std::vector<std::string>& masters() const { return masters_; }

 private:
  ClusterSlotMap() = default;
  std::vector<std::string> masters_;
  std::array<uint16_t, kClusterSlots> owners_{};  // index into masters_
};

}  // namespace wsr::broker
