#pragma once
// One channel's shared state and the rules for touching it. Publishers
// (admin threads, the demo feed) and workers (subscribing clients) meet
// here, through two locks, always taken in this order:
//
// - the publish turn: publishers of one channel take turns, so that the
//   order in which they hand publications to the workers is their seq
//   order. A publisher builds (and compresses) its frames while it holds
//   only its turn, which no worker ever takes: a large publication never
//   stalls a worker's event loop.
// - the state lock: seq, history, retained value and the workers with local
//   subscribers. Held briefly, by a publisher to store and hand off one
//   built publication, and by a worker whose client subscribes or leaves.
//
// With broker.type redis the channel is a mirror: Redis assigns the seq and
// keeps the history and retained value; the broker's thread is the only
// publisher (accept(), prime()), and a worker that joins before the mirror
// has been primed from Redis is told to wait (Subscription::pending).

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "config/Config.h"
#include "hub/ChannelInterest.h"
#include "hub/History.h"
#include "hub/PublishedMessage.h"
#include "hub/WorkerSet.h"

namespace wsr::hub {

struct NamespaceTotals;

class Channel {
 public:
  // `namespaceIndex` names its namespace among the hub's (Hub::namespaces()),
  // whose hub-wide totals are `totals`.
  // `interest` (null with broker.type memory) makes it a mirror of Redis.
  Channel(std::string name, const config::NamespaceConfig& settings, size_t namespaceIndex,
          NamespaceTotals& totals, ChannelInterest* interest = nullptr);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const std::string& name() const { return name_; }
  const config::NamespaceConfig& config() const { return config_; }
  size_t namespaceIndex() const { return namespaceIndex_; }
  NamespaceTotals& totals() const { return totals_; }
  // The last publication's seq (0 before the first).
  uint64_t seq() const { return seq_.load(std::memory_order_acquire); }

  // ---- Publisher side
  // Assigns the next seq and hands the publication to the history, the
  // retained value and every worker with subscribers, in seq order.
  // build(seq) -> shared_ptr<const PublishedMessage> runs within the turn
  // but outside the state lock, and only when someone can see the result;
  // deliver(worker, message) runs under the state lock for each such
  // worker. Returns the seq.
  template <typename Build, typename Deliver>
  uint64_t publish(int64_t tsMs, Build&& build, Deliver&& deliver);

  // ---- Mirror side (broker.type redis; the broker's thread only)
  // What accept() found the publication to be.
  enum class Accepted {
    Ignored,    // the mirror is not primed (not subscribed in Redis): not ours
    Duplicate,  // seen already (a replay after a reconnection overlaps the stream)
    Next,       // the next seq
    Hole,       // seqs between the last seen and this one are lost
    Restart,    // another epoch: Redis lost the channel's data, numbering restarted
    // A seq already seen, but another publication (another origin): Redis
    // numbered again what it had numbered (a failover to a replica that
    // missed writes). Not delivered; the broker starts a new epoch.
    Diverged,
  };
  // A publication as Redis numbered it. build(seq, accepted) and
  // deliver(worker, message) as for publish(); nothing is built for an
  // Ignored or Duplicate one.
  template <typename Build, typename Deliver>
  Accepted accept(uint64_t epoch, uint64_t seq, int64_t tsMs, uint64_t origin, Build&& build,
                  Deliver&& deliver);
  // The first look after subscribing in Redis: the channel's epoch and seq
  // there, the stream's publications (oldest first) and the retained value.
  // Workers that waited are given to ready(worker). A primed mirror stays
  // as it is (catching up is accept()'s job).
  template <typename Ready>
  void prime(uint64_t epoch, uint64_t seq,
             const std::vector<std::shared_ptr<const PublishedMessage>>& history,
             std::shared_ptr<const PublishedMessage> retained, Ready&& ready);
  // After the linger: forgets the mirror unless a worker watches again
  // (then returns false and keeps it).
  bool unprime();
  // Redis no longer holds the channel's numbering (restarted empty, or the
  // keys expired): the history and retained value of the old one are not
  // served any more. The seq and epoch stay, so that the next publication
  // is seen as a restart (and announced with a `gap`).
  void forgetStored();
  bool primed();
  uint64_t epoch();

  // ---- Worker side
  struct Subscription {
    uint64_t seq = 0;        // the channel's seq at that moment: later ones will be handed over
    History::Replay replay;  // with `since`: what the client missed
    std::shared_ptr<const PublishedMessage> retained;  // without `since`, where kept
    // Mirror not primed yet: nothing above is known. The worker is told
    // (Hub -> LocalHub::channelPrimed) when it is, and asks again.
    bool pending = false;
  };
  // A client of `worker` subscribes (with `since`, or null): from now on
  // every publication is handed to that worker, and none up to the
  // returned seq is.
  Subscription subscribe(size_t worker, const uint64_t* since, int64_t nowMs);
  // The last client of `worker` left: publications stop going there.
  void leave(size_t worker);

  // Subscriptions to this channel over every worker (for hasSubscribers).
  void subscriberAdded();
  void subscriberRemoved();
  uint32_t subscribers() const { return subscribers_.load(std::memory_order_relaxed); }

  // Whether the channel holds nothing anyone may still ask for at `nowMs`:
  // no subscriber anywhere, no retained value, no history within its age,
  // and either never published or idle for `idleMs` (its seq is then
  // forgotten; a later publication starts again at 1).
  bool disposable(int64_t nowMs, uint64_t idleMs);

