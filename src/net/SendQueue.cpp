#include "net/SendQueue.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <utility>

namespace wsr::net {
namespace {
// Frames gathered per system call. The kernel accepts up to IOV_MAX (1024);
// a socket buffer rarely takes more than this many small frames at once.
constexpr size_t kMaxIov = 128;
}  // namespace

void SendQueue::grow() {
  const size_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;
  std::unique_ptr<Entry[]> ring(new Entry[capacity]);
  for (size_t i = 0; i < count_; ++i) ring[i] = std::move(at(i));
  ring_ = std::move(ring);
  capacity_ = capacity;
  head_ = 0;
}

void SendQueue::insert(size_t position, SharedBuffer frame, bool urgent) {
  if (count_ == capacity_) grow();
  bytes_ += frame.size();
  if (position == count_) {
    at(count_) = Entry{std::move(frame), urgent};
    ++count_;
    return;
  }
  // Urgent frames land near the front: open the gap by moving the few
  // entries before it one step back, rather than all after it.
  head_ = (head_ + capacity_ - 1) & (capacity_ - 1);
  ++count_;
  for (size_t i = 0; i < position; ++i) at(i) = std::move(at(i + 1));
  at(position) = Entry{std::move(frame), urgent};
}

void SendQueue::pushUrgent(SharedBuffer frame) {
  size_t position = headOffset_ > 0 ? 1 : 0;
  while (position < count_ && at(position).urgent) ++position;
  insert(position, std::move(frame), true);
}

void SendQueue::popFront() {
  Entry& front = at(0);
  bytes_ -= front.frame.size();
  front = Entry{};
  head_ = (head_ + 1) & (capacity_ - 1);
  --count_;
  headOffset_ = 0;
}

void SendQueue::clearPending() {
  // Urgent entries (a handshake answer, pongs, a close) form the front of
  // the queue, behind only a partly written frame: only data goes.
  const size_t keep = headOffset_ > 0 ? 1 : 0;
  while (count_ > keep && !at(count_ - 1).urgent) {
    Entry& back = at(count_ - 1);
    bytes_ -= back.frame.size();
    back = Entry{};
    --count_;
  }
}

SendQueue::FlushResult SendQueue::flush(int fd) {
  iovec iov[kMaxIov];
  while (count_ > 0) {
    const size_t n = count_ < kMaxIov ? count_ : kMaxIov;
    for (size_t i = 0; i < n; ++i) {
      const SharedBuffer& frame = at(i).frame;
      const size_t skip = i == 0 ? headOffset_ : 0;
      iov[i].iov_base = const_cast<char*>(frame.data() + skip);
      iov[i].iov_len = frame.size() - skip;
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = n;
    // sendmsg rather than writev: MSG_NOSIGNAL turns a reset peer into EPIPE
    // instead of a SIGPIPE.
    ssize_t written = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    ++writeCalls_;
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return FlushResult::Blocked;
      return FlushResult::Failed;
    }
    bytesWritten_ += static_cast<uint64_t>(written);
    auto left = static_cast<size_t>(written);
    while (left > 0) {
      const size_t remaining = at(0).frame.size() - headOffset_;
      if (left < remaining) {
        headOffset_ += left;
        return FlushResult::Blocked;  // a short write: the socket buffer is full
      }
      left -= remaining;
      popFront();
    }
  }
  return FlushResult::Drained;
}

}  // namespace wsr::net
