#include "net/SendQueue.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

#include "net/BufferRun.h"
#include "net/Fd.h"

namespace wsr::net {
namespace {

struct SocketPair {
  Fd writer;
  Fd reader;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    writer.reset(fds[0]);
    reader.reset(fds[1]);
    int small = 4096;  // the kernel doubles it; still small enough to fill
    setsockopt(writer.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(reader.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  std::string readAll() {
    std::string out;
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(reader.get(), buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
};

TEST(SendQueue, WritesFramesInOrderAndSharesBuffers) {
  SocketPair pair;
  SendQueue queue;
  SharedBuffer shared = SharedBuffer::copyOf("abc");
  queue.push(shared);
  queue.push(SharedBuffer::copyOf("def"));
  queue.push(shared);
  EXPECT_EQ(shared.useCount(), 3u);  // references, not copies
  EXPECT_EQ(queue.frames(), 3u);
  EXPECT_EQ(queue.bytes(), 9u);
  EXPECT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(shared.useCount(), 1u);
  EXPECT_EQ(pair.readAll(), "abcdefabc");
  EXPECT_EQ(queue.bytesWritten(), 9u);
}

TEST(SendQueue, GathersManyFramesIntoOneSystemCall) {
  SocketPair pair;
  SendQueue queue;
  SharedBuffer frame = SharedBuffer::copyOf(std::string(20, 'f'));
  for (int i = 0; i < 100; ++i)
    queue.push(frame);
  EXPECT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(queue.writeCalls(), 1u);
  EXPECT_EQ(pair.readAll().size(), 2000u);
}

TEST(SendQueue, ResumesAPartlyWrittenFrameAfterBlocking) {
  SocketPair pair;
  SendQueue queue;
  std::string expected;
  for (int i = 0; i < 64; ++i) {
    std::string frame(1000, static_cast<char>('a' + i % 26));
    expected += frame;
    queue.push(SharedBuffer::copyOf(frame));
  }
  std::string received;
  int blocked = 0;
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked) {
    ++blocked;
    received += pair.readAll();
  }
  received += pair.readAll();
  EXPECT_GT(blocked, 0) << "the socket buffer should have filled";
  EXPECT_EQ(received, expected);
}

TEST(SendQueue, UrgentFramesJumpQueuedDataButNotAPartFrame) {
  SocketPair pair;
  SendQueue queue;
  const std::string big(200000, 'd');
  queue.push(SharedBuffer::copyOf(big));
  queue.push(SharedBuffer::copyOf("DATA2"));
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Blocked);
  ASSERT_LT(queue.bytes(), big.size() + 5);  // part of the big frame is out
  queue.pushUrgent(SharedBuffer::copyOf("PONG"));
  queue.pushUrgent(SharedBuffer::copyOf("CLOSE"));
  std::string received;
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked) {
    received += pair.readAll();
  }
  received += pair.readAll();
  EXPECT_EQ(received, big + "PONG" + "CLOSE" + "DATA2");
}

TEST(SendQueue, AnUrgentFrameCutShortStaysFirst) {
  SocketPair pair;
  SendQueue queue;
  const std::string bigClose(300000, 'c');
  queue.push(SharedBuffer::copyOf("DATA"));
  queue.pushUrgent(SharedBuffer::copyOf(bigClose));
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Blocked);
  queue.pushUrgent(SharedBuffer::copyOf("PONG"));
  EXPECT_EQ(queue.frames(), 3u);
  std::string received;
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked) {
    received += pair.readAll();
  }
  received += pair.readAll();
  EXPECT_EQ(received, bigClose + "PONG" + "DATA");
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(SendQueue, UrgentFrameOnAnUnstartedQueueGoesFirst) {
  SocketPair pair;
  SendQueue queue;
  for (int i = 0; i < 10; ++i)
    queue.push(SharedBuffer::copyOf("d"));
  queue.pushUrgent(SharedBuffer::copyOf("P"));
  EXPECT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(pair.readAll(), "Pdddddddddd");
}

TEST(SendQueue, ClearPendingKeepsThePartFrame) {
  SocketPair pair;
  SendQueue queue;
  const std::string big(200000, 'x');
  queue.push(SharedBuffer::copyOf(big));
  queue.push(SharedBuffer::copyOf("dropped"));
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Blocked);
  queue.clearPending();
  EXPECT_EQ(queue.frames(), 1u);
  std::string received;
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked) {
    received += pair.readAll();
  }
  received += pair.readAll();
  EXPECT_EQ(received, big);
}

