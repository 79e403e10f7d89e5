#include "ws/WebSocket.h"

#include <sys/socket.h>

#include <cerrno>

#include "stats/SingleWriter.h"
#include "ws/Worker.h"

namespace wsr::ws {
namespace {

constexpr uint64_t kNever = UINT64_MAX;
// Reads per readiness event before yielding to other connections.
constexpr int kMaxReadsPerEvent = 4;

uint64_t earliest(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}

}  // namespace

WebSocket::WebSocket(Worker& worker, net::Fd fd, const net::PeerAddress& peer, uint64_t id)
    : worker_(worker), fd_(std::move(fd)), peer_(peer), id_(id) {}

WebSocket::~WebSocket() = default;

void WebSocket::start() {
  net::EventLoop& loop = worker_.loop();
  loop.add(fd_.get(), EPOLLIN | EPOLLRDHUP, this);
  lastReceivedMs_ = loop.nowMs();
  deadlineMs_ = loop.nowMs() + worker_.options().handshakeTimeoutMs;
  scheduleTimer();
  UpgradeDecision decision = worker_.handler().onAccept(peer_);
  if (decision.status != 0) {
    refuse(decision.status, decision.code, decision.message, decision.headers);
    return;
  }
  acceptHold_ = std::move(decision.session);
}

// ---- Input -----------------------------------------------------------------

void WebSocket::onIo(uint32_t events) {
  if (state_ == State::Gone) return;
  if ((events & EPOLLERR) != 0) {
    destroy();
    return;
  }
  if ((events & EPOLLOUT) != 0) {
    flushNow();
    if (state_ == State::Gone) return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) != 0) readAvailable();
}

void WebSocket::readAvailable() {
  std::string& buffer = worker_.readBuffer();
  for (int i = 0; i < kMaxReadsPerEvent && state_ != State::Gone; ++i) {
    ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n == 0) {
      destroy();  // the peer closed TCP
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) destroy();
      return;
    }
    lastReceivedMs_ = worker_.loop().nowMs();
    stats::singleWriterAdd(worker_.stats().bytesRead, static_cast<uint64_t>(n));
    const std::string_view bytes(buffer.data(), static_cast<size_t>(n));
    // After our last word (a refusal, or a close handshake done) input is
    // read only to see the peer's EOF, and thrown away.
    if (closeAfterFlush_) continue;
    if (state_ == State::Handshake) {
      onHandshakeBytes(bytes);
    } else {
      onFrameBytes(bytes);
    }
    if (static_cast<size_t>(n) < buffer.size()) return;  // drained
  }
}

void WebSocket::onHandshakeBytes(std::string_view bytes) {
  const size_t limit = worker_.options().maxHeaderBytes;
  if (awaited_) {
    // Frames sent before the 101, kept for after it: a client may send no
    // more than a message and a head's worth meanwhile.
    if (handshakeBuffer_.size() + bytes.size() >
        awaitedHeadLength_ + limit + worker_.options().maxMessageBytes) {
      destroy();
      return;
    }
    handshakeBuffer_.append(bytes);
    return;
  }
  // Search from just before the new bytes: the blank line may straddle reads.
  const size_t searchFrom = handshakeBuffer_.size() > 3 ? handshakeBuffer_.size() - 3 : 0;
  handshakeBuffer_.append(bytes);
  const size_t headEnd = findRequestHeadEnd(std::string_view(handshakeBuffer_).substr(searchFrom));
  const size_t headLength = headEnd == 0 ? 0 : searchFrom + headEnd;
  if ((headLength == 0 && handshakeBuffer_.size() > limit) || headLength > limit) {
    stats::singleWriterAdd(worker_.stats().headerTooLarge);
    refuse(431, "BAD_HANDSHAKE",
           "request header block is larger than " + std::to_string(limit) + " bytes");
    return;
  }
  if (headLength != 0) finishHandshake(headLength);
}

void WebSocket::finishHandshake(size_t headLength) {
  // What onAccept held for this connection is given back before onUpgrade
  // takes its own: the application counts the connection once either way.
  acceptHold_.reset();
  const std::string_view head(handshakeBuffer_.data(), headLength);
  HandshakeRequest request;
  HandshakeError error;
  if (!parseHandshake(head, request, error)) {
    if (answerPlainRequest(head)) return;
    stats::singleWriterAdd(worker_.stats().badHandshakes);
    refuse(error.status, "BAD_HANDSHAKE", error.message);
    return;
  }
  auto target = std::make_shared<WebSocket*>(this);
  UpgradeDecision decision =
      worker_.handler().onUpgrade(request, peer_, DeferredUpgrade(std::weak_ptr(target)));
  if (decision.deferred) {
    awaited_ = std::move(target);
    awaitedHeadLength_ = headLength;
    return;
  }
  completeUpgrade(request, std::move(decision), headLength);
}

