#pragma once
// What one worker's engine counts: connections, handshake refusals by
// reason, timeouts, bytes, write latency. Only the worker's own thread
// writes (singleWriterAdd: no locked instruction on the data path); anyone
// may read at any time (the admin stats, the /metrics scrape). Nothing here
// knows what the application does with the connections.

#include <atomic>
#include <cstdint>

#include "stats/LatencyHistogram.h"

namespace wsr::ws {

struct WorkerStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> upgraded{0};
  std::atomic<uint64_t> refused{0};  // handshake answered with an HTTP error, any reason
  // The engine's own refusals (the application's are its to count):
  std::atomic<uint64_t> badHandshakes{0};   // not a valid upgrade request: 400 or 426
  std::atomic<uint64_t> headerTooLarge{0};  // request head over maxHeaderBytes: 431
  std::atomic<uint64_t> handshakeTimeouts{0};
  std::atomic<uint64_t> protocolErrors{0};  // closed by us for a peer's protocol violation
  std::atomic<uint64_t> heartbeatTimeouts{0};
  std::atomic<uint64_t> idleTimeouts{0};    // closed with 1000 after idleTimeoutMs of silence
  std::atomic<uint64_t> overflowCloses{0};  // closed for exceeding maxQueuedBytes
  std::atomic<uint64_t> open{0};            // connections currently open (upgraded)
  std::atomic<uint64_t> bytesRead{0};       // from client sockets, handshakes included
  std::atomic<uint64_t> bytesWritten{0};    // to client sockets, as sent (compressed or not)
  // From a frame's stamp (when its publication was accepted) to the write
  // that started sending it: the oldest stamped frame of each flush.
  stats::LatencyHistogram writeLatency;
};

}  // namespace wsr::ws
