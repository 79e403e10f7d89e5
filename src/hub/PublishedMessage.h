#pragma once
// A publication after the hub accepted it: its seq and time, and its frames,
// built once (plain, and compressed when the namespace's threshold says so)
// and shared by every subscriber, every worker and the history.

#include <cstdint>
#include <string>

#include "telemetry/TraceContext.h"
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
  // The broker span's context, so each worker's fan-out span is its child;
  // not sampled (the default) when tracing is off or the trace is not kept.
  telemetry::TraceContext trace;
  // Mirrors of Redis (broker.type redis) only: the broker lost the seqs
  // before this one (`gap` reason `not_in_history`), or the channel's
  // numbering restarted under a new epoch (`gap` reason `epoch`).
  bool afterHole = false;
  bool restart = false;
  // Mirrors only: the publication's id, given by the instance that
  // published it (0: not known). The same seq with another id is another
  // publication: the numbering diverged (a failover lost writes).
  uint64_t origin = 0;
};

}  // namespace wsr::hub
