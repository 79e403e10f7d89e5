#pragma once
// The router's per-worker half, and the worker's WebSocketHandler: the
// client protocol (welcome, subscribe, unsubscribe, ping), this worker's
// channel -> local subscribers index, and fan-out. Touched only on its
// worker's thread, except deliver(), which appends to the worker's inbox.
//
// A publication enters through deliver() (the inbox, bounded: WorkerInbox),
// is fanned out in LocalHubFanOut.cpp, and leaves through each subscriber's socket; the
// client's requests are answered in LocalHub.cpp (the handler) and
// LocalHubSubscriptions.cpp (subscribe, unsubscribe, replay).
//
// Fan-out appends a reference to each subscriber's send queue. A subscriber
// whose socket is blocked has messages held back instead (HeldBack), bounded
// by its namespace's limits and policy; when the socket drains, they move
// over, and any seq they skip is announced first with a `gap`.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/ClientMessage.h"
#include "hub/EndpointLabels.h"
#include "hub/Gate.h"
#include "hub/Hub.h"
#include "hub/LocalChannel.h"
#include "hub/LocalHubStats.h"
#include "hub/ServerMessages.h"
#include "hub/Session.h"
#include "hub/SessionStore.h"
#include "hub/SharedCounters.h"
#include "hub/StaticSite.h"
#include "hub/WorkerInbox.h"
#include "net/TimerWheel.h"
#include "telemetry/ActiveSpan.h"
#include "telemetry/Logger.h"
#include "ws/Server.h"

namespace wsr::hub {

class LocalHub final : public ws::WebSocketHandler, private net::Timer::Handler {
 public:
  // `gate` (shared by the workers) checks upgrades, permissions and rates;
  // `logger` takes the connections' debug lines. Both outlive the LocalHub.
  LocalHub(Hub& hub, ws::Worker& worker, Gate& gate, telemetry::Logger& logger);
  ~LocalHub() override;

  // Any thread: hands a publication to this worker's subscribers.
  void deliver(std::shared_ptr<const PublishedMessage> message);
  // The same, but the worker is not woken: true when it must be, with
  // wake(), once the caller has handed over the rest of its batch (one
  // wake-up for a batch, not one per publication: a woken worker on the
  // publisher's core would take them one by one, a context switch each).
  bool enqueue(std::shared_ptr<const PublishedMessage> message);
  void wake();
  // Any thread (broker.type redis): the mirror of `channel` has been primed
  // from Redis; the subscriptions waiting for it are completed.
  void channelPrimed(const std::string& channel);

  // Any thread, cheap: publications waiting in this worker's inbox, and
  // shed from it so far.
  // Any thread: publications this worker has not fanned out yet, those of
  // the pass in progress included (taken from the inbox, not yet sent),
  // and when the oldest of them was accepted (0: none). The publishers'
  // backlog (Hub::overloaded).
  size_t inboxDepth() const { return inbox_.depth() + inPass_.load(std::memory_order_relaxed); }
  uint64_t inboxOldestNs() const {
    const uint64_t inPass = inPassOldestNs_.load(std::memory_order_relaxed);
    return inPass != 0 ? inPass : inbox_.oldestNs();
  }
  uint64_t inboxShed() const { return inbox_.shedTotal(); }

  // Any thread, for the admin views.
  size_t subscriptionCount() const { return subscriptionCount_.load(std::memory_order_relaxed); }
  // Worker thread: this worker's connections, for the admin view.
  struct ConnectionSummary {
    uint64_t id;
    std::string peer;    // ip:port of the socket
    std::string client;  // the client address (X-Forwarded-For behind a trusted proxy)
    std::string user;    // the token's subject; empty without one
    std::string endpoint;
    std::vector<std::string> subscriptions;
    uint64_t queuedBytes;
    uint64_t heldBack;
  };
  std::vector<ConnectionSummary> connections();
  // Worker thread: closes every connection of `user` (the token subject)
  // with 1008; returns how many.
  size_t disconnectUser(std::string_view user);