  // For tests and views: under the state lock.
  bool hasWorker(size_t worker);
  size_t historySize();
  std::shared_ptr<const PublishedMessage> retained();
  History::Replay replaySince(uint64_t since, int64_t nowMs);

 private:
  bool keeps() const { return config_.historySize > 0 || config_.retainLast; }

  const std::string name_;
  const config::NamespaceConfig& config_;
  const size_t namespaceIndex_;
  NamespaceTotals& totals_;
  ChannelInterest* const interest_;

  std::mutex turn_;   // publishers only
  std::mutex state_;  // guards what follows, but seq_ is written under both
  std::atomic<uint64_t> seq_{0};
  int64_t lastPublishMs_ = 0;
  History history_;
  std::shared_ptr<const PublishedMessage> retained_;
  WorkerSet workers_;
  // Mirror only.
  bool primed_ = false;
  uint64_t epoch_ = 0;
  uint64_t lastOrigin_ = 0;  // the origin of the last seq (0: not known)
  WorkerSet waiting_;        // workers whose clients wait for prime()

  std::atomic<uint32_t> subscribers_{0};
};

// What the hub counts of a namespace, from any thread: the channels that
// exist and the publications accepted. What the workers count of it
// (deliveries, drops, gaps, subscribers) is theirs (NamespaceCounters).
struct NamespaceTotals {
  std::atomic<uint64_t> channels{0};
  std::atomic<uint64_t> published{0};
};

template <typename Build, typename Deliver>
uint64_t Channel::publish(int64_t tsMs, Build&& build, Deliver&& deliver) {
  std::lock_guard turn(turn_);
  // Only publishers change seq_, and they do it in turn.
  const uint64_t seq = seq_.load(std::memory_order_relaxed) + 1;
  bool seen = keeps();
  if (!seen) {
    std::lock_guard state(state_);
    seen = !workers_.empty();
  }
  std::shared_ptr<const PublishedMessage> message;
  if (seen) message = build(seq);

  std::unique_lock state(state_);
  // A worker that joined since the look above must get this one too; the
  // turn keeps the seq from moving while the frames are built.
  while (!message && !workers_.empty()) {
    state.unlock();
    message = build(seq);
    state.lock();
  }
  seq_.store(seq, std::memory_order_release);
  lastPublishMs_ = tsMs;
  if (!message) return seq;  // nobody can ever see it: it costs a seq
  if (config_.historySize > 0) history_.append(message, seq, tsMs);
  if (config_.retainLast) retained_ = message;
  workers_.forEach([&](size_t worker) { deliver(worker, message); });
  return seq;
}

template <typename Build, typename Deliver>
Channel::Accepted Channel::accept(uint64_t epoch, uint64_t seq, int64_t tsMs, uint64_t origin,
                                  Build&& build, Deliver&& deliver) {
  std::lock_guard turn(turn_);
  Accepted accepted;
  bool seen = keeps();
  {
    std::lock_guard state(state_);
    if (!primed_) return Accepted::Ignored;
    const uint64_t last = seq_.load(std::memory_order_relaxed);
    if (epoch_ != 0 && epoch != epoch_) {
      accepted = Accepted::Restart;
    } else if (seq <= last) {
      // Seen: a replay overlapping what came live, unless the publication
      // under that seq is another one (known for the last seq, and for
      // those the history holds).
      if (origin != 0) {
        const PublishedMessage* held = seq == last ? nullptr : history_.find(seq);
        const uint64_t known = seq == last ? lastOrigin_ : held != nullptr ? held->origin : 0;
        if (known != 0 && known != origin) return Accepted::Diverged;
      }
      return Accepted::Duplicate;
    } else {
      accepted = seq == last + 1 ? Accepted::Next : Accepted::Hole;
    }
    seen = seen || !workers_.empty();
  }
  std::shared_ptr<const PublishedMessage> message;
  if (seen) message = build(seq, accepted);
  std::unique_lock state(state_);
  while (!message && !workers_.empty()) {
    state.unlock();
    message = build(seq, accepted);
    state.lock();
  }
  // The old numbering's history says nothing about the new one.
  if (accepted == Accepted::Restart) history_.reset();
  seq_.store(seq, std::memory_order_release);
  epoch_ = epoch;
  lastOrigin_ = origin;
  lastPublishMs_ = tsMs;
  if (!message) return accepted;
  if (config_.historySize > 0) history_.append(message, seq, tsMs);
  if (config_.retainLast) retained_ = message;
  workers_.forEach([&](size_t worker) { deliver(worker, message); });
  return accepted;
}

template <typename Ready>
void Channel::prime(uint64_t epoch, uint64_t seq,
                    const std::vector<std::shared_ptr<const PublishedMessage>>& history,
                    std::shared_ptr<const PublishedMessage> retained, Ready&& ready) {
  std::lock_guard turn(turn_);
  std::lock_guard state(state_);
  if (primed_) return;
  history_.reset();
  if (config_.historySize > 0) {
    for (const auto& message : history)
      history_.append(message, message->seq, message->tsMs);
  }
  retained_ = config_.retainLast ? std::move(retained) : nullptr;
  lastOrigin_ = !history.empty() && history.back()->seq == seq ? history.back()->origin : 0;
  seq_.store(seq, std::memory_order_release);
  epoch_ = epoch;
  primed_ = true;
  waiting_.forEach([&](size_t worker) { ready(worker); });
  waiting_ = WorkerSet{};
}

}  // namespace wsr::hub
