#pragma once
// A handshake answered later: a handler that must ask elsewhere before it
// can accept or refuse an upgrade (another thread, another process) keeps
// this, returns UpgradeDecision::later() from onUpgrade, and gives its
// decision through answer() once it knows. Meanwhile the connection stays in
// its handshake, under the handshake timeout: a handler that never answers
// costs a descriptor until then, no more.

#include <memory>

#include "ws/WebSocketHandler.h"

namespace wsr::ws {

class WebSocket;

class DeferredUpgrade {
 public:
  DeferredUpgrade() = default;

  // The connection's worker thread only. The 101 (and onOpen) or the
  // refusal, as if onUpgrade had returned `decision`. Nothing happens when
  // the connection has gone meanwhile (the peer left, the handshake timed
  // out) or was answered already: the decision, and the session in it, are
  // then destroyed here.
  void answer(UpgradeDecision decision) const;

 private:
  friend class WebSocket;
  explicit DeferredUpgrade(std::weak_ptr<WebSocket*> target) : target_(std::move(target)) {}

  // Expires when the connection goes or has been answered.
  std::weak_ptr<WebSocket*> target_;
};

}  // namespace wsr::ws
