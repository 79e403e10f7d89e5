#pragma once
// The workers that have local subscribers of one channel: a bit per worker,
// as many words as the highest worker needs (server.workers allows 1,024).
// Guarded by its channel's state lock.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace wsr::hub {

class WorkerSet {
 public:
  void insert(size_t worker) {
    const size_t word = worker / 64;
    if (word >= words_.size()) words_.resize(word + 1, 0);
    words_[word] |= uint64_t{1} << (worker % 64);
  }
  void erase(size_t worker) {
    const size_t word = worker / 64;
    if (word < words_.size()) words_[word] &= ~(uint64_t{1} << (worker % 64));
  }
  bool contains(size_t worker) const {
    const size_t word = worker / 64;
    return word < words_.size() && ((words_[word] >> (worker % 64)) & 1u) != 0;
  }
  bool empty() const {
    for (uint64_t word : words_) {
      if (word != 0) return false;
    }
    return true;
  }
  size_t size() const {
    size_t count = 0;
    for (uint64_t word : words_)
      count += static_cast<size_t>(std::popcount(word));
    return count;
  }
  // fn(worker) for each worker in the set, lowest first.
  template <typename Fn>
  void forEach(Fn&& fn) const {
    for (size_t word = 0; word < words_.size(); ++word) {
      for (uint64_t bits = words_[word]; bits != 0; bits &= bits - 1) {
        fn(word * 64 + static_cast<size_t>(std::countr_zero(bits)));
      }
    }
  }

 private:
  std::vector<uint64_t> words_;
};

}  // namespace wsr::hub
