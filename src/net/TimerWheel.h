#pragma once
// A hashed timer wheel: one per event loop, so thousands of connections each
// with a heartbeat, an idle deadline or a handshake timeout cost the kernel
// nothing and the loop O(1) per schedule, cancel and expiry. Timers are
// intrusive: a connection embeds its Timer, so scheduling never allocates.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wsr::net {

class TimerWheel;

class Timer {
 public:
  // Called on the loop's thread when the deadline passes; the timer is no
  // longer scheduled then and may be rescheduled from inside the call.
  class Handler {
   public:
    virtual void onTimer(Timer& timer) = 0;

   protected:
    ~Handler() = default;
  };

  explicit Timer(Handler* handler) : handler_(handler) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer();

  bool scheduled() const { return wheel_ != nullptr; }
  uint64_t deadlineMs() const { return deadlineMs_; }

 private:
  friend class TimerWheel;
  Handler* handler_;
  TimerWheel* wheel_ = nullptr;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  uint64_t deadlineMs_ = 0;
  size_t slot_ = 0;  // where it is filed; kPendingSlot while due to fire
};

class TimerWheel {
 public:
  // `tickMs` is the resolution: a timer fires within one tick after its deadline.
  explicit TimerWheel(uint64_t nowMs, uint64_t tickMs = 10, size_t slots = 4096);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  ~TimerWheel();

  // (Re)schedules `timer` for `deadlineMs`; a deadline in the past fires on
  // the next advance().
  void schedule(Timer& timer, uint64_t deadlineMs);
  void cancel(Timer& timer);
  // Fires every timer whose deadline is at or before `nowMs`.
  void advance(uint64_t nowMs);

  size_t size() const { return count_; }
  uint64_t tickMs() const { return tickMs_; }

 private:
  static constexpr size_t kPendingSlot = SIZE_MAX;

  size_t slotFor(uint64_t deadlineMs) const;
  Timer*& headOf(size_t slot) { return slot == kPendingSlot ? pending_ : slots_[slot]; }
  void link(Timer& timer, size_t slot);
  void unlink(Timer& timer);

  uint64_t tickMs_;
  uint64_t currentTick_;  // every tick before this one has been processed
  std::vector<Timer*> slots_;
  // Timers found due by advance() and not fired yet: a list of its own, so a
  // handler may cancel (or destroy) another due timer safely.
  Timer* pending_ = nullptr;
  size_t count_ = 0;
};

}  // namespace wsr::net
