#pragma once
// A connection's outgoing frames: references to shared buffers, written with
// one sendmsg() gathering many frames. Urgent frames (pong, close) go ahead
// of queued data, behind only the frame already partly on the wire (a frame
// cannot be interrupted) and earlier urgent frames, so a data backlog never
// delays a heartbeat or a close.
//
// The queue allocates nothing until its first frame, then keeps a small ring
// that grows by doubling.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "net/SharedBuffer.h"

namespace wsr::net {

class SendQueue {
 public:
  enum class FlushResult {
    Drained,  // everything was written
    Blocked,  // the socket buffer is full: wait for EPOLLOUT
    Failed,   // the connection is gone (errno says why)
  };

  SendQueue() = default;
  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;

  void push(SharedBuffer frame) { insert(count_, std::move(frame), false); }
  void pushUrgent(SharedBuffer frame);

  // Writes until drained or the socket would block.
  FlushResult flush(int fd);

  bool empty() const { return count_ == 0; }
  size_t frames() const { return count_; }
  // Bytes still to write, counting only the unwritten part of a partly written frame.
  size_t bytes() const { return bytes_ - headOffset_; }
  // Drops the data frames not yet started. Urgent frames stay, and so does a
  // partly written frame (cutting it would corrupt the stream).
  void clearPending();
  // Total bytes written since creation, and the sendmsg() calls that took
  // them (their ratio to frames is the coalescing the design relies on).
  uint64_t bytesWritten() const { return bytesWritten_; }
  uint64_t writeCalls() const { return writeCalls_; }

 private:
  struct Entry {
    SharedBuffer frame;
    bool urgent = false;
  };
  Entry& at(size_t i) { return ring_[(head_ + i) & (capacity_ - 1)]; }
  void insert(size_t position, SharedBuffer frame, bool urgent);
  void grow();
  void popFront();

  std::unique_ptr<Entry[]> ring_;
  size_t capacity_ = 0;  // a power of two
  size_t head_ = 0;
  size_t count_ = 0;
  size_t headOffset_ = 0;  // bytes of the front frame already written
  size_t bytes_ = 0;       // total size of the queued frames
  uint64_t bytesWritten_ = 0;
  uint64_t writeCalls_ = 0;
};

}  // namespace wsr::net
