// LocalHub's side of the limits counted across instances (broker.type
// redis, docs/scaling.md#limits-across-instances): connection attempts and
// client messages per client address, in fixed minute windows. The local
// limits apply first, as with one instance; the shared count is asked
// without blocking the worker, and its answer comes back to this worker's
// loop. No answer (Redis unreachable, too slow) leaves the local decision
// standing, counted as a fallback.

#include <memory>

#include "auth/SharedWindow.h"
#include "hub/LocalHub.h"
#include "hub/WallClock.h"
#include "net/EventLoop.h"

namespace wsr::hub {
namespace {

constexpr uint16_t kCloseTooManyMessages = 4029;

}  // namespace

ws::UpgradeDecision LocalHub::shareAttempt(const Admission& admission, ws::UpgradeDecision decision,
                                           const ws::DeferredUpgrade& later) {
  if (sharedCounters_ == nullptr || !admission.attemptCounted) return decision;
  const auth::IpAddress client = admission.client;
  if (decision.status != 0) {
    // Refused here already: counted across instances too (a client that
    // keeps trying keeps its window full everywhere), without waiting.
    sharedCounters_->add(SharedLimit::ConnectionAttempts, client.toString(), 1,
                         [](std::optional<uint64_t>) {});
    return decision;
  }
  // The decision (and the session in it, holding the connection's places
  // under the caps) waits in the callback; std::function wants it copyable.
  auto held = std::make_shared<ws::UpgradeDecision>(std::move(decision));
  net::EventLoop& loop = worker_.loop();
  // Moved on to the worker: the session is released there, not on the
  // counters' thread.
  sharedCounters_->add(
      SharedLimit::ConnectionAttempts, client.toString(), 1,
      [this, &loop, client, held = std::move(held), later](std::optional<uint64_t> total) mutable {
        loop.post([this, client, held = std::move(held), later, total] {
          answerSharedAttempt(client, *held, total, later);
        });
      });
  return ws::UpgradeDecision::later();
}

void LocalHub::answerSharedAttempt(const auth::IpAddress& client, ws::UpgradeDecision& decision,
                                   std::optional<uint64_t> total,
                                   const ws::DeferredUpgrade& later) {
  if (!total) {
    sharedStats_->countFallback(SharedLimit::ConnectionAttempts);
    later.answer(std::move(decision));
    return;
  }
  if (auth::overSharedLimit(*total, hub_.config().limits.connectionAttemptsPerMinute)) {
    sharedStats_->countRefusal(SharedLimit::ConnectionAttempts);
    // The admitted decision is dropped here: its session gives its places back.
    later.answer(gate_.refuseSharedAttempts(client, auth::sharedWindowSecondsLeft(wallClockMs())));
    return;
  }
  later.answer(std::move(decision));
}

void LocalHub::shareMessage(Session& session) {
  if (hub_.config().limits.messagesPerMinute == 0) return;
  const uint32_t amount = session.sharedMessages.onMessage();
  if (amount != 0) addSharedMessages(session, amount);
}

void LocalHub::addSharedMessages(Session& session, uint32_t amount) {
  if (!session.sharedHandle) session.sharedHandle = std::make_shared<Session*>(&session);
  std::weak_ptr<Session*> handle = session.sharedHandle;
  net::EventLoop& loop = worker_.loop();
  sharedCounters_->add(SharedLimit::Messages, session.admission.client.toString(), amount,
                       [this, &loop, handle](std::optional<uint64_t> total) {
                         loop.post([this, handle, total] {
                           // The session may have gone meanwhile; nothing to do then.
                           if (const std::shared_ptr<Session*> alive = handle.lock()) {
                             answerSharedMessages(**alive, total);
                           }
                         });
                       });
}

void LocalHub::answerSharedMessages(Session& session, std::optional<uint64_t> total) {
  if (!total) sharedStats_->countFallback(SharedLimit::Messages);
  const auth::SharedMessageTally::Next next =
      session.sharedMessages.onAnswer(total, hub_.config().limits.messagesPerMinute);
  if (next.overLimit) {
    if (session.socket != nullptr && session.socket->isOpen()) {
      sharedStats_->countRefusal(SharedLimit::Messages);
      session.socket->close(kCloseTooManyMessages, "too many messages");
    }
    return;
  }
  if (next.add != 0) addSharedMessages(session, next.add);
}

}  // namespace wsr::hub
