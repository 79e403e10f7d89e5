#pragma once
// One epoll loop per worker thread. Everything a worker owns (its listener,
// its connections, their timers) is touched only from its loop's thread;
// other threads hand work in with post(), which wakes the loop through an
// eventfd. Each pass: wait, dispatch I/O, run posted work, fire timers, then
// the end-of-pass flushes, so frames queued anywhere in the pass go out
// together, many per system call.

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "net/Fd.h"
#include "net/TimerWheel.h"

namespace wsr::net {

class EventLoop {
 public:
  class IoHandler {
   public:
    virtual void onIo(uint32_t events) = 0;

   protected:
    ~IoHandler() = default;
  };

  // Something with output to push at the end of the pass (a connection with
  // queued frames). Registered at most once per pass.
  class Flushable {
   public:
    virtual void flushPass() = 0;

   protected:
    ~Flushable() = default;
  };

  EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  // Runs passes on the calling thread until stop().
  void run();
  // Any thread: makes run() return after the current pass.
  void stop();
  // Any thread: runs `task` on the loop's thread during a coming pass.
  void post(std::function<void()> task);

  // epoll registration; `handler` must outlive its registration.
  void add(int fd, uint32_t events, IoHandler* handler);
  void modify(int fd, uint32_t events, IoHandler* handler);
  void remove(int fd);

  // Runs flushable->flushPass() once at the end of this pass.
  void flushAtEndOfPass(Flushable* flushable) { flushes_.push_back(flushable); }
  // Runs after the flushes of every pass (a worker frees closed connections there).
  void setAfterPass(std::function<void()> hook) { afterPass_ = std::move(hook); }

  TimerWheel& timers() { return timers_; }
  // Monotonic milliseconds, read once per pass.
  uint64_t nowMs() const { return nowMs_; }
  static uint64_t monotonicMs();
  // The same clock in nanoseconds, read on each call (latency measurements).
  static uint64_t monotonicNs();
  // Any thread: monotonic time of the loop's last completed pass (health checks).
  uint64_t lastPassMs() const { return lastPassMs_.load(std::memory_order_relaxed); }

 private:
  void runPosted();
  void drainWakeup();

  Fd epoll_;
  Fd wakeup_;  // eventfd
  TimerWheel timers_;
  uint64_t nowMs_;
  std::atomic<uint64_t> lastPassMs_;
  std::atomic<bool> stopping_{false};

  std::mutex postedMutex_;
  std::vector<std::function<void()>> posted_;  // guarded by postedMutex_
  bool wakeupPending_ = false;                 // guarded by postedMutex_
  std::vector<std::function<void()>> running_;

  std::vector<Flushable*> flushes_;
  std::function<void()> afterPass_;
};

}  // namespace wsr::net
