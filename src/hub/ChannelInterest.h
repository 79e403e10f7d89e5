#pragma once
// Who must know which channels this instance watches: the Redis broker
// subscribes in Redis to a channel while a worker here has subscribers for
// it, and no longer after. Null in the hub with broker.type memory, where
// nothing outside the process needs to know.

#include <string>

namespace wsr::hub {

class ChannelInterest {
 public:
  virtual ~ChannelInterest() = default;
  // Both are called under the channel's state lock, from a worker thread:
  // they may only queue work for the broker's own thread.
  virtual void watched(const std::string& channel) = 0;    // its first worker joined
  virtual void unwatched(const std::string& channel) = 0;  // its last worker left
};

}  // namespace wsr::hub