  // Any thread: this worker's counters (see LocalHubStats).
  const LocalHubStats& stats() const { return stats_; }
  const EndpointLabels& endpoints() const { return endpoints_; }
  // Worker thread: what this worker's clients have not yet been sent.
  struct QueueGauges {
    uint64_t queuedBytes = 0;   // in the sockets' send queues
    uint64_t maxHeldBack = 0;   // the most messages held back for one client
    uint64_t writeBlocked = 0;  // connections waiting for their socket to drain
  };
  QueueGauges queueGauges();

  // A connection in its handshake holds a place under its address's cap.
  ws::UpgradeDecision onAccept(const net::PeerAddress& peer) override;
  // With shared limits, an upgrade admitted here is answered once the
  // attempt has been counted across instances (or that failed).
  ws::UpgradeDecision onUpgrade(const ws::HandshakeRequest& request, const net::PeerAddress& peer,
                                const ws::DeferredUpgrade& later) override;
  void onOpen(ws::WebSocket& socket) override;
  void onMessage(ws::WebSocket& socket, std::string_view payload, bool binary) override;
  // A ping is a client message: it spends the same budget (and may 4029).
  bool onPing(ws::WebSocket& socket) override;
  void onDrain(ws::WebSocket& socket) override;
  void onClose(ws::WebSocket& socket, uint16_t code, std::string_view reason) override;

  // broker.type redis: connection attempts and client messages are counted
  // across instances too (LocalHubSharedLimits.cpp). Both outlive the
  // worker's loop; without them (memory) every limit is this instance's.
  void shareLimits(SharedCounters* counters, SharedLimitStats* stats) {
    sharedCounters_ = counters;
    sharedStats_ = stats;
  }

  // Plain HTTP on the public port (the demo page, /client.js) is answered
  // from `site`, which must outlive the worker; without one, engine default.
  void serveFiles(const StaticSite* site) { site_ = site; }
  std::optional<ws::HttpResponse> onHttpRequest(const ws::HandshakeRequest& request,
                                                const net::PeerAddress&) override {
    return site_ != nullptr ? site_->answer(request) : std::nullopt;
  }

 private:
  // One publication of a run being fanned out, as the worker prepared it.
  struct Outgoing {
    const std::shared_ptr<const PublishedMessage>* message;  // shared: a held-back queue keeps it
    uint64_t delivered;                                      // queued to a subscriber's socket
    uint64_t heldBack;  // held for a subscriber whose socket is blocked
  };

  // The worker's side of deliver(): takes every publication handed in so
  // far and fans out each run of consecutive publications of one channel.
  void drainInbox();
  void fanOutRun(const std::shared_ptr<const PublishedMessage>* first, size_t count);
  // What the inbox shed of one channel: counted per subscriber who missed
  // it; a hole no later publication will show is announced now.
  void countShed(const WorkerInbox::Shed& shed);
  void announceTrailingShed(const WorkerInbox::Shed& shed);
  // The reason of a hole ending before `message` in `channel`.
  std::string_view holeReason(Session& session, const LocalChannel& channel,
                              const PublishedMessage& message, uint64_t from) const;
  void sendTo(Subscriber& subscriber, const PublishedMessage& message);
  void holdBack(Session& session, LocalChannel& channel,
                const std::shared_ptr<const PublishedMessage>& message);
  void sendGap(Session& session, std::string_view channel, size_t namespaceIndex, uint64_t from,
               uint64_t to, std::string_view reason);
  NamespaceCounters& counters(const LocalChannel& channel) {
    return stats_.namespaces[channel.shared->namespaceIndex()];
  }

