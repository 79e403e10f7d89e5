#pragma once
// The SessionStore of one process (broker.type memory): a table under a
// mutex shared by the workers. An entry past its window is refused at once
// and removed by the sweep, at most every 60 s. Bounded by `maxSessions`:
// past it, a lost connection's session is not kept (counted as lost), so
// a flood of broken connections cannot grow it without end.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "hub/SessionStore.h"

namespace wsr::hub {

class MemorySessionStore final : public SessionStore {
 public:
  // `nowMs` reads the clock the windows are measured on (tests pass theirs).
  MemorySessionStore(size_t maxSessions, std::function<int64_t()> nowMs);

  void keep(const std::string& id, const std::string& token, const SavedSession& session,
            uint64_t ttlMs) override;
  void take(const std::string& id, const std::string& token, const std::string& subject,
            std::function<void(TakeResult)> done) override;
  void sweep(int64_t nowMs) override;
  Counts counts() const override;

 private:
  struct Entry {
    std::string token;
    SavedSession session;
    int64_t expiresAtMs;
  };
  static constexpr int64_t kSweepIntervalMs = 60000;

  const size_t maxSessions_;
  const std::function<int64_t()> nowMs_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  int64_t nextSweepMs_ = 0;
  std::atomic<uint64_t> kept_{0};
  std::atomic<uint64_t> lost_{0};
};

}  // namespace wsr::hub
