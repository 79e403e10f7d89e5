// The engine's answer to pings, over real sockets: a peer that pings and
// never reads holds at most one pong, and the handler decides whether each
// ping is answered (issue 11, defect 9).

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
#include "ws/Server.h"
#include "ws/WebSocket.h"

namespace wsr::ws {
namespace {

constexpr auto kTimeout = std::chrono::seconds(10);

// Echoes messages; answers the first `answered` pings and no more.
class CountingHandler final : public WebSocketHandler {
 public:
  CountingHandler(std::atomic<uint64_t>& pings, uint64_t answered)
      : pings_(pings), answered_(answered) {}
  void onMessage(WebSocket& socket, std::string_view payload, bool binary) override {
    socket.send(payload, binary);
  }
  bool onPing(WebSocket& /*socket*/) override {
    return pings_.fetch_add(1, std::memory_order_relaxed) < answered_;
  }

 private:
  std::atomic<uint64_t>& pings_;
  uint64_t answered_;
};

class PingTest : public ::testing::Test {
 protected:
  void start(uint64_t answered) {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 1;
    options.perMessageDeflate = false;
    options.pingIntervalMs = 0;
    server_ = std::make_unique<Server>(options, [this, answered](Server&, Worker&) {
      return std::make_unique<CountingHandler>(pings_, answered);
    });
    std::string error;
    ASSERT_TRUE(server_->listen(error)) << error;
    server_->start();
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  // A blocking client socket past its 101; a small receive buffer when
  // `rcvbuf` > 0, so the server's writes block once it stops reading.
  net::Fd connectClient(int rcvbuf = 0) {
    net::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (rcvbuf > 0) ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_->port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("connect failed");
    }
    writeAll(fd.get(),
             "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos)
      head += readSome(fd.get(), 1);  // byte by byte: nothing past the head
    EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
    return fd;
  }

  static void writeAll(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  static std::string readSome(int fd, size_t most) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) throw std::runtime_error("nothing to read");
    std::string out(most, '\0');
    const ssize_t n = ::recv(fd, out.data(), most, 0);
    if (n <= 0) throw std::runtime_error("connection closed");
    out.resize(static_cast<size_t>(n));
    return out;
  }
  // Exactly `n` bytes.
  static std::string readExactly(int fd, size_t n) {
    std::string out;
    while (out.size() < n)
      out += readSome(fd, n - out.size());
    return out;
  }

  struct QueueState {
    size_t connections = 0;
    size_t frames = 0;
    size_t bytes = 0;
  };
  // The send queue of the worker's connection, read on its own thread.
  QueueState queueState() {
    std::promise<QueueState> promise;
    std::future<QueueState> future = promise.get_future();
    Worker& worker = server_->worker(0);
    worker.loop().post([&worker, &promise] {
      QueueState state;
      worker.forEachConnection([&](WebSocket& socket) {
        ++state.connections;
        state.frames += socket.queuedFrames();
        state.bytes += socket.queuedBytes();
      });
      promise.set_value(state);
    });
    if (future.wait_for(kTimeout) != std::future_status::ready) {
      throw std::runtime_error("the worker did not answer");
    }
    return future.get();
  }

  std::atomic<uint64_t> pings_{0};
  std::unique_ptr<Server> server_;
};

TEST_F(PingTest, APeerThatPingsAndNeverReadsHoldsAtMostOnePong) {
  start(UINT64_MAX);
  net::Fd client = connectClient(4096);
  constexpr uint64_t kPings = 200000;
  const std::string payload(125, 'p');  // the largest a control frame carries
  const std::string ping = test::clientFrame(0x89, payload);
  std::string burst;
  for (int i = 0; i < 1000; ++i)
    burst += ping;
  // 26 MB of pongs to a reader that takes none: far more than the sockets hold.
  for (uint64_t sent = 0; sent < kPings; sent += 1000)
    writeAll(client.get(), burst);
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (pings_.load() < kPings && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(pings_.load(), kPings);  // the handler saw each ping
  const QueueState state = queueState();
  EXPECT_EQ(state.connections, 1u);
  EXPECT_LE(state.frames, 1u);
  EXPECT_LE(state.bytes, 2 + payload.size());
}

TEST_F(PingTest, APingTheHandlerDeclinesIsNotAnswered) {
  start(2);
  net::Fd client = connectClient();
  // One at a time: pings arriving together are answered only by the last.
  writeAll(client.get(), test::clientFrame(0x89, "one"));
  EXPECT_EQ(readExactly(client.get(), 5), std::string("\x8a\x03one", 5));
  writeAll(client.get(), test::clientFrame(0x89, "two"));
  EXPECT_EQ(readExactly(client.get(), 5), std::string("\x8a\x03two", 5));
  writeAll(client.get(), test::clientFrame(0x89, "three"));
  writeAll(client.get(), test::clientFrame(0x89, "four"));
  writeAll(client.get(), test::clientFrame(0x81, "text"));
  // The echo comes next: the declined pings got no answer.
  EXPECT_EQ(readExactly(client.get(), 6), std::string("\x81\x04text", 6));
  EXPECT_EQ(pings_.load(), 4u);
}

}  // namespace
}  // namespace wsr::ws