void WebSocket::answerLater(UpgradeDecision decision) {
  awaited_.reset();  // answered once
  if (state_ != State::Handshake || closeAfterFlush_) return;
  // The head is parsed again: the views of the first parse pointed into a
  // buffer that early frames may have grown since.
  const std::string_view head(handshakeBuffer_.data(), awaitedHeadLength_);
  HandshakeRequest request;
  HandshakeError error;
  if (!parseHandshake(head, request, error)) return;  // it parsed the first time
  completeUpgrade(request, std::move(decision), awaitedHeadLength_);
}

void WebSocket::completeUpgrade(const HandshakeRequest& request, UpgradeDecision decision,
                                size_t headLength) {
  if (decision.status != 0 || decision.deferred) {
    // A handler answering later with later() again is a bug: refused, not hung.
    if (decision.status == 0) decision = UpgradeDecision::refuse(500, "INTERNAL", "no decision");
    refuse(decision.status, decision.code, decision.message, decision.headers);
    return;
  }

  const ServerOptions& options = worker_.options();
  DeflateAgreement agreement;
  deflate_ =
      options.perMessageDeflate &&
      negotiatePerMessageDeflate(request.headerTokens("Sec-WebSocket-Extensions"), agreement);
  std::string response = buildUpgradeResponse(request.key, decision.protocol,
                                              deflate_ ? agreement.responseHeader : "");
  parser_ = std::make_unique<FrameParser>(
      ParserLimits{options.maxMessageBytes, deflate_, agreement.clientNoContextTakeover});
  session_ = std::move(decision.session);

  // Bytes the client sent right behind its request are its first frames.
  std::string early = handshakeBuffer_.substr(headLength);
  std::string().swap(handshakeBuffer_);

  state_ = State::Open;
  lastPingMs_ = worker_.loop().nowMs();
  queue(net::SharedBuffer::copyOf(response), true);
  worker_.opened(*this);
  scheduleTimer();
  worker_.handler().onOpen(*this);
  if (!early.empty() && state_ == State::Open) onFrameBytes(early);
}

void WebSocket::refuse(int status, std::string_view code, std::string_view message,
                       const std::vector<std::string>& headers) {
  stats::singleWriterAdd(worker_.stats().refused);
  acceptHold_.reset();
  answerAndClose(buildErrorResponse(status, code, message, headers));
}

bool WebSocket::answerPlainRequest(std::string_view head) {
  HandshakeRequest request;
  HandshakeError ignored;
  if (!parsePlainRequest(head, request, ignored) || asksForUpgrade(request)) return false;
  const std::optional<HttpResponse> response = worker_.handler().onHttpRequest(request, peer_);
  if (!response) return false;
  // Built before answerAndClose() frees the head `request` points into.
  answerAndClose(buildHttpResponse(*response, request.method == "HEAD"));
  return true;
}

void WebSocket::answerAndClose(const std::string& response) {
  std::string().swap(handshakeBuffer_);
  queue(net::SharedBuffer::copyOf(response), true);
  closeAfterFlush_ = true;
  deadlineMs_ = worker_.loop().nowMs() + worker_.options().closeTimeoutMs;
  scheduleTimer();
}

void WebSocket::onFrameBytes(std::string_view bytes) {
  if (parser_->closed()) return;
  if (ParseError error = parser_->feed(bytes, *this)) {
    stats::singleWriterAdd(worker_.stats().protocolErrors);
    failConnection(error.closeCode, error.reason);
  }
}

// ---- Frames from the parser ------------------------------------------------

void WebSocket::onMessage(std::string_view payload, bool binary) {
  if (state_ == State::Open) worker_.handler().onMessage(*this, payload, binary);
}

void WebSocket::onPing(std::string_view payload) {
  if (state_ != State::Open) return;
  if (!worker_.handler().onPing(*this) || state_ != State::Open) return;
  // RFC 6455 5.5.3 allows answering only the most recent ping: a peer that
  // pings and never reads holds one pong here, not one per ping.
  queue_.pushLatestUrgent(buildFrame(Opcode::Pong, payload));
  requestFlush();
}

void WebSocket::onPong(std::string_view /*payload*/) {
  awaitingPong_ = false;
}

void WebSocket::onClose(uint16_t code, std::string_view reason) {
  if (closeSent_) {
    // The answer to our close: the handshake is complete.
    closeAfterFlush_ = true;
    requestFlush();
    return;
  }
  // The peer closes first: answer with its code and stop sending data.
  closedByPeer_ = true;
  closeCode_ = code;
  closeReason_ = reason;
  queue_.clearPending();
  queue(buildCloseFrame(code, {}), true);
  closeSent_ = true;
  closeAfterFlush_ = true;
  state_ = State::Closing;
  deadlineMs_ = worker_.loop().nowMs() + worker_.options().closeTimeoutMs;
  scheduleTimer();
}

