#pragma once
// A connection's router state, owned by its WebSocket (SessionData): who it
// is (its admission), what it may still send (its message rate), when its
// token expires, what it is subscribed to, and what is held back for it
// while its socket is blocked. Destroying it gives back the connection's
// address lease and slot. Touched only on its worker's thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/MessageRateLimiter.h"
#include "auth/SharedMessageTally.h"
#include "hub/ClientMessage.h"
#include "hub/Gate.h"
#include "hub/HeldBack.h"
#include "hub/LocalChannel.h"
#include "net/TimerWheel.h"
#include "ws/WebSocket.h"

namespace wsr::hub {

// Why a client did not get a seq, as its `gap` says (PROTOCOL.md), beside
// HeldBack's kDroppedSlowConsumer and kDroppedConflated.
inline constexpr std::string_view kNotInHistory = "not_in_history";
// broker.type redis: the channel's numbering restarted (Redis lost its data).
inline constexpr std::string_view kEpochChanged = "epoch";
inline constexpr uint16_t kCloseTokenExpired = 4001;

// A session's view of one subscription: where it sits in the channel's list.
struct SessionSubscription {
  LocalChannel* channel;
  size_t index;
  std::string_view dropReason;  // why its last skipped seq was skipped
};

struct Session final : ws::SessionData, net::Timer::Handler {
  explicit Session(uint32_t messagesPerMinute) : rate(messagesPerMinute) {}

  // The token's expiry: closed with 4001 unless an `auth` op renewed it.
  void onTimer(net::Timer&) override {
    if (socket != nullptr) socket->close(kCloseTokenExpired, "token expired");
  }

  SessionSubscription* find(const LocalChannel* channel) {
    for (SessionSubscription& s : subscriptions) {
      if (s.channel == channel) return &s;
    }
    return nullptr;
  }

  ws::WebSocket* socket = nullptr;
  // Its names in `welcome` (random): what a later `resume` names it by.
  uint64_t sessionName = 0;
  std::array<uint64_t, 2> resumeToken{};
  // Set while this connection's own `resume` waits for the session store.
  uint64_t resumeTicket = 0;
  std::string dedicatedChannel;  // set for /ws/<channel>
  size_t endpoint = 0;           // its EndpointLabels index
  Admission admission;           // identity, client address, lease, slot
  auth::MessageRateLimiter rate;
  // broker.type redis: the messages on their way to the count shared by the
  // instances, and what an answer finds this session by once it is back on
  // the worker (expired when the session is gone; made with the first).
  auth::SharedMessageTally sharedMessages;
  std::shared_ptr<Session*> sharedHandle;
  net::Timer expiry{this};
  std::vector<SessionSubscription> subscriptions;
  HeldBack heldBack;  // while the socket is blocked
  // broker.type redis: while a subscription waits for its channel's mirror
  // (`waiting`), the client's later requests wait here, so that every
  // answer comes in the order of the requests. `continueAt`: where the first
  // one, a subscribe, goes on (the channels before it are answered).
  bool waiting = false;
  std::deque<ClientMessage> backlog;
  size_t continueAt = 0;
};

// The names `welcome` gives the session: "s-" and 16 hex digits, "r-" and 32.
std::string sessionText(const Session& session);
std::string resumeTokenText(const Session& session);

}  // namespace wsr::hub
