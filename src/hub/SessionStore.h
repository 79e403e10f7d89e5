#pragma once
// Where lost connections' sessions wait for `resume`: in this process
// (MemorySessionStore, broker.type memory) or in Redis (the Redis broker's
// RedisSessionStore, so that a client resumes on any instance). A session
// is kept under its id with its resume token and subject, for
// resume.window_ms, and can be taken once: taking it removes it.
//
// Workers call both from their event loops, so neither may block: a store
// that must ask elsewhere queues the work and calls `done` later, from its
// own thread; the caller posts the outcome back to its loop.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "hub/SavedSession.h"

namespace wsr::hub {

enum class TakeOutcome {
  Taken,         // the session, now removed from the store
  Unknown,       // no such session: never kept, expired, or resumed already
  WrongToken,    // the resume token is not the session's (the session stays)
  OtherSubject,  // the connection's subject is not the session's (it stays)
  Unavailable,   // the store cannot be reached (Redis down)
};

struct TakeResult {
  TakeOutcome outcome = TakeOutcome::Unknown;
  SavedSession session;  // when Taken
};

// What RESUME_FAILED says for each outcome but Taken.
std::string_view takeFailureText(TakeOutcome outcome);

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // Keeps `session` under `id` for `ttlMs`. Best effort: a store that
  // cannot keep it counts it as lost.
  virtual void keep(const std::string& id, const std::string& token, const SavedSession& session,
                    uint64_t ttlMs) = 0;
  // Takes the session `id` if `token` and `subject` are its own; `done`
  // runs once, on the caller's thread or the store's.
  virtual void take(const std::string& id, const std::string& token, const std::string& subject,
                    std::function<void(TakeResult)> done) = 0;
  // Worker 0's periodic sweep (stores that expire by themselves ignore it).
  virtual void sweep(int64_t nowMs) = 0;

  // Counters for the metrics.
  struct Counts {
    uint64_t kept = 0;  // sessions handed to keep()
    uint64_t lost = 0;  // of those, not kept (store full or unreachable)
    uint64_t held = 0;  // kept now (memory store; 0 where unknown)
  };
  virtual Counts counts() const = 0;
};

}  // namespace wsr::hub
