#include "hub/LocalHub.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <random>

#include "auth/MessageRateLimiter.h"
#include "hub/ChannelName.h"
#include "hub/WallClock.h"
#include "net/EventLoop.h"
#include "telemetry/Tracer.h"
#include "ws/SingleWriter.h"

namespace wsr::hub {
namespace {

constexpr const char* kSlowConsumer = "slow_consumer";
constexpr const char* kConflated = "conflated";
constexpr const char* kNotInHistory = "not_in_history";
constexpr uint16_t kCloseSlowConsumer = 4008;
constexpr uint16_t kCloseTokenExpired = 4001;
constexpr uint16_t kCloseTooManyMessages = 4029;
constexpr uint16_t kClosePolicy = 1008;
constexpr uint64_t kSweepIntervalMs = 10000;
// Expiries further away than this are not scheduled (a token valid for
// years, or one whose exp was capped at the largest number).
constexpr int64_t kMaxExpiryDelayMs = int64_t{366} * 24 * 3600 * 1000;
// Publications one event-loop pass fans out at most. A worker behind its
// publishers takes this many at once: up to as many frames per gathered
// write on each socket (fewer system calls per delivery the further behind
// it is), while what one pass queues stays within what a socket buffer
// takes (512 x 276-byte frames: 141 KB) and the rest waits in the inbox.
constexpr size_t kMaxPublicationsPerPass = 512;

std::string hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

// A connection's router state, owned by the WebSocket (SessionData).
// Destroying it gives back the connection's address lease and slot.
struct LocalHub::Session final : ws::SessionData, net::Timer::Handler {
  explicit Session(uint32_t messagesPerMinute) : rate(messagesPerMinute) {}

  // The token's expiry: closed with 4001 unless an `auth` op renewed it.
  void onTimer(net::Timer&) override {
    if (socket != nullptr) socket->close(kCloseTokenExpired, "token expired");
  }

