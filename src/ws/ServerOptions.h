#pragma once
// The engine's settings; the router fills them from config.yaml.

#include <cstddef>
#include <cstdint>
#include <string>

namespace wsr::ws {

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;  // 0: pick a free port (then read Server::port())
  unsigned workers = 0;  // event loops; 0: one per core
  int backlog = 4096;

  // Opening handshake.
  size_t maxHeaderBytes = 8192;        // request head above this: 431
  uint32_t handshakeTimeoutMs = 5000;  // head not complete by then: connection dropped

  // Messages.
  size_t maxMessageBytes = 1 << 20;  // a bigger client message closes with 1009
  bool perMessageDeflate = true;     // offer-accepting; see PerMessageDeflate.h
  size_t compressThreshold = 1024;   // smaller messages are sent uncompressed

  // Batching window: 0 writes at the end of each loop pass; otherwise data
  // frames wait up to this long and each connection's go out together (fewer
  // system calls, more latency). Control frames never wait.
  uint32_t flushIntervalMs = 0;

  // Liveness (0 disables each).
  uint32_t pingIntervalMs = 30000;  // a ping after this long without one
  uint32_t pongTimeoutMs = 10000;   // nothing received this long after a ping: dropped
  uint32_t idleTimeoutMs = 0;       // nothing received this long: closed with 1000
  uint32_t closeTimeoutMs = 2000;   // our close frame unanswered this long: dropped

  // A connection whose unsent output passes this many bytes is closed with
  // 1008: the last guard against a reader that never reads. Routers drop or
  // conflate long before this (per-namespace policies).
  size_t maxQueuedBytes = 64u << 20;
};

}  // namespace wsr::ws
