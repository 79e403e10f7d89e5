#pragma once
// This worker's view of one channel it has subscribers for: the shared
// Channel, held so the hub keeps it, and the local subscribers, each with
// the last seq it was given. Touched only on its worker's thread.

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "hub/Channel.h"

namespace wsr::hub {

struct Session;

struct Subscriber {
  Session* session;
  uint64_t lastSeq;  // the last seq this client has been given
};

// The lastSeq of a subscriber whose `subscribed` waits for the mirror to be
// primed from Redis: fan-out takes it for one that has had everything.
inline constexpr uint64_t kWaitingSeq = std::numeric_limits<uint64_t>::max();

// A subscribe request waiting for the mirror (broker.type redis).
struct WaitingJoin {
  Session* session;
  std::optional<int64_t> id;
  std::optional<uint64_t> since;
};

struct LocalChannel {
  std::shared_ptr<Channel> shared;
  std::vector<Subscriber> subscribers;
  std::vector<WaitingJoin> waiting;
  // The highest seq this worker's inbox shed: a hole up to it is the
  // overload's.
  uint64_t shedUpTo = 0;
};

}  // namespace wsr::hub
