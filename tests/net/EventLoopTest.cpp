#include "net/EventLoop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <future>
#include <thread>

#include "net/Socket.h"

namespace wsr::net {
namespace {

TEST(EventLoop, PostFromAnotherThreadRunsOnTheLoopThread) {
  EventLoop loop;
  std::promise<std::thread::id> ranOn;
  std::thread thread([&] { loop.run(); });
  loop.post([&] { ranOn.set_value(std::this_thread::get_id()); });
  EXPECT_EQ(ranOn.get_future().get(), thread.get_id());
  loop.stop();
  thread.join();
}

TEST(EventLoop, ManyPostsFromManyThreadsAllRun) {
  EventLoop loop;
  std::atomic<int> ran{0};
  std::thread thread([&] { loop.run(); });
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        loop.post([&] { ran.fetch_add(1); });
    });
  }
  for (auto& p : posters)
    p.join();
  std::promise<void> done;
  loop.post([&] { done.set_value(); });  // posts run in order: this one is last
  done.get_future().get();
  EXPECT_EQ(ran.load(), 4000);
  loop.stop();
  thread.join();
}

struct Once : EventLoop::Flushable {
  int calls = 0;
  void flushPass() override { ++calls; }
};

TEST(EventLoop, FlushesRunAtTheEndOfThePassThatQueuedThem) {
  EventLoop loop;
  Once flushable;
  std::promise<int> seenInPost;
  std::promise<int> seenNextPass;
  std::thread thread([&] { loop.run(); });
  loop.post([&] {
    loop.flushAtEndOfPass(&flushable);
    seenInPost.set_value(flushable.calls);
    loop.post([&] { seenNextPass.set_value(flushable.calls); });
  });
  EXPECT_EQ(seenInPost.get_future().get(), 0);
  EXPECT_EQ(seenNextPass.get_future().get(), 1);
  loop.stop();
  thread.join();
}

struct Readable : EventLoop::IoHandler {
  std::promise<uint32_t> events;
  bool done = false;
  void onIo(uint32_t ev) override {
    if (!done) events.set_value(ev);
    done = true;
  }
};

TEST(EventLoop, DispatchesReadinessToTheRegisteredHandler) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  Fd a(fds[0]);
  Fd b(fds[1]);
  EventLoop loop;
  Readable handler;
  loop.add(a.get(), EPOLLIN, &handler);
  std::thread thread([&] { loop.run(); });
  ASSERT_EQ(::write(b.get(), "x", 1), 1);
  EXPECT_NE(handler.events.get_future().get() & EPOLLIN, 0u);
  loop.stop();
  thread.join();
}

TEST(EventLoop, IdleLoopStillTurnsForHealthChecks) {
  EventLoop loop;
  std::thread thread([&] { loop.run(); });
  const uint64_t before = loop.lastPassMs();
  // The loop wakes on its own at least once a second even with nothing to do.
  std::promise<void> turned;
  std::thread watcher([&] {
    while (loop.lastPassMs() <= before + 500) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    turned.set_value();
  });
  EXPECT_EQ(turned.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  watcher.join();
  loop.stop();
  thread.join();
}

TEST(Socket, ListenersShareAPortThroughReusePort) {
  std::string error;
  Fd first = listenTcp("127.0.0.1", 0, 16, error);
  ASSERT_TRUE(first) << error;
  const uint16_t port = localPort(first.get());
  ASSERT_NE(port, 0);
  Fd second = listenTcp("127.0.0.1", port, 16, error);
  EXPECT_TRUE(second) << error;
}

TEST(Socket, BadListenAddressNamesIt) {
  std::string error;
  Fd fd = listenTcp("not-an-ip", 0, 16, error);
  EXPECT_FALSE(fd);
  EXPECT_NE(error.find("not-an-ip"), std::string::npos) << error;
}

}  // namespace
}  // namespace wsr::net