  ws::WebSocket* socket = nullptr;
  std::string dedicatedChannel;  // set for /ws/<channel>
  size_t endpoint = 0;           // its EndpointLabels index
  Admission admission;           // identity, client address, lease, slot
  auth::MessageRateLimiter rate;
  net::Timer expiry{this};
  std::vector<SessionSubscription> subscriptions;
  // Held back while the socket is blocked; bounded by the namespace limits.
  std::vector<Pending> pending;
  size_t pendingBytes = 0;
};

LocalHub::LocalHub(Hub& hub, ws::Worker& worker, ConnectionGate* gate)
    : hub_(hub), worker_(worker), gate_(gate), endpoints_(hub.config()), stats_(endpoints_.size()) {
  // One worker sweeps the shared address table for all.
  if (gate_ != nullptr && worker_.index() == 0) {
    worker_.loop().timers().schedule(sweepTimer_, worker_.loop().nowMs() + kSweepIntervalMs);
  }
}

LocalHub::~LocalHub() = default;

void LocalHub::onTimer(net::Timer& /*timer*/) {
  gate_->sweep(static_cast<int64_t>(net::EventLoop::monotonicMs()));
  worker_.loop().timers().schedule(sweepTimer_, worker_.loop().nowMs() + kSweepIntervalMs);
}

void LocalHub::deliver(std::shared_ptr<const PublishedMessage> message) {
  bool wake = false;
  {
    std::lock_guard lock(inboxMutex_);
    wake = inbox_.empty();
    inbox_.push_back(std::move(message));
  }
  // The task posted for the first publication takes every later one too.
  if (wake) worker_.loop().post([this] { drainInbox(); });
}

// ---- Fan-out ---------------------------------------------------------------

void LocalHub::drainInbox() {
  bool more = false;
  {
    std::lock_guard lock(inboxMutex_);
    const size_t take = std::min(inbox_.size(), kMaxPublicationsPerPass);
    taken_.assign(std::make_move_iterator(inbox_.begin()),
                  std::make_move_iterator(inbox_.begin() + static_cast<std::ptrdiff_t>(take)));
    inbox_.erase(inbox_.begin(), inbox_.begin() + static_cast<std::ptrdiff_t>(take));
    more = !inbox_.empty();
  }
  // The rest waits for the next pass, after this one's writes: a worker
  // that falls behind keeps its backlog here, 8 bytes a publication, rather
  // than as references in every subscriber's send queue; and a socket that
  // cannot take a pass's frames blocks, so the slow-consumer policy decides
  // what happens to the next ones.
  if (more) worker_.loop().post([this] { drainInbox(); });
  // Runs of one channel keep the order publications were handed in; a run
  // of many (a busy channel, a batch publish) is fanned out in one pass
  // over its subscribers.
  for (size_t begin = 0; begin < taken_.size();) {
    size_t end = begin + 1;
    while (end < taken_.size() && taken_[end]->channel == taken_[begin]->channel)
      ++end;
    fanOutRun(&taken_[begin], end - begin);
    begin = end;
  }
  taken_.clear();
}

void LocalHub::fanOutRun(const std::shared_ptr<const PublishedMessage>* first, size_t count) {
  auto it = channels_.find(first[0]->channel);
  if (it == channels_.end()) return;  // the last subscriber left meanwhile
  LocalChannel& channel = *it->second;
  telemetry::Tracer* tracer = hub_.tracer();
  outgoing_.clear();
  std::vector<net::SharedBuffer> plain;
  plain.reserve(count);
  bool contiguous = true;  // seq without holes across the run: the rule, but for races
  for (size_t k = 0; k < count; ++k) {
    const PublishedMessage& message = *first[k];
    outgoing_.push_back({&first[k], 0, 0});
    plain.push_back(message.frames.plain);
    if (k > 0 && message.seq != first[k - 1]->seq + 1) contiguous = false;
    // Only a sampled publication has a trace context (and then the hub a
    // tracer): every other one costs this test.
    if (message.trace.sampled() && tracer != nullptr) {
      spans_.push_back(tracer->startSpan("fanout", telemetry::SpanKind::Internal, message.trace));
    }
  }
  // The run's frames as every subscriber's send queue will hold them: one
  // shared entry each, plain or (built at the first subscriber that
  // negotiated permessage-deflate) compressed where a twin exists.
  const net::BufferRun plainRun(std::move(plain));
  net::BufferRun deflatedRun;
  // Per subscriber, only where its part of the run begins is counted;
  // deliveries per publication are summed from these after the loop.
  runStartsAt_.assign(count + 1, 0);
  runCompressedFrom_.assign(count + 1, 0);
  for (size_t k = count; k-- > 0;) {
    const bool twin = static_cast<bool>(first[k]->frames.compressed);
    runCompressedFrom_[k] = runCompressedFrom_[k + 1] + (twin ? 1 : 0);
  }

  // Subscriber by subscriber, every publication of the run: each
  // subscriber's session, socket and send queue are touched once per run,
  // not once per publication. What one subscriber gets never depends on
  // another, so the result is the same as publication by publication.
  const uint64_t firstSeq = first[0]->seq;
  uint64_t compressed = 0;
  for (Subscriber& subscriber : channel.subscribers) {
    Session& session = *subscriber.session;
    ws::WebSocket& socket = *session.socket;
    // A closing connection stays subscribed until its close handshake
    // ends, but gets nothing more, and its policy must not act (or count)
    // again.
    if (!socket.isOpen()) continue;
    // A subscriber that had the run's first ones (its replay raced the
    // post) starts after them.
    size_t begin = 0;
    if (contiguous && subscriber.lastSeq >= firstSeq) {
      begin = static_cast<size_t>(std::min<uint64_t>(count, subscriber.lastSeq - firstSeq + 1));
    }
    if (begin == count) continue;
    // The common case: the rest of the run follows what it last had, and
    // its socket takes frames. One call queues them all.
    if (contiguous && first[begin]->seq == subscriber.lastSeq + 1 && !socket.writeBlocked() &&
        session.pending.empty()) {
      if (socket.deflate() && !deflatedRun && runCompressedFrom_[0] > 0) {
        std::vector<net::SharedBuffer> deflated;
        deflated.reserve(count);
        for (size_t k = 0; k < count; ++k)
          deflated.push_back(first[k]->frames.frameFor(true));
        deflatedRun = net::BufferRun(std::move(deflated));
      }
      const net::BufferRun& run = socket.deflate() && deflatedRun ? deflatedRun : plainRun;
      if (socket.send(run, begin) == 0) continue;  // overflowed its send queue: closed
      subscriber.lastSeq = first[count - 1]->seq;
      ++runStartsAt_[begin];
      if (socket.deflate()) compressed += runCompressedFrom_[begin];
      continue;
    }
    // Otherwise publication by publication: a gap to announce, a socket to
    // hold back for, a policy that may close it on the way.
    for (size_t k = begin; k < count; ++k) {
      Outgoing& out = outgoing_[k];
      if ((*out.message)->seq <= subscriber.lastSeq) continue;  // had it (replay raced the post)
      if (!socket.isOpen()) break;
      if (socket.writeBlocked() || !session.pending.empty()) {
        holdBack(session, channel, *out.message);
        ++out.heldBack;
        continue;
      }
      const PublishedMessage& message = **out.message;
      sendTo(subscriber, message);
      ++out.delivered;
      compressed += message.frames.compressed && socket.deflate() ? 1 : 0;
    }
  }

  uint64_t delivered = 0;
  uint64_t started = 0;  // subscribers whose part of the run began at or before this one
  const uint64_t now = net::EventLoop::monotonicNs();
  size_t span = 0;
  for (size_t k = 0; k < count; ++k) {
    Outgoing& out = outgoing_[k];
    started += runStartsAt_[k];
    out.delivered += started;
    const PublishedMessage& message = **out.message;
    delivered += out.delivered;
    stats_.broadcastDuration.observe(now > message.acceptedNs ? now - message.acceptedNs : 0);
    if (message.trace.sampled() && tracer != nullptr) {
      telemetry::ActiveSpan& active = spans_[span++];
      active.setInt("wsrouter.worker", static_cast<int64_t>(worker_.index()));
      active.setString("messaging.destination.name", message.channel);
      active.setInt("wsrouter.delivered", static_cast<int64_t>(out.delivered));
      active.setInt("wsrouter.held_back", static_cast<int64_t>(out.heldBack));
    }
  }
  spans_.clear();  // each ends and goes to the exporter
  channel.shared->stats.delivered.fetch_add(delivered, std::memory_order_relaxed);
  ws::singleWriterAdd(stats_.compressedDeliveries, compressed);
}

void LocalHub::sendTo(Subscriber& subscriber, const PublishedMessage& message) {
  Session& session = *subscriber.session;
  if (message.seq > subscriber.lastSeq + 1) {
    auto it = channels_.find(message.channel);
    const SessionSubscription* subscription =
        it == channels_.end() ? nullptr : findSubscription(session, it->second.get());
    sendGap(session, message.channel, subscriber.lastSeq + 1, message.seq - 1,
            subscription != nullptr ? subscription->dropReason : kSlowConsumer);
  }
  session.socket->send(message.frames);
  subscriber.lastSeq = message.seq;
}

void LocalHub::holdBack(Session& session, LocalChannel& channel,
                        const std::shared_ptr<const PublishedMessage>& message) {
  // Closed (by the disconnect policy, say, in the middle of a replay):
  // nothing more goes out, and no policy acts or counts again.
  if (!session.socket->isOpen()) return;
  const config::NamespaceConfig& settings = channel.shared->config;
  const size_t bytes = message->frames.frameFor(session.socket->deflate()).size();
  auto& pending = session.pending;

  if (settings.policy == config::SlowConsumerPolicy::Conflate && !message->key.empty()) {
    // The newer value of a key replaces the queued one. The replaced seq is
    // announced as a gap when the newer one goes out, so the stream stays
    // honest; order is kept by appending the newer value at the back.
    auto same = std::find_if(pending.begin(), pending.end(), [&](const Pending& p) {
      return p.channel == &channel && p.message->key == message->key;
    });
    if (same != pending.end()) {
      session.pendingBytes -= same->message->frames.frameFor(session.socket->deflate()).size();
      pending.erase(same);
      if (SessionSubscription* subscription = findSubscription(session, &channel)) {
        subscription->dropReason = kConflated;
      }
      channel.shared->stats.droppedConflated.fetch_add(1, std::memory_order_relaxed);
    }
  }

  while (!pending.empty() && (pending.size() >= settings.queueMaxMessages ||
                              session.pendingBytes + bytes > settings.queueMaxBytes)) {
    if (settings.policy == config::SlowConsumerPolicy::Disconnect) {
      channel.shared->stats.disconnectedSlowConsumer.fetch_add(1, std::memory_order_relaxed);
      session.socket->close(kCloseSlowConsumer, "slow consumer");
      return;
    }
    // drop_oldest (and conflate without a matching key): the oldest goes.
    Pending& oldest = pending.front();
    if (SessionSubscription* subscription = findSubscription(session, oldest.channel)) {
      subscription->dropReason = kSlowConsumer;
    }
    oldest.channel->shared->stats.droppedSlowConsumer.fetch_add(1, std::memory_order_relaxed);
    session.pendingBytes -= oldest.message->frames.frameFor(session.socket->deflate()).size();
    pending.erase(pending.begin());
  }
  pending.push_back({message, &channel});
  session.pendingBytes += bytes;
}

void LocalHub::onDrain(ws::WebSocket& socket) {
  auto* session = static_cast<Session*>(socket.session());
  if (session == nullptr || session->pending.empty()) return;
  std::vector<Pending> pending;
  pending.swap(session->pending);
  session->pendingBytes = 0;
  for (const Pending& p : pending) {
    SessionSubscription* subscription = findSubscription(*session, p.channel);
    if (subscription == nullptr) continue;
    Subscriber& subscriber = p.channel->subscribers[subscription->index];
    if (p.message->seq <= subscriber.lastSeq) continue;
    sendTo(subscriber, *p.message);
    p.channel->shared->stats.delivered.fetch_add(1, std::memory_order_relaxed);
    if (p.message->frames.compressed && socket.deflate()) {
      ws::singleWriterAdd(stats_.compressedDeliveries);
    }
  }
}

void LocalHub::sendGap(Session& session, std::string_view channel, uint64_t from, uint64_t to,
                       const char* reason) {
  if (!session.socket->isOpen()) return;  // it would not be sent: not counted either
  session.socket->send(gapMessage(channel, from, to, reason));
  hub_.statsFor(channel).gapsSent.fetch_add(1, std::memory_order_relaxed);
}

// ---- Connections -----------------------------------------------------------

ws::UpgradeDecision LocalHub::onAccept(const net::PeerAddress& peer) {
  return gate_ == nullptr ? ws::UpgradeDecision::accept() : gate_->admitAccept(peer);
}

ws::UpgradeDecision LocalHub::onUpgrade(const ws::HandshakeRequest& request,
                                        const net::PeerAddress& peer) {
  if (gate_ == nullptr) {
    auto session = std::make_unique<Session>(0);
    std::string message;
    if (hub_.draining()) {
      ws::UpgradeDecision refusal = ws::UpgradeDecision::refuse(
          503, "UNAVAILABLE", "this router is shutting down; reconnect to another instance");
      refusal.headers.push_back("Retry-After: 1");
      return refusal;
    }
    if (!endpointFor(request.path, hub_.config(), session->dedicatedChannel, message)) {
      return ws::UpgradeDecision::refuse(404, "NOT_FOUND", std::move(message));
    }
    return ws::UpgradeDecision::accept(std::move(session));
  }
  auto session = std::make_unique<Session>(gate_->limits().messagesPerMinute);
  ws::UpgradeDecision decision = gate_->admit(request, peer, session->admission);
  if (decision.status != 0) return decision;
  session->dedicatedChannel = session->admission.dedicatedChannel;
  decision.session = std::move(session);
  return decision;
}

void LocalHub::onOpen(ws::WebSocket& socket) {
  auto& session = *static_cast<Session*>(socket.session());
  session.socket = &socket;
  session.endpoint = endpoints_.indexOf(session.dedicatedChannel);
  ws::singleWriterAdd(stats_.opened[session.endpoint]);
  // The resume token is unguessable; resuming itself arrives with the
  // session-resume work (until then `resume` answers RESUME_FAILED).
  std::random_device entropy;
  const uint64_t resume = (static_cast<uint64_t>(entropy()) << 32) ^ entropy();
  reply(session, welcomeMessage("s-" + hex(socket.id()), "r-" + hex(resume),
                                worker_.options().pingIntervalMs, wallClockMs()));
  scheduleExpiry(session);
  if (gate_ != nullptr && gate_->logger().enabled(telemetry::LogLevel::Debug)) {
    const auth::Identity* identity = session.admission.identity.get();
    gate_->logger().logLimited(
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
  ws::singleWriterAdd(stats_.closed[session->endpoint]);
  ws::singleWriterAdd(stats_.closedByCode[closeCodeSlot(code)]);
  if (gate_ != nullptr && gate_->logger().enabled(telemetry::LogLevel::Debug)) {
    gate_->logger().logLimited(
        telemetry::LogLevel::Debug, "connection_closed",
        {{"connection", socket.id()},
         {"client", session->admission.client.toString()},
         {"code", static_cast<unsigned>(code)},
         {"subscriptions", static_cast<uint64_t>(session->subscriptions.size())}});
  }
  while (!session->subscriptions.empty()) {
    unsubscribe(*session, *session->subscriptions.back().channel);
  }
}

bool LocalHub::onPing(ws::WebSocket& socket) {
  auto& session = *static_cast<Session*>(socket.session());
  switch (session.rate.check(static_cast<int64_t>(worker_.loop().nowMs()))) {
    case auth::RateVerdict::Allowed:
      return true;
    case auth::RateVerdict::Limited:
      ws::singleWriterAdd(stats_.rateLimited);
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
      break;
    case auth::RateVerdict::Limited:
      ws::singleWriterAdd(stats_.rateLimited);
      reply(session,
            errorMessage(std::nullopt, "RATE_LIMITED",
                         "too many messages; at most " +
                             std::to_string(gate_->limits().messagesPerMinute) + " a minute"));
      return;
    case auth::RateVerdict::Close:
      socket.close(kCloseTooManyMessages, "too many messages");
      return;
  }
  if (binary) {
    ws::singleWriterAdd(stats_.clientMessages[kInvalidClientOp]);
    reply(session, errorMessage(std::nullopt, "BAD_REQUEST",
                                "binary messages are not part of the protocol; send JSON text"));
    return;
  }
  ClientMessage message;
  ClientMessageError error;
  if (!parser_.parse(payload, hub_.limits().maxChannelsPerRequest, message, error)) {
    ws::singleWriterAdd(stats_.clientMessages[kInvalidClientOp]);
    reply(session, errorMessage(error.id, error.code, error.message));
    return;
  }
  ws::singleWriterAdd(stats_.clientMessages[static_cast<size_t>(message.op)]);
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
      reply(session, errorMessage(message.id, "RESUME_FAILED",
                                  "session resume is not available on this router yet"));
      break;
  }
}

// ---- Subscriptions ---------------------------------------------------------

void LocalHub::handleSubscribe(Session& session, const ClientMessage& message) {
  std::vector<std::string_view> seen;
  for (const std::string& name : message.channels) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    const uint64_t* since = nullptr;
    for (const auto& [channel, seq] : message.since) {
      if (channel == name) since = &seq;
    }
    subscribe(session, message.id, name, since);
  }
}

void LocalHub::subscribe(Session& session, std::optional<int64_t> id, const std::string& name,
                         const uint64_t* since) {
  if (!isValidChannelName(name)) {
    // Built by appending: g++ 12 misreads "'" + std::string (-Wrestrict).
    std::string text = "'";
    text.append(name, 0, kMaxChannelNameBytes);
    text += "' is not a valid channel name (1 to 128 bytes of A-Z a-z 0-9 _ . : @ -)";
    reply(session, errorMessage(id, "INVALID_CHANNEL", text));
    return;
  }
  if (gate_ != nullptr) {
    const auth::AccessDecision access = gate_->mayAccess(session.admission.identity.get(), name);
    if (!access.allowed) {
      reply(session, errorMessage(id, "FORBIDDEN", access.reason));
      return;
    }
  }
  auto it = channels_.find(name);
  if (it != channels_.end()) {
    if (SessionSubscription* existing = findSubscription(session, it->second.get())) {
      const Subscriber& subscriber = it->second->subscribers[existing->index];
      reply(session, subscribedMessage(id, name, subscriber.lastSeq, std::nullopt));
      return;
    }
  }
  if (session.subscriptions.size() >= hub_.limits().maxSubscriptionsPerConnection) {
    reply(session,
          errorMessage(id, "SUBSCRIPTION_LIMIT",
                       "at most " + std::to_string(hub_.limits().maxSubscriptionsPerConnection) +
                           " subscriptions per connection"));
    return;
  }
  Channel* shared = hub_.channel(name);
  if (shared == nullptr) {
    reply(session, errorMessage(id, "SUBSCRIPTION_LIMIT", "the router's channel limit is reached"));
    return;
  }
  if (it == channels_.end()) {
    auto created = std::make_unique<LocalChannel>();
    created->shared = shared;
    it = channels_.emplace(name, std::move(created)).first;
  }
  LocalChannel& channel = *it->second;

  uint64_t seq = 0;
  History::Replay replay;
  std::shared_ptr<const PublishedMessage> retained;
  {
    // Under the channel's lock: from here on every publication of this
    // channel is posted to this worker, and nothing before `seq` is.
    std::lock_guard lock(shared->mutex);
    shared->workerMask |= uint64_t{1} << worker_.index();
    seq = shared->seq;
    if (since != nullptr) {
      replay = shared->history.replaySince(*since, seq, wallClockMs());
    } else if (shared->config.retainLast) {
      retained = shared->retained;
    }
  }
  shared->subscribers.fetch_add(1, std::memory_order_relaxed);
  shared->stats.subscribers.fetch_add(1, std::memory_order_relaxed);
  const uint64_t start = since != nullptr ? std::min(*since, seq) : seq;
  channel.subscribers.push_back({&session, start});
  session.subscriptions.push_back({&channel, channel.subscribers.size() - 1, kSlowConsumer});
  ++subscriptionCount_;

  reply(session,
        subscribedMessage(id, name, seq,
                          since != nullptr ? std::optional<bool>(replay.complete) : std::nullopt));
  if (since != nullptr) {
    session.subscriptions.back().dropReason = kNotInHistory;
    // History is old by design: its writes are no latency sample.
    if (!replay.messages.empty()) {
      session.socket->skipWriteTimingUpTo(replay.messages.back()->acceptedNs);
    }
    for (const auto& message : replay.messages) {
      Subscriber& subscriber = channel.subscribers[session.subscriptions.back().index];
      if (session.socket->writeBlocked() || !session.pending.empty()) {
        holdBack(session, channel, message);
      } else {
        sendTo(subscriber, *message);
      }
    }
    Subscriber& subscriber = channel.subscribers[session.subscriptions.back().index];
    if (!replay.complete && subscriber.lastSeq < replay.missingTo) {
      // Nothing held after the missing range: say so now rather than at the
      // channel's next publication.
      sendGap(session, name, subscriber.lastSeq + 1, replay.missingTo, kNotInHistory);
      subscriber.lastSeq = replay.missingTo;
    }
    session.subscriptions.back().dropReason = kSlowConsumer;
  } else if (retained) {
    session.socket->skipWriteTimingUpTo(retained->acceptedNs);
    session.socket->send(retained->frames);
  }
}

void LocalHub::handleUnsubscribe(Session& session, const ClientMessage& message) {
  for (const std::string& name : message.channels) {
    auto it = channels_.find(name);
    if (it != channels_.end() && findSubscription(session, it->second.get()) != nullptr) {
      unsubscribe(session, *it->second);
    }
    // Unsubscribing from a channel one is not subscribed to is answered the
    // same way: the client's intent holds.
    reply(session, unsubscribedMessage(message.id, name));
  }
}

void LocalHub::unsubscribe(Session& session, LocalChannel& channel) {
  auto mine = std::find_if(session.subscriptions.begin(), session.subscriptions.end(),
                           [&](const SessionSubscription& s) { return s.channel == &channel; });
  if (mine == session.subscriptions.end()) return;
  // Swap-remove from the channel's list, and tell the moved subscriber's
  // session where its entry went.
  const size_t index = mine->index;
  if (index + 1 != channel.subscribers.size()) {
    channel.subscribers[index] = channel.subscribers.back();
    if (SessionSubscription* moved =
            findSubscription(*channel.subscribers[index].session, &channel)) {
      moved->index = index;
    }
  }
  channel.subscribers.pop_back();
  *mine = session.subscriptions.back();
  session.subscriptions.pop_back();
  --subscriptionCount_;

  // Nothing held back for this channel may outlive the subscription.
  std::erase_if(session.pending, [&](const Pending& p) {
    if (p.channel != &channel) return false;
    session.pendingBytes -= p.message->frames.frameFor(session.socket->deflate()).size();
    return true;
  });

  Channel* shared = channel.shared;
  shared->subscribers.fetch_sub(1, std::memory_order_relaxed);
  shared->stats.subscribers.fetch_sub(1, std::memory_order_relaxed);
  if (channel.subscribers.empty()) {
    {
      std::lock_guard lock(shared->mutex);
      shared->workerMask &= ~(uint64_t{1} << worker_.index());
    }
    channels_.erase(shared->name);
  }
}

LocalHub::SessionSubscription* LocalHub::findSubscription(Session& session,
                                                          const LocalChannel* channel) {
  for (SessionSubscription& s : session.subscriptions) {
    if (s.channel == channel) return &s;
  }
  return nullptr;
}

void LocalHub::reply(Session& session, const std::string& json) {
  session.socket->send(json);
}

// `auth`: a fresh token before the current one expires. It must speak for
// the same subject; channels it no longer allows are unsubscribed.
void LocalHub::handleAuth(Session& session, const ClientMessage& message) {
  if (gate_ == nullptr || !gate_->authenticator().required()) {
    reply(session, errorMessage(message.id, "INVALID_TOKEN",
                                "this router runs without authentication (auth.mode none)"));
    return;
  }
  auth::AuthOutcome outcome =
      gate_->authenticator().authenticate(message.token, wallClockMs() / 1000);
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
    const std::string name = channel.shared->name;
    auth::AccessDecision access = gate_->mayAccess(session.admission.identity.get(), name);
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
      gauges.maxHeldBack = std::max<uint64_t>(gauges.maxHeldBack, session->pending.size());
    }
  });
  return gauges;
}

