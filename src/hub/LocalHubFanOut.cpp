// Fan-out: publications handed in by any thread (deliver) are taken by the
// worker in passes and fanned out run by run (consecutive publications of
// one channel), subscriber by subscriber; a subscriber whose socket is
// blocked has them held back under its namespace's policy, and is told of
// every seq it skips with a `gap`. What the worker's inbox shed (WorkerInbox:
// the worker fell behind) is a hole like any other: announced with reason
// `overload`, and a run is sent piece by piece around it.

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
  if (enqueue(std::move(message))) wake();
}

bool LocalHub::enqueue(std::shared_ptr<const PublishedMessage> message) {
  return inbox_.push(std::move(message));
}

void LocalHub::wake() {
  // The task posted for the first publication takes every later one too.
  worker_.loop().post([this] { drainInbox(); });
}

void LocalHub::drainInbox() {
  const bool more =
      inbox_.take(kMaxPublicationsPerPass, net::EventLoop::monotonicNs(), taken_, shed_);
  // The rest waits for the next pass, after this one's writes: a worker
  // that falls behind keeps its backlog in the inbox (bounded there, and
  // shed past its bounds) rather than as references in every subscriber's
  // send queue; and a socket that cannot take a pass's frames blocks, so
  // the slow-consumer policy decides what happens to the next ones.
  if (more) worker_.loop().post([this] { drainInbox(); });
  for (const WorkerInbox::Shed& shed : shed_)
    countShed(shed);
  // Runs of one channel keep the order publications were handed in; a run
  // of many (a busy channel, a batch publish) is fanned out in one pass
  // over its subscribers.
  inPass_.store(taken_.size(), std::memory_order_relaxed);
  inPassOldestNs_.store(taken_.empty() ? 0 : taken_.front()->acceptedNs, std::memory_order_relaxed);
  for (size_t begin = 0; begin < taken_.size();) {
    size_t end = begin + 1;
    // A restarted numbering (broker.type redis) begins a run of its own.
    while (end < taken_.size() && taken_[end]->channel == taken_[begin]->channel &&
           !taken_[end]->restart)
      ++end;
    fanOutRun(&taken_[begin], end - begin);
    begin = end;
  }
  // After the runs: a later publication taken now has shown the hole.
  for (const WorkerInbox::Shed& shed : shed_)
    announceTrailingShed(shed);
  taken_.clear();
  inPass_.store(0, std::memory_order_relaxed);
  inPassOldestNs_.store(0, std::memory_order_relaxed);
  shed_.clear();
}

void LocalHub::countShed(const WorkerInbox::Shed& shed) {
  auto it = channels_.find(shed.channel);
  if (it == channels_.end()) return;  // no subscriber here: nobody missed it
  LocalChannel& channel = *it->second;
  channel.shedUpTo = std::max(channel.shedUpTo, shed.upTo);
  if (shed.count == 0) return;
  uint64_t missed = 0;
  for (const Subscriber& subscriber : channel.subscribers) {
    // kWaitingSeq (waiting for the mirror) is past every seq.
    if (subscriber.lastSeq < shed.upTo && subscriber.session->socket->isOpen()) ++missed;
  }
  stats::singleWriterAdd(counters(channel).droppedOverload, missed * shed.count);
}

void LocalHub::announceTrailingShed(const WorkerInbox::Shed& shed) {
  if (!shed.trailing) return;
  auto it = channels_.find(shed.channel);
  if (it == channels_.end()) return;
  LocalChannel& channel = *it->second;
  for (Subscriber& subscriber : channel.subscribers) {
    if (subscriber.lastSeq >= shed.upTo) continue;
    Session& session = *subscriber.session;
    // Behind held-back messages the gap would overtake them: it goes out
    // with the next publication sent instead (sendTo names the reason).
    if (session.socket->writeBlocked() || !session.heldBack.empty()) continue;
    sendGap(session, channel.shared->name(), channel.shared->namespaceIndex(),
            subscriber.lastSeq + 1, shed.upTo, kDroppedOverload);
    subscriber.lastSeq = shed.upTo;
  }
}

std::string_view LocalHub::holeReason(Session& session, const LocalChannel& channel,
                                      const PublishedMessage& message, uint64_t from) const {
  // Lost by the broker (the stream no longer held them), shed by this
  // worker's inbox, or dropped for this client.
  if (message.afterHole) return kNotInHistory;
  if (channel.shedUpTo >= from) return kDroppedOverload;
  const SessionSubscription* subscription = session.find(&channel);
  return subscription != nullptr ? subscription->dropReason : kDroppedSlowConsumer;
}

