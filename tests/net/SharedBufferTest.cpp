#include "net/SharedBuffer.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace wsr::net {
namespace {

TEST(SharedBuffer, CopiesShareTheBytesAndCountReferences) {
  SharedBuffer a = SharedBuffer::copyOf("frame");
  {
    SharedBuffer b = a;
    SharedBuffer c = b;
    EXPECT_EQ(a.useCount(), 3u);
    EXPECT_EQ(c.data(), a.data());
  }
  EXPECT_EQ(a.useCount(), 1u);
  SharedBuffer moved = std::move(a);
  EXPECT_EQ(moved.useCount(), 1u);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(moved.view(), "frame");
}

TEST(SharedBuffer, CarriesItsStampToCopies) {
  EXPECT_EQ(SharedBuffer().stampNs(), 0u);
  SharedBuffer stamped = SharedBuffer::copyOf("published");
  EXPECT_EQ(stamped.stampNs(), 0u);
  stamped.setStampNs(123456789);
  const SharedBuffer shared = stamped;
  EXPECT_EQ(shared.stampNs(), 123456789u);
}

TEST(SharedBuffer, SharedCountsStayExactAcrossThreads) {
  SharedBuffer buffer = SharedBuffer::copyOf("x");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&buffer] {
      for (int i = 0; i < 100000; ++i) {
        SharedBuffer copy = buffer;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(buffer.useCount(), 1u);
}

}  // namespace
}  // namespace wsr::net
