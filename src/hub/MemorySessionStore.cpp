#include "hub/MemorySessionStore.h"

#include <utility>

namespace wsr::hub {

std::string_view takeFailureText(TakeOutcome outcome) {
  switch (outcome) {
    case TakeOutcome::Taken:
      return "";
    case TakeOutcome::Unknown:
      return "no such session: it ended with the client's close, had no subscriptions, "
             "expired (resume.window_ms) or was resumed already";
    case TakeOutcome::WrongToken:
      return "the resume token is not this session's";
    case TakeOutcome::OtherSubject:
      return "the session belongs to another subject than this connection's token";
    case TakeOutcome::Unavailable:
      return "the session store (Redis) is unreachable; subscribe again with since";
  }
  return "";
}

MemorySessionStore::MemorySessionStore(size_t maxSessions, std::function<int64_t()> nowMs)
    : maxSessions_(maxSessions), nowMs_(std::move(nowMs)) {}

void MemorySessionStore::keep(const std::string& id, const std::string& token,
                              const SavedSession& session, uint64_t ttlMs) {
  kept_.fetch_add(1, std::memory_order_relaxed);
  const int64_t now = nowMs_();
  std::lock_guard lock(mutex_);
  if (entries_.size() >= maxSessions_) {
    lost_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  entries_[id] = Entry{token, session, now + static_cast<int64_t>(ttlMs)};
}

void MemorySessionStore::take(const std::string& id, const std::string& token,
                              const std::string& subject, std::function<void(TakeResult)> done) {
  TakeResult result;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.expiresAtMs <= nowMs_()) {
      result.outcome = TakeOutcome::Unknown;
    } else if (it->second.token != token) {
      result.outcome = TakeOutcome::WrongToken;
    } else if (it->second.session.subject != subject) {
      result.outcome = TakeOutcome::OtherSubject;
    } else {
      result.outcome = TakeOutcome::Taken;
      result.session = std::move(it->second.session);
      entries_.erase(it);
    }
  }
  done(std::move(result));
}

void MemorySessionStore::sweep(int64_t nowMs) {
  std::lock_guard lock(mutex_);
  if (nowMs < nextSweepMs_) return;
  nextSweepMs_ = nowMs + kSweepIntervalMs;
  std::erase_if(entries_, [&](const auto& entry) { return entry.second.expiresAtMs <= nowMs; });
}

SessionStore::Counts MemorySessionStore::counts() const {
  Counts counts;
  counts.kept = kept_.load(std::memory_order_relaxed);
  counts.lost = lost_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  counts.held = entries_.size();
  return counts;
}

}  // namespace wsr::hub