TEST(SendQueue, ClearPendingKeepsUrgentFrames) {
  // The handshake answer is urgent: a close right after the upgrade must not
  // drop it.
  SocketPair pair;
  SendQueue queue;
  queue.pushUrgent(SharedBuffer::copyOf("101 "));
  queue.push(SharedBuffer::copyOf("data "));
  queue.clearPending();
  queue.pushUrgent(SharedBuffer::copyOf("close"));
  EXPECT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(pair.readAll(), "101 close");
}

TEST(SendQueue, GrowsPastItsFirstRingAndKeepsOrder) {
  SocketPair pair;
  SendQueue queue;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string frame = std::to_string(i) + ",";
    expected += frame;
    queue.push(SharedBuffer::copyOf(frame));
  }
  EXPECT_EQ(queue.frames(), 1000u);
  std::string received;
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked) {
    received += pair.readAll();
  }
  received += pair.readAll();
  EXPECT_EQ(received, expected);
}

// Issue 11, defect 9: a peer that pings and never reads holds one pong.
TEST(SendQueue, ALatestUrgentFrameReplacesTheUnstartedOne) {
  SocketPair pair;
  SendQueue queue;
  queue.pushUrgent(SharedBuffer::copyOf("101 "));
  queue.push(SharedBuffer::copyOf("data"));
  for (int i = 0; i < 100000; ++i)
    queue.pushLatestUrgent(SharedBuffer::copyOf("PONG" + std::to_string(i) + " "));
  EXPECT_EQ(queue.frames(), 3u);
  EXPECT_EQ(queue.bytes(), 4 + 4 + std::string("PONG99999 ").size());
  queue.pushUrgent(SharedBuffer::copyOf("CLOSE "));
  queue.pushLatestUrgent(SharedBuffer::copyOf("LAST "));  // keeps its place before the close
  EXPECT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(pair.readAll(), "101 LAST CLOSE data");
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(SendQueue, ALatestUrgentFrameThatBeganGoingOutIsNotReplaced) {
  SocketPair pair;
  SendQueue queue;
  const std::string bigPong(300000, 'p');
  queue.pushLatestUrgent(SharedBuffer::copyOf(bigPong));
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Blocked);
  queue.pushLatestUrgent(SharedBuffer::copyOf("NEXT"));   // queued behind the cut one
  queue.pushLatestUrgent(SharedBuffer::copyOf("NEWER"));  // replaces NEXT
  EXPECT_EQ(queue.frames(), 2u);
  std::string received;
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked) {
    received += pair.readAll();
  }
  received += pair.readAll();
  EXPECT_EQ(received, bigPong + "NEWER");
  // Written: the next one is queued anew, not a replacement of a sent one.
  queue.pushLatestUrgent(SharedBuffer::copyOf("A"));
  queue.pushLatestUrgent(SharedBuffer::copyOf("B"));
  EXPECT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(pair.readAll(), "B");
}

