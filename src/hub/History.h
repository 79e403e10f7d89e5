#pragma once
// One channel's recent publications, for replay on `since`: a ring bounded by
// count and by age. Entries are shared, immutable publications; the ring
// holds references. Not thread-safe: the channel's lock guards it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace wsr::hub {

struct PublishedMessage;  // hub/PublishedMessage.h

class History {
 public:
  // capacity 0: no history (every `since` ends in a gap).
  History(size_t capacity, uint64_t maxAgeMs);

  // Appends the next publication (seq must be the last one + 1, or the first).
  void append(std::shared_ptr<const PublishedMessage> message, uint64_t seq, int64_t tsMs);
  // Drops entries older than maxAgeMs at `nowMs` (called on append and on replay).
  void expire(int64_t nowMs);

  struct Replay {
    // True when every message after `since` up to the newest is still here.
    bool complete = false;
    // The messages after `since`, oldest first (when incomplete: those still held).
    std::vector<std::shared_ptr<const PublishedMessage>> messages;
    // When incomplete: the first missing seq and the last (the gap to report).
    uint64_t missingFrom = 0;
    uint64_t missingTo = 0;
  };
  // What a client that last saw `since` has missed, given the channel's
  // newest seq `lastSeq`. since >= lastSeq: complete and empty.
  Replay replaySince(uint64_t since, uint64_t lastSeq, int64_t nowMs);

  // Forgets every entry (a mirror starting again from what Redis holds).
  void reset() { clear(); }

  size_t size() const { return count_; }
  uint64_t oldestSeq() const;  // 0 when empty
  // The publication held with `seq`, or null.
  const PublishedMessage* find(uint64_t seq) const;

 private:
  friend struct HistoryInspector;  // tests: checks the ring's storage stays bounded

  struct Entry {
    std::shared_ptr<const PublishedMessage> message;
    uint64_t seq = 0;
    int64_t tsMs = 0;
  };
  size_t capacity_;
  uint64_t maxAgeMs_;  // 0: no age limit
  std::vector<Entry> ring_;
  size_t head_ = 0;  // oldest
  size_t count_ = 0;

  size_t slot(size_t index) const;  // ring_ index of the index-th oldest entry
  struct Held {                     // the seqs replaySince found after `since`
    bool any = false;
    uint64_t first = 0;
    uint64_t last = 0;
  };
  static void describeMissing(Replay& replay, uint64_t since, uint64_t lastSeq, Held held);
  void dropOldest();
  void clear();
  void grow();
};

}  // namespace wsr::hub
