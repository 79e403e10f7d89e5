// Fan-out: publications handed in by any thread (deliver) are taken by the
// worker in passes and fanned out run by run (consecutive publications of
// one channel), subscriber by subscriber; a subscriber whose socket is
// blocked has them held back under its namespace's policy, and is told of
// every seq it skips with a `gap`.

#include <algorithm>
#include <iterator>

#include "hub/LocalHub.h"
#include "net/EventLoop.h"
#include "stats/SingleWriter.h"
#include "telemetry/Tracer.h"

namespace wsr::hub {
namespace {

constexpr uint16_t kCloseSlowConsumer = 4008;
// Publications one event-loop pass fans out at most. A worker behind its
// publishers takes this many at once: up to as many frames per gathered
// write on each socket (fewer system calls per delivery the further behind
// it is), while what one pass queues stays within what a socket buffer
// takes (512 x 276-byte frames: 141 KB) and the rest waits in the inbox.
constexpr size_t kMaxPublicationsPerPass = 512;

}  // namespace

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
    // A restarted numbering (broker.type redis) begins a run of its own.
    while (end < taken_.size() && taken_[end]->channel == taken_[begin]->channel &&
           !taken_[end]->restart)
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
  if (first[0]->restart) restartNumbering(channel, *first[0]);
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
        session.heldBack.empty()) {
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
      if (socket.writeBlocked() || !session.heldBack.empty()) {
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
  stats::singleWriterAdd(counters(channel).delivered, delivered);
  stats::singleWriterAdd(stats_.compressedDeliveries, compressed);
}

// Every subscriber is told the numbering restarted, with a `gap` over the
// new numbering's seqs before `first` (from 1 to first.seq - 1; to < from
// when none is missing), and continues from there. What is held back for
// it of the old numbering is dropped: it would come after the notice in
// the wrong order.
void LocalHub::restartNumbering(LocalChannel& channel, const PublishedMessage& first) {
  for (Subscriber& subscriber : channel.subscribers) {
    if (subscriber.lastSeq == kWaitingSeq) continue;
    Session& session = *subscriber.session;
    session.heldBack.forget(&channel);
    sendGap(session, channel.shared->name(), channel.shared->namespaceIndex(), 1, first.seq - 1,
            kEpochChanged);
    subscriber.lastSeq = first.seq - 1;
  }
}

void LocalHub::sendTo(Subscriber& subscriber, const PublishedMessage& message) {
  Session& session = *subscriber.session;
  if (message.seq > subscriber.lastSeq + 1) {
    auto it = channels_.find(message.channel);
    const SessionSubscription* subscription =
        it == channels_.end() ? nullptr : session.find(it->second.get());
    const size_t ns = it == channels_.end() ? hub_.namespaceIndex(message.channel)
                                            : it->second->shared->namespaceIndex();
    // Lost by the broker (the stream no longer held them), or by this client.
    const std::string_view reason = message.afterHole         ? kNotInHistory
                                    : subscription != nullptr ? subscription->dropReason
                                                              : kDroppedSlowConsumer;
    sendGap(session, message.channel, ns, subscriber.lastSeq + 1, message.seq - 1, reason);
  }
  session.socket->send(message.frames);
  subscriber.lastSeq = message.seq;
}

void LocalHub::holdBack(Session& session, LocalChannel& channel,
                        const std::shared_ptr<const PublishedMessage>& message) {
  // Closed (by the disconnect policy, say, in the middle of a replay):
  // nothing more goes out, and no policy acts or counts again.
  if (!session.socket->isOpen()) return;
  const size_t bytes = message->frames.frameFor(session.socket->deflate()).size();
  const HeldBack::Outcome outcome = session.heldBack.hold(
      message, &channel, bytes, channel.shared->config(),
      [&](const HeldBack::Entry& dropped, std::string_view reason) {
        if (SessionSubscription* subscription = session.find(dropped.channel)) {
          subscription->dropReason = reason;
        }
        NamespaceCounters& of = counters(*dropped.channel);
        stats::singleWriterAdd(reason == kDroppedConflated ? of.droppedConflated
                                                           : of.droppedSlowConsumer);
      });
  if (outcome == HeldBack::Outcome::Disconnect) {
    stats::singleWriterAdd(counters(channel).disconnectedSlowConsumer);
    session.socket->close(kCloseSlowConsumer, "slow consumer");
  }
}

void LocalHub::onDrain(ws::WebSocket& socket) {
  auto* session = static_cast<Session*>(socket.session());
  if (session == nullptr || session->heldBack.empty()) return;
  for (const HeldBack::Entry& held : session->heldBack.takeAll()) {
    SessionSubscription* subscription = session->find(held.channel);
    if (subscription == nullptr) continue;
    Subscriber& subscriber = held.channel->subscribers[subscription->index];
    if (held.message->seq <= subscriber.lastSeq) continue;
    sendTo(subscriber, *held.message);
    stats::singleWriterAdd(counters(*held.channel).delivered);
    if (held.message->frames.compressed && socket.deflate()) {
      stats::singleWriterAdd(stats_.compressedDeliveries);
    }
  }
}

void LocalHub::sendGap(Session& session, std::string_view channel, size_t namespaceIndex,
                       uint64_t from, uint64_t to, std::string_view reason) {
  if (!session.socket->isOpen()) return;  // it would not be sent: not counted either
  session.socket->send(gapMessage(channel, from, to, reason));
  stats::singleWriterAdd(stats_.namespaces[namespaceIndex].gapsSent);
}

}  // namespace wsr::hub
