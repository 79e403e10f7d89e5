#include "hub/HubMetrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "../ws/WsTestUtil.h"
#include "net/Fd.h"

namespace wsr::hub {
namespace {

using prometheus::MetricFamily;

// The value of the series `name{labels}` (exactly those labels), if any.
std::optional<double> valueOf(const std::vector<MetricFamily>& families, std::string_view name,
                              const std::vector<prometheus::ClientMetric::Label>& labels = {}) {
  for (const MetricFamily& family : families) {
    if (family.name != name) continue;
    for (const auto& sample : family.metric) {
      if (sample.label != labels) continue;
      switch (family.type) {
        case prometheus::MetricType::Counter:
          return sample.counter.value;
        case prometheus::MetricType::Gauge:
          return sample.gauge.value;
        case prometheus::MetricType::Histogram:
          return static_cast<double>(sample.histogram.sample_count);
        default:
          return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

// A blocking client socket on 127.0.0.1, with a read timeout.
net::Fd connectTo(uint16_t port) {
  net::Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

void sendAll(int fd, std::string_view bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

// Reads until `needle` has arrived (or the timeout); returns what was read.
std::string readUntil(int fd, std::string_view needle) {
  std::string received;
  char buffer[4096];
  while (received.find(needle) == std::string::npos) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  return received;
}

std::string upgradeRequest(std::string_view path) {
  return "GET " + std::string(path) +
         " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

class HubMetricsTest : public ::testing::Test {
 protected:
  HubMetricsTest() : hub_(config_), gate_(config_, hub_, logger_) {
    config_.server.workers = 1;
    ws::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 1;
    server_ = std::make_unique<ws::Server>(options, [this](ws::Server&, ws::Worker& worker) {
      auto local = std::make_unique<LocalHub>(hub_, worker, gate_, logger_);
      locals_.push_back(local.get());
      hub_.attach(*local);
      return local;
    });
    std::string error;
    EXPECT_TRUE(gate_.start(error)) << error;
    EXPECT_TRUE(server_->listen(error)) << error;
    server_->start();
    collector_ = std::make_unique<HubCollector>(config_, hub_, gate_, *server_, locals_);
  }
  ~HubMetricsTest() override { server_->stop(); }

  // Polls the collector until `name{labels}` equals `expected` (counters
  // move on the worker's thread), for at most 5 s.
  void expectEventually(std::string_view name,
                        const std::vector<prometheus::ClientMetric::Label>& labels,
                        double expected) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::optional<double> value;
    while (std::chrono::steady_clock::now() < deadline) {
      value = valueOf(collector_->Collect(), name, labels);
      if (value == expected) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << name << " is " << (value ? std::to_string(*value) : "missing") << ", expected "
                  << expected;
  }

  config::Config config_;  // the demo namespaces, auth none
  telemetry::Logger logger_{telemetry::LogLevel::Error, -1};
  Hub hub_;
  ConnectionGate gate_;
  std::vector<LocalHub*> locals_;
  std::unique_ptr<ws::Server> server_;
  std::unique_ptr<HubCollector> collector_;
};

TEST_F(HubMetricsTest, EveryKnownSeriesExistsFromTheStartAtZero) {
  const auto families = collector_->Collect();
  for (const char* reason : {"bad_handshake", "header_too_large", "handshake_timeout", "draining",
                             "not_found", "unauthorized", "forbidden", "too_many_connections"}) {
    EXPECT_EQ(valueOf(families, "wsrouter_connections_refused_total", {{"reason", reason}}), 0)
        << reason;
  }
  for (const char* reason : {"missing", "unknown_token", "bad_signature", "too_long"}) {
    EXPECT_EQ(valueOf(families, "wsrouter_auth_failures_total", {{"reason", reason}}), 0);
  }
  for (const char* endpoint : {"/ws", "/ws/market", "/ws/foreign", "/ws/index"}) {
    EXPECT_EQ(valueOf(families, "wsrouter_connections", {{"endpoint", endpoint}}), 0) << endpoint;
    EXPECT_EQ(valueOf(families, "wsrouter_connections_opened_total", {{"endpoint", endpoint}}), 0);
  }
  for (const char* code : {"1000", "1001", "1006", "4008", "other"}) {
    EXPECT_EQ(valueOf(families, "wsrouter_connections_closed_total", {{"code", code}}), 0);
  }
  for (const auto& [name, settings] : config_.namespaces) {
    for (const char* reason : {"slow_consumer", "conflated", "overload"}) {
      EXPECT_EQ(
          valueOf(families, "wsrouter_dropped_total", {{"namespace", name}, {"reason", reason}}), 0)
          << name;
    }
    EXPECT_EQ(valueOf(families, "wsrouter_published_total", {{"namespace", name}}), 0);
    EXPECT_EQ(valueOf(families, "wsrouter_subscribers", {{"namespace", name}}), 0);
  }
  for (const char* channel : {"market", "foreign", "index"}) {
    EXPECT_EQ(valueOf(families, "wsrouter_channel_subscribers", {{"channel", channel}}), 0);
  }
  EXPECT_EQ(valueOf(families, "wsrouter_client_messages_total", {{"op", "invalid"}}), 0);
  EXPECT_EQ(valueOf(families, "wsrouter_broadcast_duration_seconds"), 0);
  EXPECT_EQ(valueOf(families, "wsrouter_publish_to_write_seconds"), 0);
  EXPECT_EQ(valueOf(families, "wsrouter_connections_max"), 15000);
  EXPECT_EQ(valueOf(families, "wsrouter_client_queued_bytes"), 0);
  EXPECT_EQ(valueOf(families, "wsrouter_event_loop_stall_seconds", {{"worker", "0"}}).has_value(),
            true);
  EXPECT_EQ(valueOf(families, "wsrouter_worker_inbox_messages", {{"worker", "0"}}), 0);
  EXPECT_EQ(valueOf(families, "wsrouter_worker_inbox_shed_total", {{"worker", "0"}}), 0);
  // Names are unique: one family each.
  std::set<std::string> names;
  for (const MetricFamily& family : families)
    EXPECT_TRUE(names.insert(family.name).second) << family.name;
}

TEST_F(HubMetricsTest, FollowsConnectionsSubscriptionsPublicationsAndRefusals) {
  const uint16_t port = server_->port();
  {
    net::Fd bad = connectTo(port);
    sendAll(bad.get(), "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n");  // no Upgrade: 400
    EXPECT_NE(readUntil(bad.get(), "\r\n\r\n").find(" 400 "), std::string::npos);
  }
  expectEventually("wsrouter_connections_refused_total", {{"reason", "bad_handshake"}}, 1);
  {
    net::Fd lost = connectTo(port);
    sendAll(lost.get(), upgradeRequest("/nowhere"));
    EXPECT_NE(readUntil(lost.get(), "\r\n\r\n").find(" 404 "), std::string::npos);
  }
  expectEventually("wsrouter_connections_refused_total", {{"reason", "not_found"}}, 1);

  // market retains its last value: a new subscriber gets it at once, and
  // that old value is no write-latency sample.
  Publication snapshot;
  snapshot.channel = "market";
  snapshot.data = R"({"snapshot":1})";
  ASSERT_TRUE(hub_.publish(std::move(snapshot)).ok());
  net::Fd market = connectTo(port);
  sendAll(market.get(), upgradeRequest("/ws/market"));
  const std::string marketStart = readUntil(market.get(), "\"snapshot\"");
  EXPECT_NE(marketStart.find(" 101 "), std::string::npos);
  EXPECT_NE(marketStart.find("\"snapshot\""), std::string::npos);
  net::Fd client = connectTo(port);
  sendAll(client.get(), upgradeRequest("/ws"));
  readUntil(client.get(), "\"welcome\"");
  sendAll(client.get(),
          ws::test::clientFrame(0x81, R"({"op":"subscribe","id":1,"channels":["stock:AAPL"]})"));
  readUntil(client.get(), "\"subscribed\"");
  sendAll(client.get(), ws::test::clientFrame(0x81, "not json"));
  expectEventually("wsrouter_connections", {{"endpoint", "/ws"}}, 1);
  expectEventually("wsrouter_connections", {{"endpoint", "/ws/market"}}, 1);
  expectEventually("wsrouter_channel_subscribers", {{"channel", "market"}}, 1);
  expectEventually("wsrouter_subscribers", {{"namespace", "stock"}}, 1);
  expectEventually("wsrouter_client_messages_total", {{"op", "subscribe"}}, 1);
  expectEventually("wsrouter_client_messages_total", {{"op", "invalid"}}, 1);

  Publication publication;
  publication.channel = "stock:AAPL";
  publication.data = R"({"price":1})";
  ASSERT_TRUE(hub_.publish(std::move(publication)).ok());
  readUntil(client.get(), "\"price\"");
  expectEventually("wsrouter_published_total", {{"namespace", "stock"}}, 1);
  expectEventually("wsrouter_delivered_total", {{"namespace", "stock"}}, 1);
  expectEventually("wsrouter_channels", {{"namespace", "stock"}}, 1);
  expectEventually("wsrouter_broadcast_duration_seconds", {}, 1);
  // Exactly one: the stock publication's write, not the retained value's.
  expectEventually("wsrouter_publish_to_write_seconds", {}, 1);

  client.reset();  // dropped without a close frame
  expectEventually("wsrouter_connections_closed_total", {{"code", "1006"}}, 1);
  expectEventually("wsrouter_connections", {{"endpoint", "/ws"}}, 0);
  expectEventually("wsrouter_connections_opened_total", {{"endpoint", "/ws"}}, 1);
  expectEventually("wsrouter_subscribers", {{"namespace", "stock"}}, 0);
  const auto families = collector_->Collect();
  EXPECT_GT(valueOf(families, "wsrouter_received_bytes_total").value_or(0), 0);
  EXPECT_GT(valueOf(families, "wsrouter_sent_bytes_total").value_or(0), 0);
}

}  // namespace
}  // namespace wsr::hub
