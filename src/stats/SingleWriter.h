#pragma once
// Counters with one writer thread and any number of readers (stats read by
// the admin server while a worker counts). The writer needs no locked
// read-modify-write: a relaxed load and a relaxed store compile to a plain
// add, and readers see every value whole, if a little late.

#include <atomic>
#include <cstdint>

namespace wsr::stats {

// Only ever called from the counter's one writer thread.
inline void singleWriterAdd(std::atomic<uint64_t>& counter, uint64_t amount = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

inline void singleWriterSub(std::atomic<uint64_t>& counter, uint64_t amount = 1) {
  counter.store(counter.load(std::memory_order_relaxed) - amount, std::memory_order_relaxed);
}

}  // namespace wsr::stats
