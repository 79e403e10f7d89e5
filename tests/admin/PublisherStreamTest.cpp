// The publisher WebSocket (GET /api/v1/publish/ws on the admin port), over
// a real socket: the handshake's refusals, pipelined publish frames answered
// in order, errors that leave the stream open, control frames, and a sink
// that waits (Redis) being given each read's frames as one batch on a
// handler thread.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "RawHttp.h"
#include "admin/AdminServer.h"

namespace wsr::admin {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using test::connectTo;
using test::readToEnd;
using test::sendAll;

constexpr const char* kToken = "publisher-token-ws";
constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";

// Numbers publications per channel; remembers each call's batch size and
// whether it ran on the thread that publishes inline.
class RecordingSink : public hub::PublishSink {
 public:
  explicit RecordingSink(bool mayWait) : mayWait_(mayWait) {}
  hub::PublishResult publish(hub::Publication&& publication) override {
    std::lock_guard lock(mutex_);
    if (publication.channel == "closed:x") return {hub::PublishError::Unavailable, "down", 0};
    channels_.push_back(publication.channel);
    return {hub::PublishError::None, "", ++seqs_[publication.channel]};
  }
  std::vector<hub::PublishResult> publishBatch(
      std::vector<hub::Publication>&& publications) override {
    {
      std::lock_guard lock(mutex_);
      batches_.push_back(publications.size());
    }
    return PublishSink::publishBatch(std::move(publications));
  }
  bool mayWait() const override { return mayWait_; }
  bool hasSubscribers(std::string_view) const override { return false; }

  std::vector<size_t> batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::vector<std::string> channels() const {
    std::lock_guard lock(mutex_);
    return channels_;
  }

 private:
  const bool mayWait_;
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> seqs_;
  std::vector<size_t> batches_;
  std::vector<std::string> channels_;
};

class NoBackend : public AdminBackend {
 public:
  Health health() override { return {true, "", true, ""}; }
  std::string statsJson() override { return "{}"; }
  std::string channelsJson() override { return "{}"; }
  std::string connectionsJson() override { return "{}"; }
  std::string metricsText() override { return ""; }
  size_t disconnectUser(const std::string&) override { return 0; }
};

// A client frame: FIN, masked (RFC 6455 5.3), with `opcode`.
std::string clientFrame(uint8_t opcode, std::string_view payload) {
  std::string frame;
  frame += static_cast<char>(0x80 | opcode);
  if (payload.size() < 126) {
    frame += static_cast<char>(0x80 | payload.size());
  } else {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xff);
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

struct ServerFrame {
  uint8_t opcode = 0;
  std::string payload;
};

// A client of the publisher socket: blocking, reads with a timeout.
class PublisherClient {
 public:
  explicit PublisherClient(uint16_t port) : fd_(connectTo(port, milliseconds(5000))) {}

  // The handshake's answer: its head (status line and fields).
  std::string handshake(const std::string& extraHeaders) {
    const std::string request =
        "GET /api/v1/publish/ws HTTP/1.1\r\nHost: x\r\n" + extraHeaders + "\r\n";
    if (!sendAll(fd_.get(), request)) return {};
    for (;;) {
      const size_t end = buffered_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buffered_.substr(0, end + 4);
        buffered_.erase(0, end + 4);
        return head;
      }
      if (!readMore()) return buffered_;
    }
  }
  bool send(const std::string& bytes) { return sendAll(fd_.get(), bytes); }
  bool publish(std::string_view frameJson) { return send(clientFrame(0x1, frameJson)); }
  // The next server frame; opcode 0 when the server closed or went quiet.
  ServerFrame next() {
    for (;;) {
      if (buffered_.size() >= 2) {
        const auto b1 = static_cast<uint8_t>(buffered_[1]);
        size_t length = b1 & 0x7f;
        size_t header = 2;
        if (length == 126 && buffered_.size() >= 4) {
          length = (static_cast<uint8_t>(buffered_[2]) << 8) | static_cast<uint8_t>(buffered_[3]);
          header = 4;
        }
        if (length < 126 || header == 4) {
          if (buffered_.size() >= header + length) {
            ServerFrame frame{static_cast<uint8_t>(buffered_[0] & 0x0f),
                              buffered_.substr(header, length)};
            buffered_.erase(0, header + length);
            return frame;
          }
        }
      }
      if (!readMore()) return {};
    }
  }
  json nextJson() {
    const ServerFrame frame = next();
    EXPECT_EQ(frame.opcode, 0x1) << frame.payload;
    return frame.opcode == 0x1 ? json::parse(frame.payload) : json();
  }
  int fd() const { return fd_.get(); }

 private:
  bool readMore() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    buffered_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  net::Fd fd_;
  std::string buffered_;
};

std::string upgradeHeaders(std::string_view token = kToken) {
  return std::string(
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: "
             "13\r\nSec-WebSocket-Key: ") +
         kKey + "\r\nAuthorization: Bearer " + std::string(token) + "\r\n";
}

class PublisherStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "wsr-pubws-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    tokenFile_ = dir_ + "/publishers";
    std::ofstream(tokenFile_) << kToken << "\n";
    config_.host = "127.0.0.1";
    config_.port = 0;
    config_.publisherTokenFile = tokenFile_;
    config_.maxPublishBytes = 4096;
  }
  void TearDown() override {
    if (server_) server_->stop();
    unlink(tokenFile_.c_str());
    rmdir(dir_.c_str());
  }
  void start(bool sinkMayWait) {
    sink_ = std::make_unique<RecordingSink>(sinkMayWait);
    server_ = std::make_unique<AdminServer>(config_, *sink_, backend_);
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
  }
  // An open publisher socket.
  std::unique_ptr<PublisherClient> open() {
    auto client = std::make_unique<PublisherClient>(server_->port());
    const std::string head = client->handshake(upgradeHeaders());
    EXPECT_TRUE(head.starts_with("HTTP/1.1 101")) << head;
    // base64(SHA-1(key + GUID)) of RFC 6455's own example.
    EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos)
        << head;
    return client;
  }

  std::string dir_;
  std::string tokenFile_;
  config::AdminConfig config_;
  std::unique_ptr<RecordingSink> sink_;
  NoBackend backend_;
  std::unique_ptr<AdminServer> server_;
};

