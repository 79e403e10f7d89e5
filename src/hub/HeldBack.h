#pragma once
// What one client has not been sent because its socket is blocked, bounded
// by each namespace's limits and policy (DESIGN.md item 3). A pure queue
// plus the policy: no socket, no counter; the caller learns what was dropped
// and acts (gap reasons, metrics, the 4008 close).
//
// Policies, when a message would overflow the queue's count or bytes:
// - drop_oldest: the oldest held messages go until it fits;
// - conflate: a held message of the same channel and key is replaced by the
//   newer one (appended at the back, so order is kept); without such a key,
//   as drop_oldest;
// - disconnect: nothing is dropped; the client is to be closed.

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "config/Config.h"
#include "hub/PublishedMessage.h"

namespace wsr::hub {

struct LocalChannel;

inline constexpr std::string_view kDroppedSlowConsumer = "slow_consumer";
inline constexpr std::string_view kDroppedConflated = "conflated";

class HeldBack {
 public:
  struct Entry {
    std::shared_ptr<const PublishedMessage> message;
    LocalChannel* channel;
    size_t bytes;  // of the frame this client would be sent
  };
  enum class Outcome { Held, Disconnect };

  // Holds `message` for `channel` under its namespace's `settings`, calling
  // onDrop(const Entry&, reason) for each held message it drops to make
  // room (reason: kDroppedSlowConsumer or kDroppedConflated). Disconnect:
  // the policy closes the client instead; nothing changed.
  template <typename OnDrop>
  Outcome hold(std::shared_ptr<const PublishedMessage> message, LocalChannel* channel, size_t bytes,
               const config::NamespaceConfig& settings, OnDrop&& onDrop);

  // Drops what is held for `channel` (its subscription ended).
  void forget(const LocalChannel* channel);
  // Everything held, oldest first; the queue is left empty.
  std::vector<Entry> takeAll();

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  void erase(std::vector<Entry>::iterator it);

  std::vector<Entry> entries_;
  size_t bytes_ = 0;
};

template <typename OnDrop>
HeldBack::Outcome HeldBack::hold(std::shared_ptr<const PublishedMessage> message,
                                 LocalChannel* channel, size_t bytes,
                                 const config::NamespaceConfig& settings, OnDrop&& onDrop) {
  if (settings.policy == config::SlowConsumerPolicy::Conflate && !message->key.empty()) {
    // The replaced seq is announced as a gap when the newer one goes out.
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->channel == channel && it->message->key == message->key) {
        onDrop(*it, kDroppedConflated);
        erase(it);
        break;
      }
    }
  }
  while (!entries_.empty() && (entries_.size() >= settings.queueMaxMessages ||
                               bytes_ + bytes > settings.queueMaxBytes)) {
    if (settings.policy == config::SlowConsumerPolicy::Disconnect) return Outcome::Disconnect;
    onDrop(entries_.front(), kDroppedSlowConsumer);
    erase(entries_.begin());
  }
  entries_.push_back({std::move(message), channel, bytes});
  bytes_ += bytes;
  return Outcome::Held;
}

}  // namespace wsr::hub
