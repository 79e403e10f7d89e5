#pragma once
// One client connection, from the first byte of its HTTP request to the end
// of its close handshake. Owned by one worker and touched only on that
// worker's thread. The application sees send(), close() and a few getters;
// the rest is the engine's state machine:
//
//   Handshake --101--> Open --close sent or received--> Closing --> gone
//       \--refusal or timeout-----------------------------------/

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/BufferRun.h"
#include "net/EventLoop.h"
#include "net/Fd.h"
#include "net/SendQueue.h"
#include "net/SharedBuffer.h"
#include "net/Socket.h"
#include "net/TimerWheel.h"
#include "ws/DeferredUpgrade.h"
#include "ws/FrameParser.h"
#include "ws/FrameWriter.h"
#include "ws/WebSocketHandler.h"

namespace wsr::ws {

class Worker;

class WebSocket final : net::EventLoop::IoHandler,
                        net::EventLoop::Flushable,
                        net::Timer::Handler,
                        FrameHandler {
 public:
  WebSocket(Worker& worker, net::Fd fd, const net::PeerAddress& peer, uint64_t id);
  ~WebSocket() override;
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  // Queues a message built once for many connections: its compressed twin
  // when this connection negotiated permessage-deflate. Dropped silently once
  // the connection is closing.
  void send(const PreparedMessage& message) { sendFrame(message.frameFor(deflate_)); }
  // Queues the frames of a run from `begin` on, a run fan-out built for many
  // connections (in the form this connection takes: plain or compressed),
  // as one send-queue entry: a whole pass of a channel's publications with
  // one state check, one flush request and one overflow check. Returns how
  // many frames were queued: all, or none when the connection is closing or
  // the run overflowed its send queue (which closes it).
  size_t send(const net::BufferRun& run, size_t begin);
  // Queues one prebuilt frame.
  void sendFrame(const net::SharedBuffer& frame);
  // Builds and queues a message for this connection alone (compressed when
  // negotiated and at least the compression threshold).
  void send(std::string_view payload, bool binary = false);
  // Starts the close handshake: close frame ahead of queued data, nothing
  // more sent after it, the TCP connection dropped when the peer answers or
  // after the close timeout.
  void close(uint16_t code, std::string_view reason = {});
  // close(code, reason) in `delayMs` (graceful shutdown spreads these).
  void closeAfter(uint64_t delayMs, uint16_t code, std::string_view reason);
  // Frames stamped at or before `stampNs` are left out of the write latency
  // (WorkerStats::writeLatency): history or a retained value sent to a new
  // subscriber is old by design, not late.
  void skipWriteTimingUpTo(uint64_t stampNs) { queue_.skipTimingUpTo(stampNs); }

  uint64_t id() const { return id_; }
  bool isOpen() const { return state_ == State::Open; }
  // Whether the peer sent the first close frame: it ended the connection
  // on purpose (a connection merely lost, or closed by us, did not).
  bool closedByPeer() const { return closedByPeer_; }
  bool deflate() const { return deflate_; }
  const net::PeerAddress& peer() const { return peer_; }
  // The socket buffer is full and output waits for EPOLLOUT: anything sent
  // now only lengthens the queue (the application may hold it back instead,
  // until onDrain).
  bool writeBlocked() const { return wantWrite_; }
  size_t queuedBytes() const { return queue_.bytes(); }
  size_t queuedFrames() const { return queue_.frames(); }
  uint64_t bytesSent() const { return queue_.bytesWritten(); }
  SessionData* session() const { return session_.get(); }
  Worker& worker() const { return worker_; }

  // Engine side: called by the worker.
  void start();

 private:
  friend class Worker;
  friend class DeferredUpgrade;

  enum class State : uint8_t { Handshake, Open, Closing, Gone };

  // IoHandler, Flushable, Timer::Handler.
  void onIo(uint32_t events) override;
  void flushPass() override;
  void onTimer(net::Timer& timer) override;
  // FrameHandler.
  void onMessage(std::string_view payload, bool binary) override;
  void onPing(std::string_view payload) override;
  void onPong(std::string_view payload) override;
  void onClose(uint16_t code, std::string_view reason) override;

  void readAvailable();
  void onHandshakeBytes(std::string_view bytes);
  void finishHandshake(size_t headLength);
  // The handler's decision on the request head's first `headLength` bytes,
  // given at once or later (answerLater, through a DeferredUpgrade).
  void completeUpgrade(const HandshakeRequest& request, UpgradeDecision decision,
                       size_t headLength);
  void answerLater(UpgradeDecision decision);
  void refuse(int status, std::string_view code, std::string_view message,
              const std::vector<std::string>& headers = {});
  // A plain GET or HEAD the handler answers (onHttpRequest); false when it is
  // not one, or the handler leaves it to the 400.
  bool answerPlainRequest(std::string_view head);
  // Our last word before any WebSocket byte: written, then the connection closes.
  void answerAndClose(const std::string& response);
  void onFrameBytes(std::string_view bytes);
  void failConnection(uint16_t code, std::string_view reason);
  void queue(net::SharedBuffer frame, bool urgent);
  // After data frames were queued: a flush now or in the next batch.
  void requestDataFlush();
  // Closes with 1008 when data frames left the send queue over its limit.
  bool closeIfOverflowed();
  void requestFlush();
  void requestBatchedFlush();
  void flushNow();
  void setWantWrite(bool want);
  void scheduleTimer();
  // Ends the connection now: unregisters, tells the application (with the
  // close code sent or received, 1006 if none), and hands the object to the
  // worker to free at the end of the pass.
  void destroy();

  Worker& worker_;
  net::Fd fd_;
  net::PeerAddress peer_;
  uint64_t id_;
  size_t slot_ = 0;  // index in the worker's connection list
  State state_ = State::Handshake;
  bool deflate_ = false;
  bool flushRequested_ = false;
  bool batched_ = false;  // waiting for the worker's next batch flush
  size_t batchSlot_ = 0;  // where, in the worker's batch list
  bool wantWrite_ = false;
  bool closeAfterFlush_ = false;  // drop TCP once the queue drains
  bool halfClosed_ = false;       // our side is shut down; waiting for the peer's EOF
  bool closeSent_ = false;
  bool closedByPeer_ = false;
  bool awaitingPong_ = false;
  uint16_t closeCode_ = close_code::kAbnormal;  // reported to onClose
  std::string closeReason_;

  uint64_t lastReceivedMs_ = 0;
  uint64_t lastPingMs_ = 0;
  uint64_t deadlineMs_ = 0;  // handshake or close deadline, by state
  uint64_t closeAtMs_ = 0;   // closeAfter()'s moment; 0: none
  uint16_t closeAtCode_ = 0;
  std::string closeAtReason_;
  net::Timer timer_{this};

  std::string handshakeBuffer_;              // request head bytes; emptied after the upgrade
  std::unique_ptr<SessionData> acceptHold_;  // onAccept's, until the head is complete
  // While the handler's decision is awaited (UpgradeDecision::later()): what
  // its DeferredUpgrade points to, and the head's length in handshakeBuffer_.
  std::shared_ptr<WebSocket*> awaited_;
  size_t awaitedHeadLength_ = 0;
  std::unique_ptr<FrameParser> parser_;
  net::SendQueue queue_;
  std::unique_ptr<SessionData> session_;
};

}  // namespace wsr::ws