TEST_F(PublisherStreamTest, PipelinedFramesAreAnsweredInOrderWithTheirSeq) {
  start(false);
  auto client = open();
  // Thirty frames in one write, on two channels, one of them refused.
  std::string burst;
  for (int i = 1; i <= 30; ++i) {
    const std::string channel = i % 3 == 0 ? "b" : "a";
    if (i == 10) {
      burst += clientFrame(0x1, R"({"op":"publish","id":10,"channel":"bad channel!","data":1})");
      continue;
    }
    burst += clientFrame(0x1, R"({"op":"publish","id":)" + std::to_string(i) + R"(,"channel":")" +
                                  channel + R"(","data":{"i":)" + std::to_string(i) + "}}");
  }
  ASSERT_TRUE(client->send(burst));
  std::map<std::string, uint64_t> seqs;
  for (int i = 1; i <= 30; ++i) {
    const json answer = client->nextJson();
    ASSERT_EQ(answer.value("id", -1), i) << answer;
    if (i == 10) {
      EXPECT_EQ(answer["op"], "error");
      EXPECT_EQ(answer["code"], "INVALID_CHANNEL");
      EXPECT_NE(answer["message"].get<std::string>().find("channel"), std::string::npos);
      continue;
    }
    const std::string channel = i % 3 == 0 ? "b" : "a";
    EXPECT_EQ(answer["op"], "published");
    EXPECT_EQ(answer["channel"], channel);
    EXPECT_EQ(answer["seq"], ++seqs[channel]);
  }
  EXPECT_EQ(sink_->channels().size(), 29u);
}

TEST_F(PublisherStreamTest, ABadFrameIsAnsweredAndTheStreamGoesOn) {
  start(false);
  auto client = open();
  ASSERT_TRUE(client->publish(R"({"op":"publish","id":1,"channel":"a"})"));
  ASSERT_TRUE(client->publish(R"({"op":"subscribe","id":2,"channel":"a","data":1})"));
  ASSERT_TRUE(client->publish(R"({"op":"publish","id":"three","channel":"a","data":1})"));
  ASSERT_TRUE(client->publish("not json"));
  ASSERT_TRUE(client->publish(R"({"op":"publish","id":5,"channel":"a","channel":"b","data":1})"));
  ASSERT_TRUE(client->publish(R"({"op":"publish","channel":"closed:x","data":1})"));
  ASSERT_TRUE(client->publish(R"({"op":"publish","id":7,"channel":"a","data":[1,2]})"));

  json answer = client->nextJson();
  EXPECT_EQ(answer["id"], 1);
  EXPECT_EQ(answer["code"], "BAD_REQUEST");
  EXPECT_EQ(answer["message"], "field 'data' is missing");
  answer = client->nextJson();
  EXPECT_EQ(answer["id"], 2);
  EXPECT_EQ(answer["message"], "field 'op' must be \"publish\"");
  answer = client->nextJson();
  EXPECT_FALSE(answer.contains("id"));
  EXPECT_EQ(answer["message"], "field 'id' must be an integer");
  answer = client->nextJson();
  EXPECT_EQ(answer["code"], "BAD_REQUEST");
  EXPECT_TRUE(answer["message"].get<std::string>().starts_with("frame is not valid JSON"))
      << answer;
  answer = client->nextJson();
  EXPECT_EQ(answer["id"], 5);
  EXPECT_EQ(answer["message"], "field 'channel' appears twice");
  answer = client->nextJson();
  EXPECT_EQ(answer["code"], "UNAVAILABLE");
  answer = client->nextJson();
  EXPECT_EQ(answer["op"], "published");
  EXPECT_EQ(answer["id"], 7);
  EXPECT_EQ(answer["seq"], 1);
}

