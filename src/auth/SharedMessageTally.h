#pragma once
// One connection's client messages on their way to the shared count
// (limits.messages_per_minute across instances, broker.type redis). At most
// one addition is in flight per connection: the messages allowed meanwhile
// are summed and go with the next, so a chatty client costs one round trip
// per answer, not one per message. The connection learns its client's total
// with each answer; past the limit it is closed (4029), which means a burst
// may overshoot by the messages sent during one round trip. One thread (the
// connection's worker).

#include <cstdint>
#include <optional>

namespace wsr::auth {

class SharedMessageTally {
 public:
  // A message was allowed by the local limit: how many to add now (0: an
  // addition is in flight; this message goes with the next).
  uint32_t onMessage();

  struct Next {
    bool overLimit = false;  // the shared total is past the limit: close
    uint32_t add = 0;        // messages to add now (0: none waiting)
  };
  // The answer to the addition in flight: the client's total, or nothing
  // when the shared count could not be reached (the local limit alone
  // applies; the messages counted are not sent again).
  Next onAnswer(std::optional<uint64_t> total, uint32_t limit);

  bool inFlight() const { return inFlight_; }
  uint32_t waiting() const { return waiting_; }

 private:
  bool inFlight_ = false;
  uint32_t waiting_ = 0;  // allowed while an addition was in flight
};

}  // namespace wsr::auth
