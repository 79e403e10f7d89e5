#pragma once
// This worker's view of one channel it has subscribers for: the shared
// Channel, held so the hub keeps it, and the local subscribers, each with
// the last seq it was given. Touched only on its worker's thread.

#include <cstdint>
#include <memory>
#include <vector>

#include "hub/Channel.h"

namespace wsr::hub {

struct Session;

struct Subscriber {
  Session* session;
  uint64_t lastSeq;  // the last seq this client has been given
};

struct LocalChannel {
  std::shared_ptr<Channel> shared;
  std::vector<Subscriber> subscribers;
};

}  // namespace wsr::hub