TEST_F(PublisherStreamTest, PingIsAnsweredAndCloseIsEchoed) {
  start(false);
  auto client = open();
  ASSERT_TRUE(client->send(clientFrame(0x9, "hello")));
  ServerFrame pong = client->next();
  EXPECT_EQ(pong.opcode, 0xA);
  EXPECT_EQ(pong.payload, "hello");
  ASSERT_TRUE(client->send(clientFrame(0x8, std::string("\x03\xe8", 2))));
  ServerFrame close = client->next();
  EXPECT_EQ(close.opcode, 0x8);
  EXPECT_EQ(close.payload.substr(0, 2), std::string("\x03\xe8", 2));
  EXPECT_EQ(client->next().opcode, 0);  // then the server closes
}

TEST_F(PublisherStreamTest, ABinaryFrameClosesWith1003AfterTheAnswersBeforeIt) {
  start(false);
  auto client = open();
  ASSERT_TRUE(client->send(clientFrame(0x1, R"({"op":"publish","id":1,"channel":"a","data":1})") +
                           clientFrame(0x2, "xx")));
  EXPECT_EQ(client->nextJson()["seq"], 1);
  ServerFrame close = client->next();
  ASSERT_EQ(close.opcode, 0x8);
  EXPECT_EQ(close.payload.substr(0, 2), std::string("\x03\xeb", 2));
}

TEST_F(PublisherStreamTest, AFrameOverTheLimitCloses1009) {
  start(false);
  auto client = open();
  ASSERT_TRUE(client->publish(R"({"op":"publish","channel":"a","data":")" + std::string(5000, 'x') +
                              "\"}"));
  ServerFrame close = client->next();
  ASSERT_EQ(close.opcode, 0x8);
  EXPECT_EQ(close.payload.substr(0, 2), std::string("\x03\xf1", 2));
}

TEST_F(PublisherStreamTest, TheHandshakeRefusesWhatIsWrongNamingIt) {
  start(false);
  {
    PublisherClient client(server_->port());
    const std::string head = client.handshake(upgradeHeaders("wrong-token"));
    EXPECT_TRUE(head.starts_with("HTTP/1.1 401")) << head;
  }
  {
    PublisherClient client(server_->port());
    const std::string head =
        client.handshake(std::string("Authorization: Bearer ") + kToken + "\r\n");
    EXPECT_TRUE(head.starts_with("HTTP/1.1 426")) << head;
    EXPECT_NE(head.find("Upgrade: websocket"), std::string::npos) << head;
  }
  {
    PublisherClient client(server_->port());
    std::string headers = upgradeHeaders();
    headers.replace(headers.find("Version: 13"), 11, "Version: 8");
    const std::string head = client.handshake(headers);
    EXPECT_TRUE(head.starts_with("HTTP/1.1 426")) << head;
    EXPECT_NE(head.find("Sec-WebSocket-Version: 13"), std::string::npos) << head;
  }
  {
    PublisherClient client(server_->port());
    std::string headers = upgradeHeaders();
    headers.replace(headers.find(kKey), std::string_view(kKey).size(), "short");
    const std::string head = client.handshake(headers);
    EXPECT_TRUE(head.starts_with("HTTP/1.1 400")) << head;
  }
}

TEST_F(PublisherStreamTest, ASinkThatWaitsGetsEachReadAsOneBatchAndAnswersStayInOrder) {
  start(true);
  auto client = open();
  std::string burst;
  for (int i = 1; i <= 20; ++i)
    burst += clientFrame(
        0x1, R"({"op":"publish","id":)" + std::to_string(i) + R"(,"channel":"a","data":1})");
  ASSERT_TRUE(client->send(burst));
  for (int i = 1; i <= 20; ++i) {
    const json answer = client->nextJson();
    ASSERT_EQ(answer["id"], i);
    EXPECT_EQ(answer["seq"], i);
  }
  // Fewer calls than frames: what arrived together went together.
  const std::vector<size_t> batches = sink_->batches();
  EXPECT_LT(batches.size(), 20u);
  size_t total = 0;
  for (size_t size : batches)
    total += size;
  EXPECT_EQ(total, 20u);
  // The stream reads again once answered.
  ASSERT_TRUE(client->publish(R"({"op":"publish","id":21,"channel":"a","data":1})"));
  EXPECT_EQ(client->nextJson()["seq"], 21);
}

TEST_F(PublisherStreamTest, StoppingTheServerSendsGoingAway) {
  start(false);
  auto client = open();
  ASSERT_TRUE(client->publish(R"({"op":"publish","id":1,"channel":"a","data":1})"));
  EXPECT_EQ(client->nextJson()["seq"], 1);
  std::thread stopper([this] { server_->stop(); });
  ServerFrame close = client->next();
  stopper.join();
  ASSERT_EQ(close.opcode, 0x8);
  EXPECT_EQ(close.payload.substr(0, 2), std::string("\x03\xe9", 2));
}

}  // namespace
}  // namespace wsr::admin
