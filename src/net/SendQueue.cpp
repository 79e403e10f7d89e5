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
  std::unique_ptr<SharedBuffer[]> ring(new SharedBuffer[capacity]);
  for (size_t i = 0; i < count_; ++i)
    ring[i] = std::move(at(i));
  ring_ = std::move(ring);
  capacity_ = capacity;
  head_ = 0;
}

void SendQueue::push(SharedBuffer frame) {
  if (count_ == capacity_) grow();
  bytes_ += frame.size();
  at(count_) = std::move(frame);
  ++count_;
}

void SendQueue::pushUrgent(SharedBuffer frame) {
  bytes_ += frame.size();
  urgent_.push_back(std::move(frame));
}

void SendQueue::popData() {
  at(0) = SharedBuffer();
  // An empty ring starts over at slot 0: the next burst reuses the cache
  // lines this one warmed.
  head_ = --count_ == 0 ? 0 : (head_ + 1) & (capacity_ - 1);
}

void SendQueue::clearPending() {
  while (count_ > 0) {
    bytes_ -= at(0).size();
    popData();
  }
}

void SendQueue::consume(size_t written) {
  if (partial_) {
    const size_t rest = partial_.size() - partialOffset_;
    if (written < rest) {
      partialOffset_ += written;
      bytes_ -= written;
      return;
    }
    written -= rest;
    bytes_ -= rest;
    partial_ = SharedBuffer();
    partialOffset_ = 0;
  }
  size_t urgentDone = 0;
  for (; urgentDone < urgent_.size() && written > 0; ++urgentDone) {
    SharedBuffer& frame = urgent_[urgentDone];
    if (written < frame.size()) {
      partial_ = std::move(frame);
      partialOffset_ = written;
      bytes_ -= written;
      written = 0;
      ++urgentDone;
      break;
    }
    written -= frame.size();
    bytes_ -= frame.size();
  }
  urgent_.erase(urgent_.begin(), urgent_.begin() + static_cast<std::ptrdiff_t>(urgentDone));
  while (written > 0) {
    SharedBuffer& frame = at(0);
    if (written < frame.size()) {
      partial_ = std::move(frame);
      partialOffset_ = written;
      bytes_ -= written;
      popData();
      return;
    }
    written -= frame.size();
    bytes_ -= frame.size();
    popData();
  }
}

SendQueue::FlushResult SendQueue::flush(int fd) {
  iovec iov[kMaxIov];
  flushedStampNs_ = 0;
  bool timed = false;  // the oldest data frame started in this flush has been looked at
  while (!empty()) {
    // Gather in the order frames must reach the wire: the cut frame, the
    // urgent ones, then data.
    size_t n = 0;
    size_t aheadOfData = 0;  // bytes gathered before the first data frame
    if (partial_) {
      iov[n].iov_base = const_cast<char*>(partial_.data() + partialOffset_);
      iov[n].iov_len = partial_.size() - partialOffset_;
      aheadOfData += iov[n].iov_len;
      ++n;
    }
    for (size_t i = 0; i < urgent_.size() && n < kMaxIov; ++i, ++n) {
      iov[n].iov_base = const_cast<char*>(urgent_[i].data());
      iov[n].iov_len = urgent_[i].size();
      aheadOfData += iov[n].iov_len;
    }
    const size_t firstData = n;
    for (size_t i = 0; i < count_ && n < kMaxIov; ++i, ++n) {
      const SharedBuffer& frame = at(i);
      iov[n].iov_base = const_cast<char*>(frame.data());
      iov[n].iov_len = frame.size();
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = n;
    // sendmsg rather than writev: MSG_NOSIGNAL turns a reset peer into EPIPE
    // instead of a SIGPIPE.
    const ssize_t written = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    ++writeCalls_;
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return FlushResult::Blocked;
      return FlushResult::Failed;
    }
    bytesWritten_ += static_cast<uint64_t>(written);
    if (!timed && firstData<n&& static_cast<size_t>(written)> aheadOfData) {
      // at(0) began going out: the oldest data frame of this flush.
      timed = true;
      const uint64_t stamp = at(0).stampNs();
      if (stamp > untimedUpToNs_) flushedStampNs_ = stamp;
    }
    size_t offered = 0;
    for (size_t i = 0; i < n; ++i)
      offered += iov[i].iov_len;
    consume(static_cast<size_t>(written));
    // A short write means the socket buffer is full.
    if (static_cast<size_t>(written) < offered) return FlushResult::Blocked;
  }
  return FlushResult::Drained;
}

}  // namespace wsr::net
