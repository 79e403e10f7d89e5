#include "net/EventLoop.h"

#include <sys/eventfd.h>

#include <time.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace wsr::net {
namespace {

// The loop turns at least this often even when idle, so /healthz can tell a
// stalled loop from a quiet one.
constexpr int kMaxWaitMs = 1000;
constexpr int kMaxEvents = 256;

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

uint64_t EventLoop::monotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

uint64_t EventLoop::monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000 + static_cast<uint64_t>(ts.tv_nsec);
}

EventLoop::EventLoop()
    : epoll_(epoll_create1(EPOLL_CLOEXEC)),
      wakeup_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      timers_(monotonicMs()),
      nowMs_(monotonicMs()),
      lastPassMs_(nowMs_) {
  if (!epoll_) fail("epoll_create1");
  if (!wakeup_) fail("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up is the one registration without a handler
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeup_.get(), &ev) != 0) fail("epoll_ctl(eventfd)");
}

EventLoop::~EventLoop() = default;

void EventLoop::add(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl(ADD)");
}

void EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) fail("epoll_ctl(MOD)");
}

void EventLoop::remove(int fd) {
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::post(std::function<void()> task) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(postedMutex_);
    posted_.push_back(std::move(task));
    wake = !wakeupPending_;
    wakeupPending_ = true;
  }
  // One eventfd write per batch of posts, not per post.
  if (wake) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakeup_.get(), &one, sizeof one);
  }
}

void EventLoop::stop() {
  stopping_.store(true, std::memory_order_relaxed);
  post([] {});
}

void EventLoop::drainWakeup() {
  uint64_t value = 0;
  [[maybe_unused]] ssize_t n = ::read(wakeup_.get(), &value, sizeof value);
}

void EventLoop::runPosted() {
  {
    std::lock_guard<std::mutex> lock(postedMutex_);
    running_.swap(posted_);
    wakeupPending_ = false;
  }
  for (auto& task : running_)
    task();
  running_.clear();
}

void EventLoop::run() {
  epoll_event events[kMaxEvents];
  while (!stopping_.load(std::memory_order_relaxed)) {
    int timeout = kMaxWaitMs;
    if (timers_.size() > 0) timeout = static_cast<int>(timers_.tickMs());
    int n = epoll_wait(epoll_.get(), events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) fail("epoll_wait");
    nowMs_ = monotonicMs();
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      auto* handler = static_cast<IoHandler*>(events[i].data.ptr);
      if (handler == nullptr) {
        woken = true;
      } else {
        handler->onIo(events[i].events);
      }
    }
    if (woken) drainWakeup();
    runPosted();
    timers_.advance(nowMs_);
    // Flushing may register more flushes (a write that queues a close frame):
    // index, don't iterate.
    for (size_t i = 0; i < flushes_.size(); ++i)
      flushes_[i]->flushPass();
    flushes_.clear();
    if (afterPass_) afterPass_();
    lastPassMs_.store(nowMs_, std::memory_order_relaxed);
  }
}

}  // namespace wsr::net
