#include "hub/LocalHub.h"

#include <algorithm>
#include <random>

#include "hub/WallClock.h"
#include "net/EventLoop.h"
#include "stats/SingleWriter.h"

namespace wsr::hub {
namespace {

constexpr uint16_t kCloseTooManyMessages = 4029;
constexpr uint16_t kClosePolicy = 1008;
constexpr uint64_t kSweepIntervalMs = 10000;
// Expiries further away than this are not scheduled (a token valid for
// years, or one whose exp was capped at the largest number).
constexpr int64_t kMaxExpiryDelayMs = int64_t{366} * 24 * 3600 * 1000;

}  // namespace

LocalHub::LocalHub(Hub& hub, ws::Worker& worker, Gate& gate, telemetry::Logger& logger)
    : hub_(hub),
      worker_(worker),
      gate_(gate),
      logger_(logger),
      inbox_(hub.config().limits.workerInboxMessages,
             uint64_t{hub.config().limits.workerInboxMaxDelayMs} * 1000000,
             [&config = hub.config()](std::string_view channel) {
               return config.namespaceFor(channel).policy == config::SlowConsumerPolicy::Conflate;
             }),
      endpoints_(hub.config()),
      stats_(endpoints_.size(), hub.namespaces().size()) {
  // One worker sweeps the shared tables (addresses, channels) for all.
  if (worker_.index() == 0) {
    worker_.loop().timers().schedule(sweepTimer_, worker_.loop().nowMs() + kSweepIntervalMs);
  }
}

LocalHub::~LocalHub() = default;

void LocalHub::onTimer(net::Timer& /*timer*/) {
  gate_.sweep(static_cast<int64_t>(net::EventLoop::monotonicMs()));
  hub_.sweepChannels(wallClockMs());
  hub_.sessions().sweep(wallClockMs());
  worker_.loop().timers().schedule(sweepTimer_, worker_.loop().nowMs() + kSweepIntervalMs);
}

ws::UpgradeDecision LocalHub::onAccept(const net::PeerAddress& peer) {
  return gate_.admitAccept(peer);
}

ws::UpgradeDecision LocalHub::onUpgrade(const ws::HandshakeRequest& request,
                                        const net::PeerAddress& peer,
                                        const ws::DeferredUpgrade& later) {
  auto session = std::make_unique<Session>(gate_.messagesPerMinute());
  ws::UpgradeDecision decision = gate_.admit(request, peer, session->admission);
  if (decision.status != 0) return shareAttempt(session->admission, std::move(decision), later);
  session->dedicatedChannel = session->admission.dedicatedChannel;
  Session& admitted = *session;
  decision.session = std::move(session);
  return shareAttempt(admitted.admission, std::move(decision), later);
}

void LocalHub::onOpen(ws::WebSocket& socket) {
  auto& session = *static_cast<Session*>(socket.session());
  session.socket = &socket;
  session.endpoint = endpoints_.indexOf(session.dedicatedChannel);
  stats::singleWriterAdd(stats_.opened[session.endpoint]);
  // Both names are random: the session's must be unique across instances
  // (a client resumes on any), the token unguessable (128 bits).
  std::random_device entropy;
  auto random64 = [&] { return (static_cast<uint64_t>(entropy()) << 32) ^ entropy(); };
  session.sessionName = random64();
  session.resumeToken = {random64(), random64()};
  reply(session, welcomeMessage(sessionText(session), resumeTokenText(session),
                                worker_.options().pingIntervalMs, wallClockMs()));
  scheduleExpiry(session);
  if (logger_.enabled(telemetry::LogLevel::Debug)) {
    const auth::Identity* identity = session.admission.identity.get();
    logger_.logLimited(
        telemetry::LogLevel::Debug, "connection_opened",
        {{"connection", socket.id()},
         {"client", session.admission.client.toString()},
         {"endpoint", session.dedicatedChannel.empty() ? std::string("/ws")
                                                       : "/ws/" + session.dedicatedChannel},
         {"user", identity != nullptr ? identity->subject : ""}});
  }
  if (!session.dedicatedChannel.empty()) {
    subscribe(session, std::nullopt, session.dedicatedChannel, nullptr);
  }
}

void LocalHub::scheduleExpiry(Session& session) {
  const auth::Identity* identity = session.admission.identity.get();
  if (identity == nullptr || identity->expiresAt <= 0) {
    if (session.expiry.scheduled()) worker_.loop().timers().cancel(session.expiry);
    return;
  }
  // exp is wall-clock seconds; timers run on the monotonic clock. The JWT
  // leeway that let the token in also applies to its end.
  const int64_t leewayMs = static_cast<int64_t>(hub_.config().auth.jwt.leewaySeconds) * 1000;
  const int64_t expiresAtMs = identity->expiresAt > (INT64_MAX - leewayMs) / 1000
                                  ? INT64_MAX
                                  : identity->expiresAt * 1000 + leewayMs;
  const int64_t delayMs = expiresAtMs == INT64_MAX ? INT64_MAX : expiresAtMs - wallClockMs();
  if (delayMs > kMaxExpiryDelayMs) {
    if (session.expiry.scheduled()) worker_.loop().timers().cancel(session.expiry);
    return;
  }
  worker_.loop().timers().schedule(
      session.expiry,
      worker_.loop().nowMs() + static_cast<uint64_t>(std::max<int64_t>(0, delayMs)));
}

void LocalHub::onClose(ws::WebSocket& socket, uint16_t code, std::string_view /*reason*/) {
  auto* session = static_cast<Session*>(socket.session());
  if (session == nullptr) return;
  stats::singleWriterAdd(stats_.closed[session->endpoint]);
  stats::singleWriterAdd(stats_.closedByCode[closeCodeSlot(code)]);
  if (logger_.enabled(telemetry::LogLevel::Debug)) {
    logger_.logLimited(telemetry::LogLevel::Debug, "connection_closed",
                       {{"connection", socket.id()},
                        {"client", session->admission.client.toString()},
                        {"code", static_cast<unsigned>(code)},
                        {"subscriptions", static_cast<uint64_t>(session->subscriptions.size())}});
  }
  if (session->resumeTicket != 0) resuming_.erase(session->resumeTicket);
  if (!socket.closedByPeer()) keepSession(*session, code);
  while (!session->subscriptions.empty()) {
    unsubscribe(*session, *session->subscriptions.back().channel);
  }
}

bool LocalHub::onPing(ws::WebSocket& socket) {
  auto& session = *static_cast<Session*>(socket.session());
  switch (session.rate.check(static_cast<int64_t>(worker_.loop().nowMs()))) {
    case auth::RateVerdict::Allowed:
      if (sharedCounters_ != nullptr) shareMessage(session);
      return true;
    case auth::RateVerdict::Limited:
      stats::singleWriterAdd(stats_.rateLimited);
      return false;  // unanswered: a pong would cost what the budget refuses
    case auth::RateVerdict::Close:
      socket.close(kCloseTooManyMessages, "too many messages");
      return false;
  }
  return false;
}

void LocalHub::onMessage(ws::WebSocket& socket, std::string_view payload, bool binary) {
  auto& session = *static_cast<Session*>(socket.session());
  switch (session.rate.check(static_cast<int64_t>(worker_.loop().nowMs()))) {
    case auth::RateVerdict::Allowed:
      if (sharedCounters_ != nullptr) shareMessage(session);
      break;
    case auth::RateVerdict::Limited:
      stats::singleWriterAdd(stats_.rateLimited);
      reply(session, errorMessage(std::nullopt, "RATE_LIMITED",
                                  "too many messages; at most " +
                                      std::to_string(gate_.messagesPerMinute()) + " a minute"));
      return;
    case auth::RateVerdict::Close:
      socket.close(kCloseTooManyMessages, "too many messages");
      return;
  }
  if (binary) {
    stats::singleWriterAdd(stats_.clientMessages[kInvalidClientOp]);
    reply(session, errorMessage(std::nullopt, "BAD_REQUEST",
                                "binary messages are not part of the protocol; send JSON text"));
    return;
  }
  ClientMessage message;
  ClientMessageError error;
  if (!parser_.parse(payload, hub_.limits().maxChannelsPerRequest, message, error)) {
    stats::singleWriterAdd(stats_.clientMessages[kInvalidClientOp]);
    reply(session, errorMessage(error.id, error.code, error.message));
    return;
  }
  stats::singleWriterAdd(stats_.clientMessages[static_cast<size_t>(message.op)]);
  if (session.waiting) {
    session.backlog.push_back(std::move(message));
    return;
  }
  dispatch(session, std::move(message));
}

void LocalHub::dispatch(Session& session, ClientMessage&& message) {
  switch (message.op) {
    case ClientOp::Subscribe:
      handleSubscribe(session, message);
      break;
    case ClientOp::Unsubscribe:
      handleUnsubscribe(session, message);
      break;
    case ClientOp::Ping:
      reply(session, pongMessage(message.id, wallClockMs()));
      break;
    case ClientOp::Auth:
      handleAuth(session, message);
      break;
    case ClientOp::Resume:
      startResume(session, std::move(message));
      break;
  }
}

void LocalHub::answerBacklog(Session& session) {
  while (!session.waiting && !session.backlog.empty() && session.socket->isOpen()) {
    ClientMessage message = std::move(session.backlog.front());
    session.backlog.pop_front();
    const size_t from = std::exchange(session.continueAt, 0);
    if (message.op == ClientOp::Subscribe) {
      handleSubscribe(session, message, from);
    } else {
      dispatch(session, std::move(message));
    }
  }
}

void LocalHub::reply(Session& session, const std::string& json) {
  session.socket->send(json);
}

// `auth`: a fresh token before the current one expires. It must speak for
// the same subject; channels it no longer allows are unsubscribed.
void LocalHub::handleAuth(Session& session, const ClientMessage& message) {
  if (!gate_.credentialsRequired()) {
    reply(session, errorMessage(message.id, "INVALID_TOKEN",
                                "this router runs without authentication (auth.mode none)"));
    return;
  }
  auth::AuthOutcome outcome = gate_.authenticate(message.token, wallClockMs() / 1000);
  if (!outcome.ok) {
    reply(session, errorMessage(message.id, "INVALID_TOKEN", outcome.message));
    return;
  }
  const auth::Identity* before = session.admission.identity.get();
  const auth::Identity* after = outcome.identity.get();
  if (before != nullptr && (after == nullptr || after->subject != before->subject)) {
    reply(session, errorMessage(message.id, "INVALID_TOKEN",
                                "the new token is for another subject than this connection's"));
    return;
  }
  session.admission.identity = std::move(outcome.identity);
  scheduleExpiry(session);
  for (size_t i = session.subscriptions.size(); i-- > 0;) {
    LocalChannel& channel = *session.subscriptions[i].channel;
    const std::string name = channel.shared->name();
    auth::AccessDecision access = gate_.mayAccess(session.admission.identity.get(), name);
    if (!access.allowed) {
      unsubscribe(session, channel);
      reply(session, errorMessage(message.id, "FORBIDDEN", access.reason));
      reply(session, unsubscribedMessage(message.id, name));
    }
  }
  reply(session,
        authenticatedMessage(
            message.id, session.admission.identity ? session.admission.identity->expiresAt : 0));
}

size_t LocalHub::disconnectUser(std::string_view user) {
  size_t closed = 0;
  worker_.forEachConnection([&](ws::WebSocket& socket) {
    const auto* session = static_cast<const Session*>(socket.session());
    if (session == nullptr || !socket.isOpen()) return;
    const auth::Identity* identity = session->admission.identity.get();
    if (identity == nullptr || identity->subject != user) return;
    socket.close(kClosePolicy, "disconnected by the operator");
    ++closed;
  });
  return closed;
}

LocalHub::QueueGauges LocalHub::queueGauges() {
  QueueGauges gauges;
  worker_.forEachConnection([&](ws::WebSocket& socket) {
    gauges.queuedBytes += socket.queuedBytes();
    gauges.writeBlocked += socket.writeBlocked() ? 1 : 0;
    if (const auto* session = static_cast<const Session*>(socket.session())) {
      gauges.maxHeldBack = std::max<uint64_t>(gauges.maxHeldBack, session->heldBack.size());
    }
  });
  return gauges;
}

std::vector<LocalHub::ConnectionSummary> LocalHub::connections() {
  std::vector<ConnectionSummary> out;
  worker_.forEachConnection([&](ws::WebSocket& socket) {
    const auto* session = static_cast<const Session*>(socket.session());
    if (session == nullptr) return;
    ConnectionSummary& summary = out.emplace_back();
    summary.id = socket.id();
    summary.peer = socket.peer().ip() + ":" + std::to_string(socket.peer().port);
    summary.client = session->admission.client.toString();
    if (const auth::Identity* identity = session->admission.identity.get()) {
      summary.user = identity->subject;
    }
    summary.endpoint =
        session->dedicatedChannel.empty() ? "/ws" : "/ws/" + session->dedicatedChannel;
    for (const SessionSubscription& subscription : session->subscriptions)
      summary.subscriptions.push_back(subscription.channel->shared->name());
    summary.queuedBytes = socket.queuedBytes();
    summary.heldBack = session->heldBack.size();
  });
  return out;
}

}  // namespace wsr::hub
