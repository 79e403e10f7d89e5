#include "net/SendQueue.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace wsr::net {
namespace {
// Frames gathered per system call: IOV_MAX, so that a fan-out pass's frames
// for one socket (up to 512) go in one call.
constexpr size_t kMaxIov = 1024;
}  // namespace

void SendQueue::grow() {
  const size_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;
  std::unique_ptr<Entry[]> ring(new Entry[capacity]);
  for (size_t i = 0; i < count_; ++i)
    ring[i] = std::move(at(i));
  ring_ = std::move(ring);
  capacity_ = capacity;
  head_ = 0;
}

void SendQueue::push(SharedBuffer frame) {
  if (count_ == capacity_) grow();
  bytes_ += frame.size();
  at(count_).frame = std::move(frame);
  ++count_;
  ++dataFrames_;
}

void SendQueue::push(const BufferRun& run, size_t begin) {
  if (begin >= run.size()) return;
  if (count_ == capacity_) grow();
  bytes_ += run.bytes(begin, run.size());
  Entry& entry = at(count_);
  entry.run = run;
  entry.begin = static_cast<uint32_t>(begin);
  entry.end = static_cast<uint32_t>(run.size());
  ++count_;
  dataFrames_ += run.size() - begin;
}

void SendQueue::pushUrgent(SharedBuffer frame) {
  bytes_ += frame.size();
  urgent_.push_back(std::move(frame));
}

void SendQueue::pushLatestUrgent(SharedBuffer frame) {
  if (latest_ == kNoLatest) {
    latest_ = urgent_.size();
    pushUrgent(std::move(frame));
    return;
  }
  bytes_ -= urgent_[latest_].size();
  bytes_ += frame.size();
  urgent_[latest_] = std::move(frame);
}

void SendQueue::shrinkIfDrained() {
  if (!empty()) return;
  if (capacity_ > kKeptRingEntries) {
    ring_.reset();
    capacity_ = 0;
    head_ = 0;
  }
  if (urgent_.capacity() > kKeptUrgentFrames) std::vector<SharedBuffer>().swap(urgent_);
}

void SendQueue::popData() {
  at(0) = Entry();
  // An empty ring starts over at slot 0: the next burst reuses the cache
  // lines this one warmed.
  head_ = --count_ == 0 ? 0 : (head_ + 1) & (capacity_ - 1);
}

void SendQueue::clearPending() {
  while (count_ > 0) {
    const Entry& entry = at(0);
    bytes_ -= entry.run ? entry.run.bytes(entry.begin, entry.end) : entry.frame.size();
    popData();
  }
  dataFrames_ = 0;
  shrinkIfDrained();
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
  if (latest_ != kNoLatest) {
    // Begun going out (written or cut): no longer replaceable.
    latest_ = latest_ < urgentDone ? kNoLatest : latest_ - urgentDone;
  }
  while (written > 0) {
    Entry& entry = at(0);
    if (!entry.run) {
      --dataFrames_;
      if (written < entry.frame.size()) {
        partial_ = std::move(entry.frame);
        partialOffset_ = written;
        bytes_ -= written;
        popData();
        return;
      }
      written -= entry.frame.size();
      bytes_ -= entry.frame.size();
      popData();
      continue;
    }
    const size_t whole = entry.run.bytes(entry.begin, entry.end);
    if (written >= whole) {  // the usual case: the rest of the run went out
      written -= whole;
      bytes_ -= whole;
      dataFrames_ -= entry.end - entry.begin;
      popData();
      continue;
    }
    while (written > 0 && entry.begin < entry.end) {
      const SharedBuffer& frame = entry.run[entry.begin++];
      --dataFrames_;
      if (written < frame.size()) {
        partial_ = frame;
        partialOffset_ = written;
        bytes_ -= written;
        written = 0;
        break;
      }
      written -= frame.size();
      bytes_ -= frame.size();
    }
    if (entry.begin == entry.end) popData();
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
    for (size_t i = 0; i < count_ && n < kMaxIov; ++i) {
      const Entry& entry = at(i);
      if (!entry.run) {
        iov[n].iov_base = const_cast<char*>(entry.frame.data());
        iov[n].iov_len = entry.frame.size();
        ++n;
        continue;
      }
      const size_t take = std::min<size_t>(entry.end - entry.begin, kMaxIov - n);
      std::memcpy(&iov[n], entry.run.iov(entry.begin), take * sizeof(iovec));
      n += take;
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
    if (!timed && (firstData < n) && (static_cast<size_t>(written) > aheadOfData)) {
      // at(0) began going out: the oldest data frame of this flush.
      timed = true;
      const uint64_t stamp = frontData().stampNs();
      if (stamp > untimedUpToNs_) flushedStampNs_ = stamp;
    }
    size_t offered = 0;
    for (size_t i = 0; i < n; ++i)
      offered += iov[i].iov_len;
    consume(static_cast<size_t>(written));
    // A short write means the socket buffer is full.
    if (static_cast<size_t>(written) < offered) return FlushResult::Blocked;
  }
  shrinkIfDrained();
  return FlushResult::Drained;
}

}  // namespace wsr::net
