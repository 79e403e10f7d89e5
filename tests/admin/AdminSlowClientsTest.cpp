// The admin front against slow and odd clients (issue 11, defect 11): a
// request has admin.request_timeout_ms in total to arrive, so clients
// dribbling header lines hold no handler thread and are cut off; the probes
// and publishing keep answering meanwhile. Also the HTTP framing the front
// supports and refuses, on raw sockets.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "RawHttp.h"
#include "admin/AdminServer.h"
#include "net/Fd.h"

namespace wsr::admin {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using test::connectTo;
using test::readAnswers;
using test::readToEnd;
using test::sendAll;

constexpr const char* kToken = "publisher-token-1";

class CountingSink : public hub::PublishSink {
 public:
  hub::PublishResult publish(hub::Publication&&) override {
    return {hub::PublishError::None, "", ++published_};
  }
  bool hasSubscribers(std::string_view) const override { return false; }

 private:
  std::atomic<uint64_t> published_{0};
};

class HealthyBackend : public AdminBackend {
 public:
  Health health() override { return {true, "", true, ""}; }
  std::string statsJson() override { return "{}"; }
  std::string channelsJson() override { return "{}"; }
  std::string connectionsJson() override { return "{}"; }
  std::string metricsText() override { return ""; }
  size_t disconnectUser(const std::string&) override { return 0; }
};

class AdminSlowClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "wsr-admin-slow-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    tokenFile_ = dir_ + "/publishers";
    std::ofstream(tokenFile_) << kToken << "\n";
    config_.host = "127.0.0.1";
    config_.port = 0;
    config_.publisherTokenFile = tokenFile_;
    config_.maxPublishBytes = 1024;
  }
  void TearDown() override {
    if (server_) server_->stop();
    unlink(tokenFile_.c_str());
    rmdir(dir_.c_str());
  }
  void start() {
    server_ = std::make_unique<AdminServer>(config_, sink_, backend_);
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
  }
  // A fresh connection with 1 s to connect and to answer.
  httplib::Client client() {
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_connection_timeout(1, 0);
    cli.set_read_timeout(1, 0);
    cli.set_bearer_token_auth(kToken);
    return cli;
  }

  std::string dir_;
  std::string tokenFile_;
  config::AdminConfig config_;
  CountingSink sink_;
  HealthyBackend backend_;
  std::unique_ptr<AdminServer> server_;
};

TEST_F(AdminSlowClientsTest, ProbesAndPublishingAnswerWhileMoreSlowClientsThanThreadsTrickle) {
  constexpr size_t kSlowClients = 40;  // more than AdminServer::kThreads + kProbeThreads
  static_assert(kSlowClients > AdminServer::kThreads + AdminServer::kProbeThreads);
  config_.requestTimeoutMs = 3000;
  start();

  // Each sends its request line, then a header line every 500 ms: never
  // silent long enough for a per-read timeout, never finished.
  std::vector<net::Fd> slow;
  const Clock::time_point opened = Clock::now();
  for (size_t i = 0; i < kSlowClients; ++i) {
    slow.push_back(connectTo(server_->port(), milliseconds(6000)));
    ASSERT_TRUE(slow.back());
    ASSERT_TRUE(sendAll(slow.back().get(), "POST /api/v1/publish HTTP/1.1\r\nHost: x\r\n"));
  }
  std::atomic<bool> done{false};
  std::thread dribbler([&] {
    for (int line = 0; !done && Clock::now() - opened < milliseconds(8000); ++line) {
      for (net::Fd& fd : slow)
        sendAll(fd.get(), "X-Slow-" + std::to_string(line) + ": 1\r\n");
      for (int i = 0; i < 50 && !done; ++i)
        std::this_thread::sleep_for(milliseconds(10));  // the dribble's pace, not a wait
    }
  });

  // While they trickle: the probes answer within the clients' 1 s timeouts,
  // and a publication on a fresh connection goes through.
  int rounds = 0;
  while (Clock::now() - opened < milliseconds(2000)) {
    for (const char* path : {"/healthz", "/readyz"}) {
      const Clock::time_point asked = Clock::now();
      auto res = client().Get(path);
      ASSERT_TRUE(res) << path << " did not answer within 1 s: " << httplib::to_string(res.error());
      EXPECT_EQ(res->status, 200);
      EXPECT_LT(Clock::now() - asked, milliseconds(1000));
    }
    auto res =
        client().Post("/api/v1/publish", R"({"channel":"market","data":1})", "application/json");
    ASSERT_TRUE(res) << "publish did not answer within 1 s: " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200) << res->body;
    ++rounds;
  }
  EXPECT_GT(rounds, 0);

  // Then each slow request is cut off at its deadline: 408, then closed.
  for (net::Fd& fd : slow) {
    bool closed = false;
    const std::string answer = readToEnd(fd.get(), closed);
    const auto after = Clock::now() - opened;
    EXPECT_TRUE(closed) << "a slow client was not cut off";
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 408 ")) << answer;
    EXPECT_NE(answer.find("admin.request_timeout_ms (3000 ms)"), std::string::npos) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
    EXPECT_GE(after, milliseconds(2900));
    EXPECT_LT(after, milliseconds(6000));
  }
  done = true;
  dribbler.join();
}

TEST_F(AdminSlowClientsTest, AnIdleConnectionIsClosedWithoutAnAnswerAfterTheTimeout) {
  config_.requestTimeoutMs = 300;
  start();
  net::Fd idle = connectTo(server_->port(), milliseconds(3000));
  ASSERT_TRUE(idle);
  const Clock::time_point opened = Clock::now();
  bool closed = false;
  EXPECT_EQ(readToEnd(idle.get(), closed), "");
  EXPECT_TRUE(closed);
  EXPECT_GE(Clock::now() - opened, milliseconds(250));
}