void WebSocket::failConnection(uint16_t code, std::string_view reason) {
  if (closeSent_) {
    closeAfterFlush_ = true;
    requestFlush();
    return;
  }
  close(code, reason);
  // RFC 6455 7.1.7: after a protocol failure, no need to wait for the peer's close.
  closeAfterFlush_ = true;
}

// ---- Output ----------------------------------------------------------------

void WebSocket::sendFrame(const net::SharedBuffer& frame) {
  if (state_ != State::Open) return;
  queue(frame, false);
  closeIfOverflowed();
}

size_t WebSocket::send(const net::BufferRun& run, size_t begin) {
  if (state_ != State::Open || begin >= run.size()) return 0;
  queue_.push(run, begin);
  requestDataFlush();
  return closeIfOverflowed() ? 0 : run.size() - begin;
}

bool WebSocket::closeIfOverflowed() {
  if (queue_.bytes() <= worker_.options().maxQueuedBytes) return false;
  stats::singleWriterAdd(worker_.stats().overflowCloses);
  close(close_code::kPolicyViolation, "send queue overflow");
  return true;
}

void WebSocket::send(std::string_view payload, bool binary) {
  if (state_ != State::Open) return;
  const Opcode opcode = binary ? Opcode::Binary : Opcode::Text;
  if (deflate_ && payload.size() >= worker_.options().compressThreshold) {
    std::string& compressed = worker_.compressScratch();
    worker_.deflater().compress(payload, compressed);
    if (compressed.size() < payload.size()) {
      sendFrame(buildFrame(opcode, compressed, true));
      return;
    }
  }
  sendFrame(buildFrame(opcode, payload));
}

void WebSocket::close(uint16_t code, std::string_view reason) {
  if (state_ != State::Open) return;
  // 1005, 1006 and the unassigned ranges must never reach the wire: a code
  // the application got wrong is still a close, an internal error one.
  if (!isValidCloseCode(code)) code = close_code::kInternalError;
  state_ = State::Closing;
  closeSent_ = true;
  closeCode_ = code;
  closeReason_ = reason;
  // Queued data would only delay the close; a client that wants what it
  // missed asks for it again (`since`) on its next connection.
  queue_.clearPending();
  queue(buildCloseFrame(code, reason), true);
  deadlineMs_ = worker_.loop().nowMs() + worker_.options().closeTimeoutMs;
  scheduleTimer();
}

void WebSocket::closeAfter(uint64_t delayMs, uint16_t code, std::string_view reason) {
  if (state_ != State::Open) return;
  closeAtMs_ = worker_.loop().nowMs() + delayMs;
  closeAtCode_ = code;
  closeAtReason_ = reason;
  scheduleTimer();
}

void WebSocket::queue(net::SharedBuffer frame, bool urgent) {
  if (urgent) {
    queue_.pushUrgent(std::move(frame));
    requestFlush();
    return;
  }
  queue_.push(std::move(frame));
  requestDataFlush();
}

void WebSocket::requestDataFlush() {
  if (worker_.options().flushIntervalMs == 0) {
    requestFlush();
  } else {
    requestBatchedFlush();
  }
}

void WebSocket::requestBatchedFlush() {
  if (batched_ || flushRequested_ || wantWrite_) return;
  batched_ = true;
  worker_.flushInNextBatch(*this);
}

void WebSocket::requestFlush() {
  // While blocked, EPOLLOUT will flush; otherwise once at the end of the pass,
  // however many frames this pass queued.
  if (flushRequested_ || wantWrite_) return;
  flushRequested_ = true;
  worker_.loop().flushAtEndOfPass(this);
}

void WebSocket::flushPass() {
  flushRequested_ = false;
  if (state_ != State::Gone) flushNow();
}

void WebSocket::flushNow() {
  const uint64_t writtenBefore = queue_.bytesWritten();
  const net::SendQueue::FlushResult result = queue_.flush(fd_.get());
  WorkerStats& stats = worker_.stats();
  stats::singleWriterAdd(stats.bytesWritten, queue_.bytesWritten() - writtenBefore);
  if (const uint64_t stamp = queue_.flushedStampNs()) {
    const uint64_t now = net::EventLoop::monotonicNs();
    stats.writeLatency.observe(now > stamp ? now - stamp : 0);
  }
  switch (result) {
    case net::SendQueue::FlushResult::Drained: {
      const bool wasBlocked = wantWrite_;
      setWantWrite(false);
      // Whatever onDrain queues is flushed at the end of this pass.
      if (wasBlocked && state_ == State::Open) worker_.handler().onDrain(*this);
      if (closeAfterFlush_ && !halfClosed_) {
        // Our last frame is out: half-close, then wait for the peer's EOF.
        // Closing outright while the peer still sends would make the kernel
        // answer with RST, which can destroy the frame we just wrote.
        ::shutdown(fd_.get(), SHUT_WR);
        halfClosed_ = true;
        deadlineMs_ = worker_.loop().nowMs() + worker_.options().closeTimeoutMs;
        scheduleTimer();
      }
      break;
    }
    case net::SendQueue::FlushResult::Blocked:
      setWantWrite(true);
      break;
    case net::SendQueue::FlushResult::Failed:
      destroy();
      break;
  }
}

