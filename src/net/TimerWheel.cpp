#include "net/TimerWheel.h"

namespace wsr::net {

Timer::~Timer() {
  if (wheel_ != nullptr) wheel_->cancel(*this);
}

TimerWheel::TimerWheel(uint64_t nowMs, uint64_t tickMs, size_t slots)
    : tickMs_(tickMs == 0 ? 1 : tickMs), currentTick_(nowMs / tickMs_), slots_(slots, nullptr) {}

TimerWheel::~TimerWheel() {
  while (pending_ != nullptr)
    unlink(*pending_);
  for (Timer*& head : slots_) {
    while (head != nullptr)
      unlink(*head);
  }
}

size_t TimerWheel::slotFor(uint64_t deadlineMs) const {
  // A deadline already passed goes into the current slot so the next
  // advance() sees it; a deadline more than one revolution away waits in its
  // slot and is skipped until its turn really comes.
  uint64_t tick = deadlineMs / tickMs_;
  if (tick < currentTick_) tick = currentTick_;
  return tick % slots_.size();
}

void TimerWheel::link(Timer& timer, size_t slot) {
  Timer*& head = headOf(slot);
  timer.slot_ = slot;
  timer.prev_ = nullptr;
  timer.next_ = head;
  if (head != nullptr) head->prev_ = &timer;
  head = &timer;
  timer.wheel_ = this;
}

void TimerWheel::unlink(Timer& timer) {
  if (timer.prev_ != nullptr) {
    timer.prev_->next_ = timer.next_;
  } else {
    headOf(timer.slot_) = timer.next_;
  }
  if (timer.next_ != nullptr) timer.next_->prev_ = timer.prev_;
  timer.prev_ = timer.next_ = nullptr;
  timer.wheel_ = nullptr;
}

void TimerWheel::schedule(Timer& timer, uint64_t deadlineMs) {
  if (timer.wheel_ != nullptr) timer.wheel_->cancel(timer);
  timer.deadlineMs_ = deadlineMs;
  link(timer, slotFor(deadlineMs));
  ++count_;
}

void TimerWheel::cancel(Timer& timer) {
  if (timer.wheel_ != this) return;
  unlink(timer);
  --count_;
}

void TimerWheel::advance(uint64_t nowMs) {
  const uint64_t nowTick = nowMs / tickMs_;
  // After a long stall one revolution visits every slot: no need for more.
  uint64_t steps = nowTick >= currentTick_ ? nowTick - currentTick_ + 1 : 0;
  if (steps > slots_.size()) steps = slots_.size();
  for (uint64_t i = 0; i < steps; ++i) {
    const size_t slot = (currentTick_ + i) % slots_.size();
    for (Timer* t = slots_[slot]; t != nullptr;) {
      Timer* next = t->next_;
      if (t->deadlineMs_ <= nowMs) {
        unlink(*t);
        link(*t, kPendingSlot);
      }
      t = next;
    }
  }
  currentTick_ = nowTick > currentTick_ ? nowTick : currentTick_;
  while (pending_ != nullptr) {
    Timer& t = *pending_;
    cancel(t);
    t.handler_->onTimer(t);
  }
}

}  // namespace wsr::net
