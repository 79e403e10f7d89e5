// Session resume (PROTOCOL.md `resume`). A connection that ends without the
// client's close (the network dropped it, the heartbeat found it dead, the
// router went away with 1001) leaves its session in the hub's SessionStore
// for resume.window_ms: its subject, its channels and the last seq written
// to it on each. A later connection of the same subject names it with the
// session id and resume token of its `welcome`; the store gives it up once,
// and this worker subscribes the channels again with `since` those seqs,
// so that each is answered `subscribed` with `recovered` and replayed from
// history, or given a `gap` for what history no longer holds.
//
// What the router wrote is not what the client read: bytes in flight when
// the network failed are lost with the connection. A client that counts
// what it received says so with `since` in `resume` (the browser client
// does); the router's seqs stand in for channels it does not name.

#include <algorithm>

#include "hub/ChannelName.h"
#include "hub/LocalHub.h"
#include "stats/SingleWriter.h"

namespace wsr::hub {
namespace {

// Close codes after which a session is kept: the connection dropped
// (1006, the heartbeat's verdict too), the router went away (1001), or it
// closed an idle connection (1000, the only 1000 it sends). The others are
// the router's refusals (policy, rate, token expiry, slow consumer), after
// which the client must start over.
bool keepsSession(uint16_t code) {
  return code == 1006 || code == 1001 || code == 1000;
}

std::string subjectOf(const Session& session) {
  const auth::Identity* identity = session.admission.identity.get();
  return identity != nullptr ? identity->subject : std::string();
}

}  // namespace

void LocalHub::keepSession(const Session& session, uint16_t code) {
  const uint32_t windowMs = hub_.config().resume.windowMs;
  if (windowMs == 0 || !keepsSession(code) || session.subscriptions.empty()) return;
  SavedSession saved;
  saved.subject = subjectOf(session);
  saved.subscriptions.reserve(session.subscriptions.size());
  for (const SessionSubscription& mine : session.subscriptions) {
    const Subscriber& subscriber = mine.channel->subscribers[mine.index];
    SavedSubscription& out = saved.subscriptions.emplace_back();
    out.channel = mine.channel->shared->name();
    if (subscriber.lastSeq != kWaitingSeq) out.lastSeq = subscriber.lastSeq;
  }
  hub_.sessions().keep(sessionText(session), resumeTokenText(session), saved, windowMs);
}

void LocalHub::startResume(Session& session, ClientMessage&& message) {
  if (hub_.config().resume.windowMs == 0) {
    stats::singleWriterAdd(stats_.resumeFailed);
    reply(session, errorMessage(message.id, "RESUME_FAILED",
                                "session resume is off on this router (resume.window_ms: 0)"));
    return;
  }
  // Until the store answers, the client's later requests wait, so that
  // their answers come after the restored subscriptions'.
  session.waiting = true;
  const uint64_t ticket = ++nextResumeTicket_;
  session.resumeTicket = ticket;
  resuming_.emplace(ticket, &session);
  struct Pending {
    std::optional<int64_t> id;
    std::string oldSession;
    std::vector<std::pair<std::string, uint64_t>> since;
  };
  auto pending = std::make_shared<Pending>(
      Pending{message.id, std::move(message.session), std::move(message.since)});
  hub_.sessions().take(
      pending->oldSession, message.resume, subjectOf(session),
      [this, ticket, pending](TakeResult taken) {
        // The store may answer from its own thread.
        worker_.loop().post([this, ticket, pending, taken = std::move(taken)]() mutable {
          finishResume(ticket, pending->id, pending->oldSession, pending->since, taken);
        });
      });
}

void LocalHub::finishResume(uint64_t ticket, std::optional<int64_t> id,
                            const std::string& oldSession,
                            std::vector<std::pair<std::string, uint64_t>>& since,
                            TakeResult& taken) {
  auto it = resuming_.find(ticket);
  if (it == resuming_.end()) return;  // the connection closed meanwhile
  Session& session = *it->second;
  resuming_.erase(it);
  session.resumeTicket = 0;
  session.waiting = false;
  if (!session.socket->isOpen()) return;
  if (taken.outcome != TakeOutcome::Taken) {
    stats::singleWriterAdd(stats_.resumeFailed);
    reply(session, errorMessage(id, "RESUME_FAILED", takeFailureText(taken.outcome)));
    answerBacklog(session);
    return;
  }
  stats::singleWriterAdd(stats_.resumed);
  // Only what the subject may still read is restored; a channel left out
  // stays with the client to subscribe again (and be told why not).
  ClientMessage restore;
  restore.op = ClientOp::Subscribe;
  restore.id = id;
  for (SavedSubscription& saved : taken.session.subscriptions) {
    if (!isValidChannelName(saved.channel) ||
        !gate_.mayAccess(session.admission.identity.get(), saved.channel).allowed) {
      continue;
    }
    auto named = std::find_if(since.begin(), since.end(),
                              [&](const auto& entry) { return entry.first == saved.channel; });
    if (named != since.end()) {
      restore.since.emplace_back(saved.channel, named->second);
    } else if (saved.lastSeq) {
      restore.since.emplace_back(saved.channel, *saved.lastSeq);
    }
    restore.channels.push_back(std::move(saved.channel));
  }
  reply(session, resumedMessage(id, oldSession, restore.channels));
  handleSubscribe(session, restore);
  answerBacklog(session);
}

}  // namespace wsr::hub