  // A request, parsed and admitted by the rate limit.
  void dispatch(Session& session, ClientMessage&& message);
  // Answers what waited behind a subscription or a resume that has now
  // been answered.
  void answerBacklog(Session& session);
  // From the channel at `from` on; stops (keeping the rest in the
  // session's backlog) when one of them has to wait.
  void handleSubscribe(Session& session, ClientMessage& message, size_t from = 0);
  void subscribe(Session& session, std::optional<int64_t> id, const std::string& name,
                 const uint64_t* since);
  // The `subscribed` answer, and the replay or the retained value, once
  // the channel's state is known.
  void completeSubscribe(Session& session, LocalChannel& channel, std::optional<int64_t> id,
                         const uint64_t* since, Channel::Subscription& joined);
  void completeWaiting(const std::string& name);
  // broker.type redis: the channel's numbering restarted at `first`.
  void restartNumbering(LocalChannel& channel, const PublishedMessage& first);
  void handleUnsubscribe(Session& session, const ClientMessage& message);
  void unsubscribe(Session& session, LocalChannel& channel);
  void reply(Session& session, const std::string& json);
  void handleAuth(Session& session, const ClientMessage& message);
  // Session resume (LocalHubResume.cpp): a `resume` asks the session store
  // for the old session (the connection's later requests wait meanwhile);
  // the answer comes back on this worker, and restores the subscriptions
  // with replay. A connection lost without the client's close leaves its
  // session in the store.
  void startResume(Session& session, ClientMessage&& message);
  void finishResume(uint64_t ticket, std::optional<int64_t> id, const std::string& oldSession,
                    std::vector<std::pair<std::string, uint64_t>>& since, TakeResult& taken);
  void keepSession(const Session& session, uint16_t code);
  void scheduleExpiry(Session& session);
  void onTimer(net::Timer& timer) override;  // the address-table sweep

  // Shared limits (LocalHubSharedLimits.cpp). An admitted upgrade waits
  // for its client's attempts across instances; a refused one is counted
  // without waiting.
  ws::UpgradeDecision shareAttempt(const Admission& admission, ws::UpgradeDecision decision,
                                   const ws::DeferredUpgrade& later);
  void answerSharedAttempt(const auth::IpAddress& client, ws::UpgradeDecision& decision,
                           std::optional<uint64_t> total, const ws::DeferredUpgrade& later);
  // A message the local limit allowed, counted across instances; the
  // answer closes the connection (4029) when its client is past the limit.
  void shareMessage(Session& session);
  void addSharedMessages(Session& session, uint32_t amount);
  void answerSharedMessages(Session& session, std::optional<uint64_t> total);

  Hub& hub_;
  ws::Worker& worker_;
  Gate& gate_;
  telemetry::Logger& logger_;
  const StaticSite* site_ = nullptr;
  SharedCounters* sharedCounters_ = nullptr;
  SharedLimitStats* sharedStats_ = nullptr;
  net::Timer sweepTimer_{this};
  ClientMessageParser parser_;  // reused: client messages arrive all the time
  // Publications handed in by deliver() from any thread; drainInbox() takes
  // them in batches (one wake-up and one task per batch, not per message).
  // Bounded (limits.worker_inbox_*): what it sheds, the worker announces.
  WorkerInbox inbox_;
  // Worker thread, reused from run to run.
  std::vector<std::shared_ptr<const PublishedMessage>> taken_;
  std::atomic<size_t> inPass_{0};            // taken_.size() while fanning out
  std::atomic<uint64_t> inPassOldestNs_{0};  // taken_.front()'s acceptedNs then
  std::vector<WorkerInbox::Shed> shed_;
  std::vector<uint32_t> pieceOf_;  // the run's contiguous pieces: where each begins
  std::vector<net::BufferRun> pieceRuns_;
  std::vector<net::BufferRun> deflatedPieceRuns_;
  std::vector<Outgoing> outgoing_;
  std::vector<int64_t> runStartsAt_;  // subscribers whose piece began there, less those it ended
  std::vector<uint32_t> runCompressedFrom_;  // compressed frames from there to the run's end
  std::vector<telemetry::ActiveSpan> spans_;
  const EndpointLabels endpoints_;
  LocalHubStats stats_;
  std::unordered_map<std::string, std::unique_ptr<LocalChannel>> channels_;
  std::atomic<size_t> subscriptionCount_{0};
  // Connections whose `resume` waits for the session store, by ticket: the
  // store's answer finds its connection here, or none when it closed.
  uint64_t nextResumeTicket_ = 0;
  std::unordered_map<uint64_t, Session*> resuming_;
};

}  // namespace wsr::hub
