#include "hub/History.h"

#include <algorithm>
#include <utility>

#include "hub/PublishedMessage.h"

namespace wsr::hub {
namespace {

// The first storage a ring gets: most channels' histories are small, and a
// channel that is never published to should cost nothing.
constexpr size_t kInitialSlots = 16;

// True when an entry stamped tsMs is older than maxAgeMs at nowMs, i.e.
// tsMs < nowMs - maxAgeMs, computed without overflowing for any inputs.
bool tooOld(int64_t tsMs, int64_t nowMs, uint64_t maxAgeMs) {
  if (nowMs <= tsMs) return false;
  const uint64_t age = static_cast<uint64_t>(nowMs) - static_cast<uint64_t>(tsMs);
  return age > maxAgeMs;
}

}  // namespace

History::History(size_t capacity, uint64_t maxAgeMs) : capacity_(capacity), maxAgeMs_(maxAgeMs) {}

// Held entries always have consecutive seqs (oldest first), which is what
// lets replaySince index instead of search. A seq that does not follow the
// newest held one (a channel reset, a broker replay, misuse) would break
// that, and the held entries would no longer say what precedes the new one:
// the ring is cleared and starts again from `seq`. A replay then reports
// the older range as missing, which is the truth.
void History::append(std::shared_ptr<const PublishedMessage> message, uint64_t seq, int64_t tsMs) {
  if (capacity_ == 0) return;
  if (count_ > 0 && seq != ring_[slot(count_ - 1)].seq + 1) clear();
  expire(tsMs);
  if (count_ == ring_.size() && ring_.size() < capacity_) grow();
  Entry entry{std::move(message), seq, tsMs};
  if (count_ == ring_.size()) {
    // Full at capacity: the newest replaces the oldest in place.
    ring_[head_] = std::move(entry);
    head_ = (head_ + 1) % ring_.size();
    return;
  }
  ring_[slot(count_)] = std::move(entry);
  ++count_;
}

void History::expire(int64_t nowMs) {
  if (maxAgeMs_ == 0) return;
  while (count_ > 0 && tooOld(ring_[head_].tsMs, nowMs, maxAgeMs_)) {
    dropOldest();
  }
}

History::Replay History::replaySince(uint64_t since, uint64_t lastSeq, int64_t nowMs) {
  expire(nowMs);
  Replay replay;
  if (since >= lastSeq) {
    replay.complete = true;
    return replay;
  }
  // Held seqs are oldest .. oldest + count_ - 1, consecutive: the wanted
  // ones, since + 1 .. lastSeq, are a slice found by arithmetic.
  size_t begin = 0;
  size_t end = 0;
  if (count_ > 0) {
    const uint64_t oldest = ring_[head_].seq;
    // Written so that no subtraction or + 1 can wrap, whatever the inputs.
    const auto heldUpTo = [&](uint64_t seq) -> size_t {
      if (seq < oldest) return 0;
      return seq - oldest >= count_ ? count_ : static_cast<size_t>(seq - oldest + 1);
    };
    begin = heldUpTo(since);
    end = heldUpTo(lastSeq);
  }
  if (begin < end) {
    replay.messages.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) {
      replay.messages.push_back(ring_[slot(i)].message);
    }
  }
  Held held;
  if (begin < end) held = {true, ring_[slot(begin)].seq, ring_[slot(end - 1)].seq};
  describeMissing(replay, since, lastSeq, held);
  return replay;
}

const PublishedMessage* History::find(uint64_t seq) const {
  if (count_ == 0) return nullptr;
  const uint64_t oldest = ring_[head_].seq;
  if (seq < oldest || seq - oldest >= count_) return nullptr;
  return ring_[slot(static_cast<size_t>(seq - oldest))].message.get();
}

uint64_t History::oldestSeq() const {
  return count_ == 0 ? 0 : ring_[head_].seq;
}

size_t History::slot(size_t index) const {
  return (head_ + index) % ring_.size();
}

// Only one range can be reported: the one right after `since`,
// which is what the client needs first. The other case, held messages
// starting at since + 1 but ending before lastSeq, cannot happen while the
// channel appends every publication; it reports the missing tail.
void History::describeMissing(Replay& replay, uint64_t since, uint64_t lastSeq, Held held) {
  if (!held.any) {
    replay.missingFrom = since + 1;
    replay.missingTo = lastSeq;
  } else if (held.first != since + 1) {
    replay.missingFrom = since + 1;
    replay.missingTo = held.first - 1;
  } else if (held.last < lastSeq) {
    replay.missingFrom = held.last + 1;
    replay.missingTo = lastSeq;
  } else {
    replay.complete = true;
  }
}

void History::dropOldest() {
  ring_[head_].message.reset();  // the publication is freed with its last holder
  head_ = (head_ + 1) % ring_.size();
  --count_;
}

void History::clear() {
  while (count_ > 0)
    dropOldest();
  head_ = 0;
}

// Storage grows geometrically up to capacity and never beyond, so a busy
// channel allocates a few times, then never again; a quiet one stays small.
// Each growth unrolls the ring into the new storage, oldest at slot 0.
void History::grow() {
  const size_t slots = std::min(capacity_, std::max(kInitialSlots, ring_.size() * 2));
  std::vector<Entry> grown(slots);  // exactly `slots`: a vector sized at construction
  for (size_t i = 0; i < count_; ++i)
    grown[i] = std::move(ring_[slot(i)]);
  ring_ = std::move(grown);
  head_ = 0;
}

}  // namespace wsr::hub
