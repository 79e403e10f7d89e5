#include "broker/ClusterSlotMap.h"

#include <hiredis/hiredis.h>

#include <algorithm>

namespace wsr::broker {

bool ClusterSlotMap::sameAs(const ClusterSlotMap& other) const {
  for (size_t slot = 0; slot < kClusterSlots; ++slot) {
    if (masters_[owners_[slot]] != other.masters_[other.owners_[slot]]) return false;
  }
  return true;
}

std::shared_ptr<const ClusterSlotMap> ClusterSlotMap::parse(const redisReply* reply,
                                                            std::string& error) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
    error = reply != nullptr && reply->type == REDIS_REPLY_ERROR
                ? "CLUSTER SLOTS refused: " + std::string(reply->str, reply->len)
                : std::string("CLUSTER SLOTS: not an array");
    return nullptr;
  }
  std::shared_ptr<ClusterSlotMap> map(new ClusterSlotMap());
  std::vector<bool> served(kClusterSlots, false);
  // Each entry: start, end, then the master [host, port, id, ...], then replicas.
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* range = reply->element[i];
    if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
        range->element[0]->type != REDIS_REPLY_INTEGER ||
        range->element[1]->type != REDIS_REPLY_INTEGER ||
        range->element[2]->type != REDIS_REPLY_ARRAY || range->element[2]->elements < 2) {
      error = "CLUSTER SLOTS: an entry is not start, end, master";
      return nullptr;
    }
    const long long start = range->element[0]->integer;
    const long long end = range->element[1]->integer;
    const redisReply* master = range->element[2];
    if (start < 0 || end < start || end >= kClusterSlots ||
        master->element[0]->type != REDIS_REPLY_STRING ||
        master->element[1]->type != REDIS_REPLY_INTEGER) {
      error = "CLUSTER SLOTS: a slot range or master is malformed";
      return nullptr;
    }
    const std::string address = std::string(master->element[0]->str, master->element[0]->len) +
                                ":" + std::to_string(master->element[1]->integer);
    auto it = std::find(map->masters_.begin(), map->masters_.end(), address);
    const auto index = static_cast<uint16_t>(it - map->masters_.begin());
    if (it == map->masters_.end()) map->masters_.push_back(address);
    for (long long slot = start; slot <= end; ++slot) {
      map->owners_[static_cast<size_t>(slot)] = index;
      served[static_cast<size_t>(slot)] = true;
    }
  }
  const auto unserved = std::find(served.begin(), served.end(), false);
  if (unserved != served.end()) {
    error = "CLUSTER SLOTS: slot " + std::to_string(unserved - served.begin()) + " is not served";
    return nullptr;
  }
  return map;
}

}  // namespace wsr::broker
