#pragma once
// A connection's outgoing frames: references to shared buffers, written with
// one sendmsg() gathering many frames. Urgent frames (pong, close, the
// handshake answer) go ahead of queued data, behind only the frame already
// partly on the wire (a frame cannot be interrupted) and earlier urgent
// frames, so a data backlog never delays a heartbeat or a close.
//
// Layout for fan-out: an entry of the data ring is one frame, or the tail of
// a BufferRun (a pass's publications of one channel, shared by all its
// subscribers), and the ring's head rewinds whenever it drains, so ten
// thousand idle-then-busy queues each touch the same one or two cache lines.
// Urgent frames are rare and live in their own small list; a frame cut by a
// short write is set aside. Nothing is allocated until the first frame, and
// what a burst grew is freed once the queue drains.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "net/BufferRun.h"
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

  void push(SharedBuffer frame);
  // Frames [begin, end of run) of a run, as one entry.
  void push(const BufferRun& run, size_t begin);
  void pushUrgent(SharedBuffer frame);
  // An urgent frame of which only the newest matters (a pong: RFC 6455 5.5.3
  // lets an endpoint answer only the most recent ping). It replaces the one
  // queued this way before it while that one has not begun going out, so a
  // peer that sends pings and never reads holds at most one of them here.
  void pushLatestUrgent(SharedBuffer frame);

  // Writes until drained or the socket would block.
  FlushResult flush(int fd);

  bool empty() const { return frames() == 0; }
  size_t frames() const { return (partial_ ? 1 : 0) + urgent_.size() + dataFrames_; }
  // Bytes still to write, counting only the unwritten part of a partly written frame.
  size_t bytes() const { return bytes_; }
  // Drops the data frames not yet started. Urgent frames stay, and so does a
  // partly written frame (cutting it would corrupt the stream).
  void clearPending();
  // Capacity kept once the queue has drained: a burst bigger than this gives
  // its memory back instead of holding it for the connection's life.
  static constexpr size_t kKeptRingEntries = 256;
  static constexpr size_t kKeptUrgentFrames = 8;
  size_t capacity() const { return capacity_ + urgent_.capacity(); }
  // Total bytes written since creation, and the sendmsg() calls that took
  // them (their ratio to frames is the coalescing the design relies on).
  uint64_t bytesWritten() const { return bytesWritten_; }
  uint64_t writeCalls() const { return writeCalls_; }

  // Write latency. After flush(): the stamp (SharedBuffer::stampNs) of the
  // oldest data frame that began going out in it, 0 when none did or it is
  // not timed. One look per flush, at the front of the data ring, whatever
  // the number of frames written.
  uint64_t flushedStampNs() const { return flushedStampNs_; }
  // Frames stamped at or before `stampNs` are not timed from now on: old
  // publications replayed to a new subscriber, whose age is no latency.
  void skipTimingUpTo(uint64_t stampNs) {
    if (stampNs > untimedUpToNs_) untimedUpToNs_ = stampNs;
  }

 private:
  // One frame (`frame`), or frames [begin, end) of `run`.
  struct Entry {
    SharedBuffer frame;
    BufferRun run;
    uint32_t begin = 0;
    uint32_t end = 0;
  };
  Entry& at(size_t i) { return ring_[(head_ + i) & (capacity_ - 1)]; }
  // The first data frame not yet started.
  const SharedBuffer& frontData() { return at(0).run ? at(0).run[at(0).begin] : at(0).frame; }
  void grow();
  void popData();
  // Frees storage a past burst grew beyond what is kept (see kKept*).
  void shrinkIfDrained();
  // Consumes `written` bytes from the front, in the order flush() gathered
  // them; a frame cut short becomes partial_.
  void consume(size_t written);

  SharedBuffer partial_;  // a frame cut by a short write; always first out
  size_t partialOffset_ = 0;
  std::vector<SharedBuffer> urgent_;
  static constexpr size_t kNoLatest = SIZE_MAX;
  size_t latest_ = kNoLatest;  // urgent_ index of pushLatestUrgent()'s unstarted frame
  std::unique_ptr<Entry[]> ring_;
  size_t capacity_ = 0;  // a power of two
  size_t head_ = 0;
  size_t count_ = 0;       // entries
  size_t dataFrames_ = 0;  // frames in them
  size_t bytes_ = 0;
  uint64_t bytesWritten_ = 0;
  uint64_t writeCalls_ = 0;
  uint64_t flushedStampNs_ = 0;
  uint64_t untimedUpToNs_ = 0;
};

}  // namespace wsr::net