std::string LocalHub::connectionsJson() {
  std::string out;
  worker_.forEachConnection([&](ws::WebSocket& socket) {
    const auto* session = static_cast<const Session*>(socket.session());
    if (session == nullptr) return;
    out += out.empty() ? "{" : ",{";
    out += "\"id\":" + std::to_string(socket.id()) + ",\"peer\":";
    appendJsonString(out, socket.peer().ip() + ":" + std::to_string(socket.peer().port));
    if (gate_ != nullptr) {
      out += ",\"client\":";
      appendJsonString(out, session->admission.client.toString());
    }
    if (const auth::Identity* identity = session->admission.identity.get()) {
      out += ",\"user\":";
      appendJsonString(out, identity->subject);
    }
    out += ",\"endpoint\":";
    appendJsonString(
        out, session->dedicatedChannel.empty() ? "/ws" : "/ws/" + session->dedicatedChannel);
    out += ",\"subscriptions\":[";
    for (size_t i = 0; i < session->subscriptions.size(); ++i) {
      if (i > 0) out += ",";
      appendJsonString(out, session->subscriptions[i].channel->shared->name);
    }
    out += "],\"queued_bytes\":" + std::to_string(socket.queuedBytes()) +
           ",\"held_back\":" + std::to_string(session->pending.size()) + "}";
  });
  return out;
}

}  // namespace wsr::hub
