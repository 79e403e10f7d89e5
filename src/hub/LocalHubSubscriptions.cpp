// Subscriptions: subscribe (permission, limits, the channel joined, the
// `since` replay or the retained value), unsubscribe, and this worker's
// channel -> local subscribers index they keep.

#include <algorithm>

#include "hub/ChannelName.h"
#include "hub/LocalHub.h"
#include "hub/WallClock.h"
#include "stats/SingleWriter.h"

namespace wsr::hub {

void LocalHub::handleSubscribe(Session& session, ClientMessage& message, size_t from) {
  std::vector<std::string_view> seen;
  for (size_t i = 0; i < message.channels.size(); ++i) {
    const std::string& name = message.channels[i];
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    if (i < from) continue;  // answered before the request had to wait
    const uint64_t* since = nullptr;
    for (const auto& [channel, seq] : message.since) {
      if (channel == name) since = &seq;
    }
    subscribe(session, message.id, name, since);
    if (session.waiting) {
      // The rest of the request, and every later one, after this answer.
      session.continueAt = i + 1;
      session.backlog.push_front(std::move(message));
      return;
    }
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
  const auth::AccessDecision access = gate_.mayAccess(session.admission.identity.get(), name);
  if (!access.allowed) {
    reply(session, errorMessage(id, "FORBIDDEN", access.reason));
    return;
  }
  auto it = channels_.find(name);
  if (it != channels_.end()) {
    if (SessionSubscription* existing = session.find(it->second.get())) {
      const Subscriber& subscriber = it->second->subscribers[existing->index];
      // Still waiting for the mirror: its `subscribed` is on the way.
      if (subscriber.lastSeq == kWaitingSeq) return;
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
  if (it == channels_.end()) {
    std::shared_ptr<Channel> shared = hub_.channel(name);
    if (shared == nullptr) {
      reply(session,
            errorMessage(id, "CHANNEL_LIMIT",
                         "the router holds as many channels as it may (limits.max_channels); "
                         "try again later"));
      return;
    }
    auto created = std::make_unique<LocalChannel>();
    created->shared = std::move(shared);
    it = channels_.emplace(name, std::move(created)).first;
  }
  LocalChannel& channel = *it->second;

  // From here on every publication of this channel is posted to this
  // worker, and nothing up to `seq` is.
  Channel::Subscription joined = channel.shared->subscribe(worker_.index(), since, wallClockMs());
  channel.shared->subscriberAdded();
  stats::singleWriterAdd(counters(channel).subscribers);
  channel.subscribers.push_back({&session, kWaitingSeq});
  session.subscriptions.push_back({&channel, channel.subscribers.size() - 1, kDroppedSlowConsumer});
  ++subscriptionCount_;
  if (joined.pending) {
    channel.waiting.push_back(
        {&session, id, since != nullptr ? std::optional<uint64_t>(*since) : std::nullopt});
    session.waiting = true;
    return;
  }
  completeSubscribe(session, channel, id, since, joined);
}

void LocalHub::channelPrimed(const std::string& channel) {
  worker_.loop().post([this, channel] { completeWaiting(channel); });
}

void LocalHub::completeWaiting(const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end()) return;  // every waiting client left meanwhile
  LocalChannel& channel = *it->second;
  std::vector<WaitingJoin> waiting = std::move(channel.waiting);
  channel.waiting.clear();
  std::vector<Session*> answered;
  for (const WaitingJoin& join : waiting) {
    const uint64_t* since = join.since ? &*join.since : nullptr;
    Channel::Subscription joined = channel.shared->subscribe(worker_.index(), since, wallClockMs());
    if (joined.pending) {  // unprimed again meanwhile: wait for the next prime
      channel.waiting.push_back(join);
      continue;
    }
    completeSubscribe(*join.session, channel, join.id, since, joined);
    join.session->waiting = false;
    answered.push_back(join.session);
  }
  // After the loop: what they asked next may unsubscribe from `channel`.
  for (Session* session : answered)
    answerBacklog(*session);
}

void LocalHub::completeSubscribe(Session& session, LocalChannel& channel, std::optional<int64_t> id,
                                 const uint64_t* since, Channel::Subscription& joined) {
  SessionSubscription* mine = session.find(&channel);
  if (mine == nullptr) return;
  const std::string& name = channel.shared->name();
  const uint64_t seq = joined.seq;
  History::Replay& replay = joined.replay;
  const std::shared_ptr<const PublishedMessage>& retained = joined.retained;
  const uint64_t start = since != nullptr ? std::min(*since, seq) : seq;
  channel.subscribers[mine->index].lastSeq = start;

  // A `since` past the channel's seq is from another numbering (the router
  // restarted without shared history, or Redis's epoch changed): nothing
  // the client missed can be named, so it is not recovered.
  const bool recovered = replay.complete && (since == nullptr || *since <= seq);
  reply(session,
        subscribedMessage(id, name, seq,
                          since != nullptr ? std::optional<bool>(recovered) : std::nullopt));
  if (since != nullptr) {
    mine->dropReason = kNotInHistory;
    // History is old by design: its writes are no latency sample.
    if (!replay.messages.empty()) {
      session.socket->skipWriteTimingUpTo(replay.messages.back()->acceptedNs);
    }
    for (const auto& message : replay.messages) {
      Subscriber& subscriber = channel.subscribers[mine->index];
      if (session.socket->writeBlocked() || !session.heldBack.empty()) {
        holdBack(session, channel, message);
      } else {
        sendTo(subscriber, *message);
      }
    }
    Subscriber& subscriber = channel.subscribers[mine->index];
    if (!replay.complete && subscriber.lastSeq < replay.missingTo) {
      // Nothing held after the missing range: say so now rather than at the
      // channel's next publication.
      sendGap(session, name, channel.shared->namespaceIndex(), subscriber.lastSeq + 1,
              replay.missingTo, kNotInHistory);
      subscriber.lastSeq = replay.missingTo;
    }
    mine->dropReason = kDroppedSlowConsumer;
  } else if (retained) {
    session.socket->skipWriteTimingUpTo(retained->acceptedNs);
    session.socket->send(retained->frames);
  }
}

void LocalHub::handleUnsubscribe(Session& session, const ClientMessage& message) {
  for (const std::string& name : message.channels) {
    auto it = channels_.find(name);
    if (it != channels_.end() && session.find(it->second.get()) != nullptr) {
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
    if (SessionSubscription* moved = channel.subscribers[index].session->find(&channel)) {
      moved->index = index;
    }
  }
  channel.subscribers.pop_back();
  *mine = session.subscriptions.back();
  session.subscriptions.pop_back();
  --subscriptionCount_;

  // Nothing held back for this channel may outlive the subscription.
  session.heldBack.forget(&channel);
  // Only a closing connection leaves while its requests wait (they wait
  // behind this subscription): nothing is left to answer.
  if (std::erase_if(channel.waiting,
                    [&](const WaitingJoin& join) { return join.session == &session; }) > 0) {
    session.waiting = false;
  }

  channel.shared->subscriberRemoved();
  stats::singleWriterSub(counters(channel).subscribers);
  if (channel.subscribers.empty()) {
    std::shared_ptr<Channel> shared = std::move(channel.shared);
    shared->leave(worker_.index());
    channels_.erase(shared->name());
    hub_.release(std::move(shared));
  }
}

}  // namespace wsr::hub