TEST(SendQueue, GivesBackWhatABurstGrewOnceDrained) {
  SocketPair pair;
  SendQueue queue;
  for (int i = 0; i < 10000; ++i) {
    queue.push(SharedBuffer::copyOf("d"));
    queue.pushUrgent(SharedBuffer::copyOf("u"));
  }
  EXPECT_GE(queue.capacity(), 20000u);
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked)
    pair.readAll();
  pair.readAll();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.capacity(), 0u);
  // A small queue keeps its storage: the hot path does not allocate.
  for (int i = 0; i < 10; ++i)
    queue.push(SharedBuffer::copyOf("d"));
  EXPECT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_GT(queue.capacity(), 0u);
  EXPECT_LE(queue.capacity(), SendQueue::kKeptRingEntries + SendQueue::kKeptUrgentFrames);
  // Dropping a backlog gives it back too.
  for (int i = 0; i < 10000; ++i)
    queue.push(SharedBuffer::copyOf("d"));
  queue.clearPending();
  EXPECT_EQ(queue.capacity(), 0u);
}

SharedBuffer stamped(std::string_view bytes, uint64_t stampNs) {
  SharedBuffer buffer = SharedBuffer::copyOf(bytes);
  buffer.setStampNs(stampNs);
  return buffer;
}

TEST(SendQueue, ReportsTheStampOfTheOldestDataFrameOfEachFlush) {
  SocketPair pair;
  SendQueue queue;
  queue.pushUrgent(SharedBuffer::copyOf("PONG"));  // unstamped, and not data
  queue.push(stamped("first", 100));
  queue.push(stamped("second", 200));
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(queue.flushedStampNs(), 100u);
  // A flush with nothing stamped reports none; so does an empty one.
  queue.push(SharedBuffer::copyOf("reply"));
  queue.push(stamped("later", 300));
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(queue.flushedStampNs(), 0u);
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(queue.flushedStampNs(), 0u);
  EXPECT_EQ(pair.readAll(), "PONGfirstsecondreplylater");
}

TEST(SendQueue, TimesAFrameOnceWhenItStartsNotWhenItsRestGoesOut) {
  SocketPair pair;
  SendQueue queue;
  queue.push(stamped(std::string(200000, 'a'), 100));
  queue.push(stamped("next", 200));
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Blocked);
  EXPECT_EQ(queue.flushedStampNs(), 100u);
  std::vector<uint64_t> stamps;
  SendQueue::FlushResult result;
  do {
    pair.readAll();
    result = queue.flush(pair.writer.get());
    if (queue.flushedStampNs() != 0) stamps.push_back(queue.flushedStampNs());
  } while (result == SendQueue::FlushResult::Blocked);
  // The big frame's remainder is not timed again; "next" is, once.
  EXPECT_EQ(stamps, std::vector<uint64_t>{200});
}

TEST(SendQueue, SkipsTimingOfFramesStampedUpToTheGivenTime) {
  SocketPair pair;
  SendQueue queue;
  queue.skipTimingUpTo(150);
  queue.skipTimingUpTo(120);  // never lowers it
  queue.push(stamped("replayed", 150));
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(queue.flushedStampNs(), 0u);
  queue.push(stamped("live", 151));
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(queue.flushedStampNs(), 151u);
}

BufferRun runOf(const std::vector<std::string>& frames, uint64_t firstStamp = 0) {
  std::vector<SharedBuffer> buffers;
  for (const std::string& frame : frames) {
    buffers.push_back(SharedBuffer::copyOf(frame));
    if (firstStamp != 0) buffers.back().setStampNs(firstStamp++);
  }
  return BufferRun(std::move(buffers));
}

TEST(SendQueue, QueuesTheTailOfARunAsOneEntryAmongSingleFrames) {
  SocketPair pair;
  SendQueue queue;
  const BufferRun run = runOf({"r0", "r1", "r2", "r3"});
  queue.push(SharedBuffer::copyOf("a,"));
  queue.push(run, 1);
  queue.push(SharedBuffer::copyOf(",b"));
  queue.push(run, 4);  // nothing left of it: nothing queued
  EXPECT_EQ(queue.frames(), 5u);
  EXPECT_EQ(queue.bytes(), 10u);
  EXPECT_EQ(run.useCount(), 2u);  // one entry, not three references
  EXPECT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(queue.writeCalls(), 1u);
  EXPECT_EQ(pair.readAll(), "a,r1r2r3,b");
  EXPECT_EQ(run.useCount(), 1u);
  EXPECT_TRUE(queue.empty());
}

