#pragma once
// What an application (the router, the test echo server, the benchmark
// server) plugs into the engine. One handler per worker, called only on that
// worker's thread: handlers need no locks for their own state.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/Socket.h"
#include "ws/Handshake.h"

namespace wsr::ws {

class WebSocket;
class DeferredUpgrade;

// Per-connection application state, created when the upgrade is accepted and
// destroyed with the connection.
class SessionData {
 public:
  virtual ~SessionData() = default;
};

struct UpgradeDecision {
  // Refusal: a plain HTTP answer, before any WebSocket byte.
  int status = 0;  // 0 accepts
  std::string code;
  std::string message;
  std::vector<std::string> headers;  // extra header lines, "Retry-After: 5"

  // Acceptance.
  std::string protocol;  // the Sec-WebSocket-Protocol to answer with, if any
  std::unique_ptr<SessionData> session;

  // Neither yet: the handler answers through its DeferredUpgrade.
  bool deferred = false;

  static UpgradeDecision accept(std::unique_ptr<SessionData> session = nullptr) {
    UpgradeDecision decision;
    decision.session = std::move(session);
    return decision;
  }
  static UpgradeDecision later() {
    UpgradeDecision decision;
    decision.deferred = true;
    return decision;
  }
  static UpgradeDecision refuse(int status, std::string code, std::string message) {
    UpgradeDecision decision;
    decision.status = status;
    decision.code = std::move(code);
    decision.message = std::move(message);
    return decision;
  }
};

class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;

  // A TCP connection was accepted, before any byte of its request: the
  // moment to count it against a per-address limit, since an idle socket or
  // a half-sent request holds a descriptor until the handshake timeout. A
  // refusal (status set) is answered at once and the connection closed. An
  // acceptance's `session` is held by the connection until its request head
  // is complete (dropped just before onUpgrade, which decides anew) or until
  // the connection ends: RAII gives the place back. O(1) per accept, please.
  virtual UpgradeDecision onAccept(const net::PeerAddress& peer) {
    (void)peer;
    return UpgradeDecision::accept();
  }
  // A valid RFC 6455 request arrived: accept or refuse it (path, auth,
  // limits), or return UpgradeDecision::later() and answer through `later`
  // (a copy of it may be kept) on this worker's thread. `request` is valid
  // only during the call.
  virtual UpgradeDecision onUpgrade(const HandshakeRequest& request, const net::PeerAddress& peer,
                                    const DeferredUpgrade& later) {
    (void)request;
    (void)peer;
    (void)later;
    return UpgradeDecision::accept();
  }
  // A plain HTTP GET or HEAD that asks for no upgrade (no Upgrade, no
  // Sec-WebSocket-Key header): the application may answer it (a page, a
  // file). The engine writes the answer (without the body for a HEAD) and
  // closes the connection: one request per connection. std::nullopt, the
  // default, answers it like any request that is not an upgrade: 400.
  // The head's size limit and the handshake timeout apply as to upgrades.
  virtual std::optional<HttpResponse> onHttpRequest(const HandshakeRequest& request,
                                                    const net::PeerAddress& peer) {
    (void)request;
    (void)peer;
    return std::nullopt;
  }
  // The 101 answer is queued; the connection may send.
  virtual void onOpen(WebSocket& socket) { (void)socket; }
  // A complete message; the view is valid only during the call.
  virtual void onMessage(WebSocket& socket, std::string_view payload, bool binary) = 0;
  // A ping arrived on an open connection: whether to answer it. A ping costs
  // the server a pong, so an application with a per-client message budget
  // counts pings against it here, and may close the connection instead.
  // Answered, the pong replaces one still unsent (see WebSocket::onPing).
  virtual bool onPing(WebSocket& socket) {
    (void)socket;
    return true;
  }
  // The connection's output was blocked (the peer reads slower than we send)
  // and has now all been written: the moment to hand it what was held back.
  virtual void onDrain(WebSocket& socket) { (void)socket; }
  // Once per opened connection, whichever side ended it. `code` is the peer's
  // close code, ours when we closed first, or 1006 when the TCP connection
  // dropped without a close handshake.
  virtual void onClose(WebSocket& socket, uint16_t code, std::string_view reason) {
    (void)socket;
    (void)code;
    (void)reason;
  }
};

}  // namespace wsr::ws
