// An upgrade answered later (UpgradeDecision::later() and DeferredUpgrade),
// over real sockets: the 101 or the refusal comes when the handler answers,
// frames the client sent meanwhile are kept for after the 101, and an
// answer for a connection that has gone is dropped with its session.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "WsTestUtil.h"
#include "net/Fd.h"
#include "ws/DeferredUpgrade.h"
#include "ws/Server.h"
#include "ws/WebSocket.h"

namespace wsr::ws {
namespace {

constexpr auto kTimeout = std::chrono::seconds(10);

// Counts its destruction: the session an answer carries is not leaked.
struct CountedSession final : SessionData {
  explicit CountedSession(std::atomic<int>& destroyed) : destroyed_(destroyed) {}
  ~CountedSession() override { destroyed_.fetch_add(1); }
  std::atomic<int>& destroyed_;
};

// Defers every upgrade and hands the DeferredUpgrade to the test; echoes.
class DeferringHandler final : public WebSocketHandler {
 public:
  explicit DeferringHandler(std::promise<DeferredUpgrade>*& waiting) : waiting_(waiting) {}
  UpgradeDecision onUpgrade(const HandshakeRequest&, const net::PeerAddress&,
                            const DeferredUpgrade& later) override {
    waiting_->set_value(later);
    return UpgradeDecision::later();
  }
  void onMessage(WebSocket& socket, std::string_view payload, bool binary) override {
    socket.send(payload, binary);
  }

 private:
  std::promise<DeferredUpgrade>*& waiting_;
};

class DeferredUpgradeTest : public ::testing::Test {
 protected:
  void start(uint32_t handshakeTimeoutMs = 10000) {
    ServerOptions options;
    options.handshakeTimeoutMs = handshakeTimeoutMs;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 1;
    options.perMessageDeflate = false;
    options.pingIntervalMs = 0;
    server_ = std::make_unique<Server>(
        options, [this](Server&, Worker&) { return std::make_unique<DeferringHandler>(waiting_); });
    std::string error;
    ASSERT_TRUE(server_->listen(error)) << error;
    server_->start();
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  // Connects and sends the request head followed by `after`; returns the
  // socket and the DeferredUpgrade the handler kept.
  std::pair<net::Fd, DeferredUpgrade> request(std::string_view after = {}) {
    std::promise<DeferredUpgrade> promise;
    std::future<DeferredUpgrade> future = promise.get_future();
    waiting_ = &promise;
    net::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_->port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("connect failed");
    }
    std::string bytes =
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    bytes.append(after);
    writeAll(fd.get(), bytes);
    if (future.wait_for(kTimeout) != std::future_status::ready) {
      throw std::runtime_error("the handler was not asked");
    }
    return {std::move(fd), future.get()};
  }

  // Gives `decision` on the worker's thread, and waits until it has been given.
  void answer(const DeferredUpgrade& later, std::function<UpgradeDecision()> decision) {
    std::promise<void> done;
    server_->worker(0).loop().post([&] {
      later.answer(decision());
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(kTimeout), std::future_status::ready);
  }

  static void writeAll(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Whether anything arrives within `ms`.
  static bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
  }
  static std::string readHead(int fd) {
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos) {
      if (!readable(fd, 10000)) throw std::runtime_error("no answer");
      char c;
      if (::recv(fd, &c, 1, 0) != 1) throw std::runtime_error("connection closed");
      head += c;
    }
    return head;
  }
  static std::string readExactly(int fd, size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      if (!readable(fd, 10000)) throw std::runtime_error("nothing to read");
      const ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
      if (r <= 0) throw std::runtime_error("connection closed");
      got += static_cast<size_t>(r);
    }
    return out;
  }

  std::promise<DeferredUpgrade>* waiting_ = nullptr;
  std::unique_ptr<Server> server_;
};

TEST_F(DeferredUpgradeTest, The101ComesWithTheAnswerAndFramesSentMeanwhileFollowIt) {
  start();
  auto [fd, later] = request(test::clientFrame(0x81, "early"));
  EXPECT_FALSE(readable(fd.get(), 100));  // nothing before the handler answers
  writeAll(fd.get(), test::clientFrame(0x81, "meanwhile"));
  answer(later, [] { return UpgradeDecision::accept(); });
  EXPECT_EQ(readHead(fd.get()).rfind("HTTP/1.1 101", 0), 0u);
  EXPECT_EQ(readExactly(fd.get(), 7), std::string("\x81\x05"
                                                  "early",
                                                  7));
  EXPECT_EQ(readExactly(fd.get(), 11), std::string("\x81\x09"
                                                   "meanwhile",
                                                   11));
}

TEST_F(DeferredUpgradeTest, ARefusalGivenLaterIsAnsweredAsOneGivenAtOnce) {
  start();
  auto [fd, later] = request();
  answer(later, [] {
    UpgradeDecision refusal = UpgradeDecision::refuse(429, "RATE_LIMITED", "later, please");
    refusal.headers.push_back("Retry-After: 7");
    return refusal;
  });
  const std::string head = readHead(fd.get());
  EXPECT_EQ(head.rfind("HTTP/1.1 429", 0), 0u) << head;
  EXPECT_NE(head.find("Retry-After: 7"), std::string::npos) << head;
}

TEST_F(DeferredUpgradeTest, AnAnswerForAConnectionGoneIsDroppedWithItsSession) {
  start(200);  // the handshake timeout ends a connection whose answer is late
  auto [fd, later] = request();
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (server_->worker(0).stats().handshakeTimeouts.load() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server_->worker(0).stats().handshakeTimeouts.load(), 1u);
  std::atomic<int> destroyed{0};
  answer(later,
         [&] { return UpgradeDecision::accept(std::make_unique<CountedSession>(destroyed)); });
  EXPECT_EQ(destroyed.load(), 1);  // dropped with its session, never opened
  EXPECT_EQ(server_->worker(0).stats().open.load(), 0u);
  char c;
  EXPECT_TRUE(readable(fd.get(), 10000));
  EXPECT_EQ(::recv(fd.get(), &c, 1, 0), 0);  // closed without a 101
}

}  // namespace
}  // namespace wsr::ws