void LocalHub::fanOutRun(const std::shared_ptr<const PublishedMessage>* first, size_t count) {
  auto it = channels_.find(first[0]->channel);
  if (it == channels_.end()) return;  // the last subscriber left meanwhile
  LocalChannel& channel = *it->second;
  if (first[0]->restart) restartNumbering(channel, *first[0]);
  telemetry::Tracer* tracer = hub_.tracer();
  outgoing_.clear();
  // The run's pieces of consecutive seqs: a publication the inbox shed (or
  // the broker lost) leaves a hole between two.
  pieceOf_.clear();
  bool ascending = true;  // the rule (seqs are handed in in order), but for races
  for (size_t k = 0; k < count; ++k) {
    const PublishedMessage& message = *first[k];
    outgoing_.push_back({&first[k], 0, 0});
    if (k == 0 || message.seq != first[k - 1]->seq + 1)
      pieceOf_.push_back(static_cast<uint32_t>(k));
    if (k > 0 && message.seq <= first[k - 1]->seq) ascending = false;
    // Only a sampled publication has a trace context (and then the hub a
    // tracer): every other one costs this test.
    if (message.trace.sampled() && tracer != nullptr) {
      spans_.push_back(tracer->startSpan("fanout", telemetry::SpanKind::Internal, message.trace));
    }
  }
  const size_t pieces = pieceOf_.size();
  pieceOf_.push_back(static_cast<uint32_t>(count));
  // Each piece's frames as every subscriber's send queue will hold them:
  // one shared entry each, plain or (built at the first subscriber that
  // negotiated permessage-deflate) compressed where a twin exists.
  pieceRuns_.clear();
  deflatedPieceRuns_.assign(pieces, net::BufferRun());
  for (size_t p = 0; p < pieces; ++p) {
    std::vector<net::SharedBuffer> plain;
    plain.reserve(pieceOf_[p + 1] - pieceOf_[p]);
    for (size_t k = pieceOf_[p]; k < pieceOf_[p + 1]; ++k)
      plain.push_back(first[k]->frames.plain);
    pieceRuns_.emplace_back(std::move(plain));
  }
  // Per subscriber, only where each piece it got begins and ends is
  // counted; deliveries per publication are summed from these after the
  // loop.
  runStartsAt_.assign(count + 1, 0);
  runCompressedFrom_.assign(count + 1, 0);
  for (size_t k = count; k-- > 0;) {
    const bool twin = static_cast<bool>(first[k]->frames.compressed);
    runCompressedFrom_[k] = runCompressedFrom_[k + 1] + (twin ? 1 : 0);
  }
  auto pieceRun = [&](size_t p, bool deflate) -> const net::BufferRun& {
    if (!deflate || runCompressedFrom_[pieceOf_[p]] == runCompressedFrom_[pieceOf_[p + 1]]) {
      return pieceRuns_[p];
    }
    if (!deflatedPieceRuns_[p]) {
      std::vector<net::SharedBuffer> deflated;
      deflated.reserve(pieceOf_[p + 1] - pieceOf_[p]);
      for (size_t k = pieceOf_[p]; k < pieceOf_[p + 1]; ++k)
        deflated.push_back(first[k]->frames.frameFor(true));
      deflatedPieceRuns_[p] = net::BufferRun(std::move(deflated));
    }
    return deflatedPieceRuns_[p];
  };

  // Subscriber by subscriber, every publication of the run: each
  // subscriber's session, socket and send queue are touched once per run,
  // not once per publication. What one subscriber gets never depends on
  // another, so the result is the same as publication by publication.
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
    // The common case, before the run: the whole of it.
    const size_t begin =
        !ascending || subscriber.lastSeq < first[0]->seq
            ? 0
            : static_cast<size_t>(std::upper_bound(first, first + count, subscriber.lastSeq,
                                                   [](uint64_t seq, const auto& message) {
                                                     return seq < message->seq;
                                                   }) -
                                  first);
    if (begin == count) continue;
    // The common case: its socket takes frames. One call per piece queues
    // it, after the gap before it (none but for a hole).
    if (ascending && !socket.writeBlocked() && session.heldBack.empty()) {
      size_t p = pieces == 1 || begin == 0
                     ? 0
                     : static_cast<size_t>(
                           std::upper_bound(pieceOf_.begin(),
                                            pieceOf_.begin() + static_cast<std::ptrdiff_t>(pieces),
                                            static_cast<uint32_t>(begin)) -
                           pieceOf_.begin()) -
                           1;
      for (; p < pieces; ++p) {
        const size_t from = std::max<size_t>(begin, pieceOf_[p]);
        const size_t end = pieceOf_[p + 1];
        const PublishedMessage& head = *first[from];
        if (head.seq > subscriber.lastSeq + 1) {
          sendGap(session, channel.shared->name(), channel.shared->namespaceIndex(),
                  subscriber.lastSeq + 1, head.seq - 1,
                  holeReason(session, channel, head, subscriber.lastSeq + 1));
        }
        if (socket.send(pieceRun(p, socket.deflate()), from - pieceOf_[p]) == 0) break;  // closed
        subscriber.lastSeq = first[end - 1]->seq;
        ++runStartsAt_[from];
        --runStartsAt_[end];
        if (socket.deflate()) compressed += runCompressedFrom_[from] - runCompressedFrom_[end];
      }
      continue;
    }
    // Otherwise publication by publication: a socket to hold back for, a
    // policy that may close it on the way.
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
  int64_t started = 0;  // subscribers whose piece covers this publication
  const uint64_t now = net::EventLoop::monotonicNs();
  size_t span = 0;
  for (size_t k = 0; k < count; ++k) {
    Outgoing& out = outgoing_[k];
    started += runStartsAt_[k];
    out.delivered += static_cast<uint64_t>(started);
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
  // The send queues hold their own references: the frames go with them.
  pieceRuns_.clear();
  deflatedPieceRuns_.clear();
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
    channel.shedUpTo = 0;  // of the old numbering
    sendGap(session, channel.shared->name(), channel.shared->namespaceIndex(), 1, first.seq - 1,
            kEpochChanged);
    subscriber.lastSeq = first.seq - 1;
  }
}

void LocalHub::sendTo(Subscriber& subscriber, const PublishedMessage& message) {
  Session& session = *subscriber.session;
  if (message.seq > subscriber.lastSeq + 1) {
    auto it = channels_.find(message.channel);
    const uint64_t from = subscriber.lastSeq + 1;
    if (it == channels_.end()) {
      sendGap(session, message.channel, hub_.namespaceIndex(message.channel), from, message.seq - 1,
              message.afterHole ? kNotInHistory : kDroppedSlowConsumer);
    } else {
      const LocalChannel& channel = *it->second;
      sendGap(session, message.channel, channel.shared->namespaceIndex(), from, message.seq - 1,
              holeReason(session, channel, message, from));
    }
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