void WebSocket::setWantWrite(bool want) {
  if (want == wantWrite_) return;
  wantWrite_ = want;
  worker_.loop().modify(fd_.get(), EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u), this);
}

// ---- Timers ----------------------------------------------------------------

void WebSocket::scheduleTimer() {
  uint64_t next = kNever;
  if (state_ != State::Open || closeAfterFlush_) {
    next = deadlineMs_;
  } else {
    const ServerOptions& options = worker_.options();
    if (awaitingPong_) {
      next = lastPingMs_ + options.pongTimeoutMs;  // the next ping waits for it
    } else if (options.pingIntervalMs != 0) {
      next = lastPingMs_ + options.pingIntervalMs;
    }
    if (options.idleTimeoutMs != 0 && !awaitingPong_) {
      next = earliest(next, lastReceivedMs_ + options.idleTimeoutMs);
    }
    if (closeAtMs_ != 0) next = earliest(next, closeAtMs_);
  }
  if (next == kNever) {
    worker_.loop().timers().cancel(timer_);
  } else {
    worker_.loop().timers().schedule(timer_, next);
  }
}

void WebSocket::onTimer(net::Timer& /*timer*/) {
  const uint64_t now = worker_.loop().nowMs();
  const ServerOptions& options = worker_.options();
  if (state_ != State::Open || closeAfterFlush_) {
    if (now < deadlineMs_) {
      scheduleTimer();
      return;
    }
    if (state_ == State::Handshake && !closeAfterFlush_) {
      stats::singleWriterAdd(worker_.stats().handshakeTimeouts);
    }
    destroy();
    return;
  }
  if (closeAtMs_ != 0 && now >= closeAtMs_) {
    close(closeAtCode_, closeAtReason_);
    return;
  }
  if (awaitingPong_ && now >= lastPingMs_ + options.pongTimeoutMs) {
    if (lastReceivedMs_ < lastPingMs_) {
      // Neither a pong nor anything else: the peer or the path is dead, and
      // a close frame would go unanswered too.
      stats::singleWriterAdd(worker_.stats().heartbeatTimeouts);
      destroy();
      return;
    }
    awaitingPong_ = false;
  }
  // A due ping goes out before idleness is judged, and a connection awaiting
  // its pong is not idle (the pong timeout decides): otherwise a ping
  // interval equal to the idle timeout, as in the default settings, would
  // close healthy clients in the instant before their pong arrives.
  // No second ping while one awaits its pong: it would move lastPingMs_
  // on, and a pong timeout longer than the interval would never expire.
  if (options.pingIntervalMs != 0 && !awaitingPong_ &&
      now >= lastPingMs_ + options.pingIntervalMs) {
    queue(worker_.pingFrame(), true);
    lastPingMs_ = now;
    awaitingPong_ = options.pongTimeoutMs != 0;
  }
  if (options.idleTimeoutMs != 0 && !awaitingPong_ &&
      now >= lastReceivedMs_ + options.idleTimeoutMs) {
    stats::singleWriterAdd(worker_.stats().idleTimeouts);
    close(close_code::kNormal, "idle timeout");
    return;
  }
  scheduleTimer();
}

// ---- The end ---------------------------------------------------------------

void WebSocket::destroy() {
  if (state_ == State::Gone) return;
  const bool wasOpen = parser_ != nullptr;
  state_ = State::Gone;
  if (batched_) worker_.leaveBatch(*this);
  worker_.loop().remove(fd_.get());
  worker_.loop().timers().cancel(timer_);
  fd_.reset();
  acceptHold_.reset();
  awaited_.reset();  // a decision still to come finds the connection gone
  if (wasOpen) worker_.handler().onClose(*this, closeCode_, closeReason_);
  worker_.retire(*this, wasOpen);
}

void DeferredUpgrade::answer(UpgradeDecision decision) const {
  const std::shared_ptr<WebSocket*> target = target_.lock();
  if (target) (*target)->answerLater(std::move(decision));
}

}  // namespace wsr::ws
