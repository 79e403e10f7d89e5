#pragma once
// A publication after the hub accepted it: its seq and time, and its frames,
// built once (plain, and compressed when the namespace's threshold says so)
// and shared by every subscriber, every worker and the history.

#include <cstdint>
#include <string>

#include "ws/FrameWriter.h"

namespace wsr::hub {

struct PublishedMessage {
  std::string channel;
  std::string key;  // conflation key, may be empty
  uint64_t seq = 0;
  int64_t tsMs = 0;
  // Monotonic (net::EventLoop::monotonicNs) when the hub assigned the seq;
  // the frames carry it as their stamp, for the latency histograms.
  uint64_t acceptedNs = 0;
  ws::PreparedMessage frames;
};

}  // namespace wsr::hub
