#pragma once
// A sequence of shared buffers that many connections send alike: one
// fan-out pass's publications of one channel. A send queue holds a part of
// it (from some frame to the end) as one entry, so a thousand subscribers
// of a run of a hundred frames cost a thousand entries, not a hundred
// thousand references; and their gathered writes read the same few cache
// lines instead of a thousand rings.
//
// The count is a plain integer: a run is built, queued, written and freed
// on one worker's thread and never reaches another. The frames it holds are
// ordinary SharedBuffers (one reference each, for the whole run), and their
// iovecs are made once, here, for every gathered write that sends them.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "net/SharedBuffer.h"

namespace wsr::net {

class BufferRun {
 public:
  BufferRun() = default;
  explicit BufferRun(std::vector<SharedBuffer> frames)
      : block_(new Block{1, std::move(frames), {}, {}}) {
    // bytesFrom[i]: the bytes of frames i.. to the end, so that queueing or
    // writing any part of the run counts its bytes without walking it.
    const std::vector<SharedBuffer>& all = block_->frames;
    block_->bytesFrom.resize(all.size() + 1, 0);
    block_->iov.resize(all.size());
    for (size_t i = all.size(); i-- > 0;) {
      block_->bytesFrom[i] = block_->bytesFrom[i + 1] + all[i].size();
      block_->iov[i] = {const_cast<char*>(all[i].data()), all[i].size()};
    }
  }

  BufferRun(const BufferRun& other) noexcept : block_(other.block_) {
    if (block_ != nullptr) ++block_->refs;
  }
  BufferRun(BufferRun&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  BufferRun& operator=(BufferRun other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~BufferRun() {
    if (block_ != nullptr && --block_->refs == 0) delete block_;
  }

  explicit operator bool() const { return block_ != nullptr; }
  size_t size() const { return block_ != nullptr ? block_->frames.size() : 0; }
  const SharedBuffer& operator[](size_t i) const { return block_->frames[i]; }
  // The bytes of frames [begin, end).
  size_t bytes(size_t begin, size_t end) const {
    return block_->bytesFrom[begin] - block_->bytesFrom[end];
  }
  // Frame i as sendmsg() takes it.
  const iovec* iov(size_t i) const { return &block_->iov[i]; }
  uint32_t useCount() const { return block_ != nullptr ? block_->refs : 0; }

 private:
  struct Block {
    uint32_t refs;
    std::vector<SharedBuffer> frames;
    std::vector<size_t> bytesFrom;
    std::vector<iovec> iov;
  };
  Block* block_ = nullptr;
};

}  // namespace wsr::net