TEST(SendQueue, ResumesARunCutShortInTheMiddleOfAFrame) {
  SocketPair pair;
  SendQueue queue;
  std::vector<std::string> frames;
  std::string expected;
  // More frames than one gathered write takes (1,024), more bytes than the
  // socket buffer, and frames cut by short writes.
  for (int i = 0; i < 1100; ++i) {
    frames.emplace_back(97, static_cast<char>('a' + i % 26));
    expected += frames.back();
  }
  const BufferRun run = runOf(frames);
  queue.push(run, 0);
  queue.push(SharedBuffer::copyOf("tail"));
  const size_t total = expected.size() + 4;
  std::string received;
  int blocked = 0;
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked) {
    ++blocked;
    // Every byte is accounted for: written, or still to write.
    EXPECT_EQ(queue.bytesWritten() + queue.bytes(), total);
    received += pair.readAll();
  }
  received += pair.readAll();
  EXPECT_GT(blocked, 0) << "the socket buffer should have filled";
  EXPECT_EQ(received, expected + "tail");
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_EQ(queue.frames(), 0u);
  EXPECT_EQ(run.useCount(), 1u);
}

TEST(SendQueue, GathersAtMostIovMaxFramesPerSystemCall) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  Fd writer(fds[0]);
  Fd reader(fds[1]);  // default buffers: room for all 11,000 bytes at once
  std::vector<std::string> frames;
  std::string expected;
  for (int i = 0; i < 1100; ++i) {
    frames.push_back(std::to_string(1000000000 + i));  // 10 bytes each
    expected += frames.back();
  }
  SendQueue queue;
  queue.push(runOf(frames), 0);
  ASSERT_EQ(queue.flush(writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(queue.writeCalls(), 2u);  // 1,024 frames, then 76
  std::string received(expected.size() + 1, '\0');
  const ssize_t n = ::read(reader.get(), received.data(), received.size());
  ASSERT_EQ(n, static_cast<ssize_t>(expected.size()));
  received.resize(static_cast<size_t>(n));
  EXPECT_EQ(received, expected);
}

TEST(SendQueue, UrgentFramesJumpARunButNotItsPartFrame) {
  SocketPair pair;
  SendQueue queue;
  const std::string big(200000, 'd');
  queue.push(runOf({big, "DATA2"}), 0);
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Blocked);
  queue.pushUrgent(SharedBuffer::copyOf("PONG"));
  std::string received;
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked)
    received += pair.readAll();
  received += pair.readAll();
  EXPECT_EQ(received, big + "PONG" + "DATA2");
}

TEST(SendQueue, ClearPendingDropsTheUnstartedPartOfARun) {
  SocketPair pair;
  SendQueue queue;
  const std::string big(200000, 'x');
  queue.push(runOf({big, "dropped", "dropped too"}), 0);
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Blocked);
  queue.clearPending();
  EXPECT_EQ(queue.frames(), 1u);  // the part frame
  EXPECT_LT(queue.bytes(), big.size());
  std::string received;
  while (queue.flush(pair.writer.get()) == SendQueue::FlushResult::Blocked)
    received += pair.readAll();
  received += pair.readAll();
  EXPECT_EQ(received, big);
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(SendQueue, TimesARunFromTheFirstFrameThatStarts) {
  SocketPair pair;
  SendQueue queue;
  const BufferRun run = runOf({"p", "q", "r"}, 500);
  queue.push(run, 1);
  ASSERT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Drained);
  EXPECT_EQ(queue.flushedStampNs(), 501u);
  EXPECT_EQ(pair.readAll(), "qr");
}

TEST(SendQueue, FailsOnAClosedPeer) {
  SocketPair pair;
  pair.reader.reset();
  SendQueue queue;
  queue.push(SharedBuffer::copyOf("x"));
  EXPECT_EQ(queue.flush(pair.writer.get()), SendQueue::FlushResult::Failed);
}

}  // namespace
}  // namespace wsr::net