TEST_F(AdminSlowClientsTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  net::Fd fd = connectTo(server_->port(), milliseconds(3000));
  const std::string body = R"({"channel":"market","data":1})";
  const std::string publish =
      "POST /api/v1/publish HTTP/1.1\r\nAuthorization: Bearer " + std::string(kToken) +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_TRUE(sendAll(fd.get(), publish + "GET /healthz HTTP/1.1\r\n\r\n" + publish));
  const std::vector<std::string> answers = readAnswers(fd.get(), 3);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_TRUE(answers[0].ends_with(R"({"channel":"market","seq":1})")) << answers[0];
  EXPECT_TRUE(answers[1].ends_with(R"({"status":"ok"})")) << answers[1];
  EXPECT_TRUE(answers[2].ends_with(R"({"channel":"market","seq":2})")) << answers[2];

  // HEAD: the length of the body, not the body.
  ASSERT_TRUE(sendAll(fd.get(), "HEAD /readyz HTTP/1.1\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  const std::string head = readToEnd(fd.get(), closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_NE(head.find("Content-Length: 15\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
}

TEST_F(AdminSlowClientsTest, BodiesWithoutAValidTokenAreSkippedAndTheConnectionStaysInStep) {
  start();
  net::Fd fd = connectTo(server_->port(), milliseconds(3000));
  const std::string body = R"({"channel":"market","data":"GET /healthz HTTP/1.1"})";
  const std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  ASSERT_TRUE(sendAll(fd.get(), "POST /api/v1/publish HTTP/1.1\r\nAuthorization: Bearer wrong\r\n" +
                                    length + body + "POST /nowhere HTTP/1.1\r\n" + length + body +
                                    "GET /readyz HTTP/1.1\r\n\r\n"));
  const std::vector<std::string> answers = readAnswers(fd.get(), 3);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_TRUE(answers[0].starts_with("HTTP/1.1 401 ")) << answers[0];
  EXPECT_TRUE(answers[1].starts_with("HTTP/1.1 404 ")) << answers[1];
  EXPECT_TRUE(answers[2].ends_with(R"({"status":"ok"})")) << answers[2];
}

TEST_F(AdminSlowClientsTest, StopDoesNotWaitForSlowOrIdleClients) {
  start();
  std::vector<net::Fd> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(connectTo(server_->port(), milliseconds(3000)));
    ASSERT_TRUE(sendAll(clients.back().get(), i % 2 ? "GET /healthz HTTP/1.1\r\nX-Slow: 1\r\n"
                                                    : "GET /healthz HTTP/1.1\r\n\r\n"));
  }
  // Each answered one's connection is idle now; each other one is mid-head.
  for (int i = 0; i < 20; i += 2)
    ASSERT_EQ(readAnswers(clients[static_cast<size_t>(i)].get(), 1).size(), 1u);
  const Clock::time_point stopping = Clock::now();
  server_->stop();
  EXPECT_LT(Clock::now() - stopping, milliseconds(500));
  for (net::Fd& fd : clients) {
    bool closed = false;
    readToEnd(fd.get(), closed);
    EXPECT_TRUE(closed);
  }
}

TEST_F(AdminSlowClientsTest, ExpectContinueGetsAContinueBeforeTheBody) {
  start();
  net::Fd fd = connectTo(server_->port(), milliseconds(3000));
  const std::string body = R"({"channel":"market","data":1})";
  ASSERT_TRUE(sendAll(fd.get(), "POST /api/v1/publish HTTP/1.1\r\nAuthorization: Bearer " +
                                    std::string(kToken) + "\r\nExpect: 100-continue\r\n" +
                                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  char buffer[64];
  const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(sendAll(fd.get(), body));
  const std::vector<std::string> answers = readAnswers(fd.get(), 1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].starts_with("HTTP/1.1 200 OK\r\n")) << answers[0];
}

TEST_F(AdminSlowClientsTest, OversizedHeadIs431AndCloses) {
  start();
  net::Fd fd = connectTo(server_->port(), milliseconds(3000));
  ASSERT_TRUE(
      sendAll(fd.get(), "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n"));
  bool closed = false;
  const std::string answer = readToEnd(fd.get(), closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 431 ")) << answer.substr(0, 200);
  EXPECT_NE(answer.find("BAD_REQUEST"), std::string::npos);
  EXPECT_TRUE(closed);
}

TEST_F(AdminSlowClientsTest, ChunkedIs411AndClosesAndCompressedIs415AndKeepsTheConnection) {
  start();
  net::Fd fd = connectTo(server_->port(), milliseconds(3000));
  ASSERT_TRUE(sendAll(fd.get(),
                      "POST /api/v1/publish HTTP/1.1\r\nContent-Encoding: gzip\r\n"
                      "Content-Length: 4\r\n\r\nxxxxGET /healthz HTTP/1.1\r\n\r\n"));
  const std::vector<std::string> answers = readAnswers(fd.get(), 2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[0].starts_with("HTTP/1.1 415 ")) << answers[0];
  EXPECT_NE(answers[0].find("Content-Encoding"), std::string::npos) << answers[0];
  EXPECT_TRUE(answers[1].starts_with("HTTP/1.1 200 ")) << answers[1];

  ASSERT_TRUE(sendAll(fd.get(),
                      "POST /api/v1/publish HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n0\r\n\r\n"));
  bool closed = false;
  const std::string answer = readToEnd(fd.get(), closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 411 ")) << answer;
  EXPECT_NE(answer.find("Content-Length"), std::string::npos) << answer;
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace wsr::admin
