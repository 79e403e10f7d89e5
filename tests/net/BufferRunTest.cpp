#include "net/BufferRun.h"

#include <gtest/gtest.h>

#include <vector>

namespace wsr::net {
namespace {

BufferRun runOf(std::vector<SharedBuffer> frames) {
  return BufferRun(std::move(frames));
}

TEST(BufferRun, HoldsOneReferencePerFrameWhateverTheNumberOfCopies) {
  const SharedBuffer a = SharedBuffer::copyOf("one");
  const SharedBuffer b = SharedBuffer::copyOf("two!");
  {
    const BufferRun run = runOf({a, b});
    std::vector<BufferRun> queues(1000, run);
    EXPECT_EQ(run.useCount(), 1001u);
    EXPECT_EQ(a.useCount(), 2u);  // this test's and the run's
    EXPECT_EQ(run.size(), 2u);
    EXPECT_EQ(run[1].view(), "two!");
  }
  EXPECT_EQ(a.useCount(), 1u);
  EXPECT_EQ(b.useCount(), 1u);
}

TEST(BufferRun, CountsTheBytesOfAnyPart) {
  const BufferRun run =
      runOf({SharedBuffer::copyOf("ab"), SharedBuffer::copyOf("cde"), SharedBuffer::copyOf("f")});
  EXPECT_EQ(run.bytes(0, 3), 6u);
  EXPECT_EQ(run.bytes(1, 3), 4u);
  EXPECT_EQ(run.bytes(1, 2), 3u);
  EXPECT_EQ(run.bytes(3, 3), 0u);
}

TEST(BufferRun, MovesWithoutCountingAndEmptiesTheSource) {
  BufferRun run = runOf({SharedBuffer::copyOf("x")});
  BufferRun moved = std::move(run);
  EXPECT_FALSE(run);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(moved.useCount(), 1u);
  EXPECT_EQ(BufferRun().size(), 0u);
}

}  // namespace
}  // namespace wsr::net
