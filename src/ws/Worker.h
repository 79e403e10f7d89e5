#pragma once
// One event loop thread's share of the server: its own SO_REUSEPORT listener,
// its own connections, its own handler and deflater. Nothing here is shared
// with other workers; they talk through EventLoop::post().

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/EventLoop.h"
#include "net/Fd.h"
#include "net/SharedBuffer.h"
#include "ws/PerMessageDeflate.h"
#include "ws/ServerOptions.h"
#include "ws/WebSocketHandler.h"
#include "ws/WorkerStats.h"

namespace wsr::ws {

class WebSocket;

class Worker final : net::EventLoop::IoHandler, net::Timer::Handler {
 public:
  Worker(unsigned index, const ServerOptions& options);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens the listener (port 0: any free port). Before run().
  bool listen(uint16_t port, std::string& error);
  uint16_t port() const { return port_; }
  void setHandler(std::unique_ptr<WebSocketHandler> handler) { handler_ = std::move(handler); }
  // Runs the loop on the calling thread until stopped.
  void run() { loop_.run(); }

  // On the worker's thread: closes the listener (draining), and iterates
  // the open connections.
  void stopAccepting();
  // Closes every open connection with `code` at a moment drawn uniformly
  // from [0, windowMs): a pod's clients do not all reconnect at once.
  void closeAllSpread(uint16_t code, std::string_view reason, uint32_t windowMs);
  // Calls fn(WebSocket&) for every open connection. fn may send and close
  // (neither frees a connection before the end of the pass).
  template <typename Fn>
  void forEachConnection(Fn&& fn);
  size_t connectionCount() const { return openCount_; }

  net::EventLoop& loop() { return loop_; }
  unsigned index() const { return index_; }
  const ServerOptions& options() const { return options_; }
  WebSocketHandler& handler() { return *handler_; }
  Deflater& deflater() { return deflater_; }
  WorkerStats& stats() { return stats_; }
  // Shared per-worker scratch for reads: connections never keep a read buffer.
  std::string& readBuffer() { return readBuffer_; }
  std::string& compressScratch() { return compressScratch_; }
  // One empty ping frame, shared by every heartbeat of this worker.
  const net::SharedBuffer& pingFrame() const { return pingFrame_; }

  // Engine side, called by WebSocket.
  void opened(WebSocket& socket);
  void retire(WebSocket& socket, bool wasOpen);
  // The batching window (ServerOptions::flushIntervalMs): `socket` flushes
  // at the next batch tick; leaveBatch() when it goes first.
  void flushInNextBatch(WebSocket& socket);
  void leaveBatch(WebSocket& socket);

 private:
  void onIo(uint32_t events) override;
  void onTimer(net::Timer& timer) override;
  void acceptAll();
  void freeRetired();

  unsigned index_;
  const ServerOptions& options_;
  net::EventLoop loop_;
  net::Fd listener_;
  uint16_t port_ = 0;
  net::Timer acceptRetry_{this};   // re-arms the listener after EMFILE
  net::Timer batchTimer_{this};    // the batching window's tick
  std::vector<WebSocket*> batch_;  // null where a connection left
  std::unique_ptr<WebSocketHandler> handler_;
  Deflater deflater_;
  WorkerStats stats_;
  std::string readBuffer_;
  std::string compressScratch_;
  net::SharedBuffer pingFrame_;
  uint64_t nextId_;

  // Every connection this worker owns, in no order: a connection knows its
  // slot, so removal is a swap with the last. Retired ones live until the
  // end of the pass, so no event or timer of this pass can reach freed memory.
  std::vector<std::unique_ptr<WebSocket>> connections_;
  std::vector<std::unique_ptr<WebSocket>> retired_;
  size_t openCount_ = 0;
};

}  // namespace wsr::ws

#include "ws/WebSocket.h"

namespace wsr::ws {

template <typename Fn>
void Worker::forEachConnection(Fn&& fn) {
  for (const auto& socket : connections_) {
    if (socket->isOpen()) fn(*socket);
  }
}

}  // namespace wsr::ws
