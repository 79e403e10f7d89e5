// The engine's plain HTTP hook (WebSocketHandler::onHttpRequest): which
// requests are plain, the answer's bytes, and a real Server answering one
// request per connection while upgrades go on as before.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ws/Handshake.h"
#include "ws/Server.h"
#include "ws/WebSocketHandler.h"

namespace wsr::ws {
namespace {

constexpr auto kTimeout = std::chrono::seconds(5);

// ---- Parsing ---------------------------------------------------------------

TEST(PlainRequest, GetAndHeadWithAHostAreParsed) {
  HandshakeRequest request;
  HandshakeError error;
  ASSERT_TRUE(parsePlainRequest(
      "GET /client.js?v=2 HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n\r\n", request, error))
      << error.message;
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/client.js");
  EXPECT_EQ(request.query, "v=2");
  EXPECT_EQ(request.host, "a");
  EXPECT_EQ(request.header("if-none-match"), "\"x\"");
  EXPECT_FALSE(asksForUpgrade(request));
  ASSERT_TRUE(parsePlainRequest("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", request, error));
  EXPECT_EQ(request.method, "HEAD");
}

TEST(PlainRequest, RefusesWhatHttp11Refuses) {
  HandshakeRequest request;
  HandshakeError error;
  EXPECT_FALSE(parsePlainRequest("POST / HTTP/1.1\r\nHost: a\r\n\r\n", request, error));
  EXPECT_EQ(error.message, "method must be GET or HEAD");
  EXPECT_FALSE(parsePlainRequest("GET / HTTP/1.0\r\nHost: a\r\n\r\n", request, error));
  EXPECT_FALSE(parsePlainRequest("GET / HTTP/1.1\r\n\r\n", request, error));
  EXPECT_EQ(error.message, "missing Host");
  EXPECT_FALSE(parsePlainRequest("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", request, error));
  EXPECT_FALSE(parsePlainRequest("GET / HTTP/1.1\r\nHost : a\r\n\r\n", request, error));
  EXPECT_FALSE(parsePlainRequest("GET x HTTP/1.1\r\nHost: a\r\n\r\n", request, error));
  // An upgrade is still GET only.
  EXPECT_FALSE(parseHandshake("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", request, error));
  EXPECT_EQ(error.message, "method must be GET");
}

TEST(PlainRequest, AnUpgradeHeaderOrAKeyMakesABrokenUpgradeNotAPlainRequest) {
  HandshakeRequest request;
  HandshakeError error;
  ASSERT_TRUE(
      parsePlainRequest("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n", request, error));
  EXPECT_TRUE(asksForUpgrade(request));
  ASSERT_TRUE(parsePlainRequest(
      "GET / HTTP/1.1\r\nHost: a\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", request,
      error));
  EXPECT_TRUE(asksForUpgrade(request));
}

// ---- Building --------------------------------------------------------------

TEST(PlainRequest, ResponseIsExact) {
  HttpResponse response;
  response.headers = {"Content-Type: text/plain", "ETag: \"1\""};
  response.body = "hello";
  EXPECT_EQ(buildHttpResponse(response, false),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"1\"\r\nContent-Length: 5\r\n"
            "Connection: close\r\n\r\nhello");
  // HEAD: the GET's length, no body.
  EXPECT_EQ(buildHttpResponse(response, true),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"1\"\r\nContent-Length: 5\r\n"
            "Connection: close\r\n\r\n");
  response.status = 304;
  EXPECT_EQ(buildHttpResponse(response, false),
            "HTTP/1.1 304 Not Modified\r\nContent-Type: text/plain\r\nETag: \"1\"\r\n"
            "Connection: close\r\n\r\n");
}

// ---- Through a server ------------------------------------------------------

// Answers GET /hello; leaves every other plain request to the engine.
class HelloHandler : public WebSocketHandler {
 public:
  std::optional<HttpResponse> onHttpRequest(const HandshakeRequest& request,
                                            const net::PeerAddress&) override {
    if (request.path != "/hello") return std::nullopt;
    HttpResponse response;
    response.headers = {"Content-Type: text/plain"};
    response.body = "hello from " + std::string(request.host);
    return response;
  }
  void onMessage(WebSocket& socket, std::string_view payload, bool binary) override {
    socket.send(payload, binary);
  }
};

class PlainRequestServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 1;
    server_ = std::make_unique<Server>(
        options, [](Server&, Worker&) { return std::make_unique<HelloHandler>(); });
    std::string error;
    ASSERT_TRUE(server_->listen(error)) << error;
    server_->start();
  }
  void TearDown() override { server_->stop(); }

  // Sends `request` on a fresh connection; everything the server wrote until
  // it closed (the engine closes after a plain answer or a refusal).
  std::string exchange(const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_->port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    std::string received;
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ::close(fd);
        return received;  // EOF: the server closed after its answer
      }
      received.append(chunk, static_cast<size_t>(n));
    }
    ::close(fd);
    ADD_FAILURE() << "the server did not close within the timeout; got: " << received;
    return received;
  }

  std::unique_ptr<Server> server_;
};

TEST_F(PlainRequestServer, AnswersAPlainGetAndCloses) {
  const std::string answer = exchange("GET /hello HTTP/1.1\r\nHost: here\r\n\r\n");
  EXPECT_EQ(answer,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 15\r\n"
            "Connection: close\r\n\r\nhello from here");
}

TEST_F(PlainRequestServer, AnswersAHeadWithoutTheBody) {
  const std::string answer = exchange("HEAD /hello HTTP/1.1\r\nHost: here\r\n\r\n");
  EXPECT_EQ(answer,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 15\r\n"
            "Connection: close\r\n\r\n");
}

TEST_F(PlainRequestServer, WhatTheHandlerDeclinesIsStillA400) {
  EXPECT_TRUE(exchange("GET /other HTTP/1.1\r\nHost: here\r\n\r\n").starts_with("HTTP/1.1 400 "));
  // A broken upgrade to a path the handler would serve is not served.
  EXPECT_TRUE(exchange("GET /hello HTTP/1.1\r\nHost: here\r\nUpgrade: h2c\r\n\r\n")
                  .starts_with("HTTP/1.1 400 "));
  EXPECT_TRUE(exchange("POST /hello HTTP/1.1\r\nHost: here\r\n\r\n").starts_with("HTTP/1.1 400 "));
}

TEST_F(PlainRequestServer, UpgradesGoOnBesidePlainRequests) {
  const std::string answer = exchange(
      "GET /hello HTTP/1.1\r\nHost: here\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
      // A close frame right behind the request, masked, code 1000.
      "\x88\x82\x01\x02\x03\x04\x02\xea");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << answer;
  // Our answer to the client's close: 1000.
  EXPECT_TRUE(answer.ends_with(std::string("\x88\x02\x03\xe8", 4))) << answer;
}

}  // namespace
}  // namespace wsr::ws
