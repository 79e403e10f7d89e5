// LocalHub's side of the limits shared by the instances, with a scripted
// hub::SharedCounters in place of Redis (the test answers each addition
// when it chooses), through a real ws::Server and real client sockets: an
// admitted upgrade waits for its count and is refused past the limit or
// accepted on no answer; a locally refused one is counted without waiting;
// messages go one addition in flight per connection and a total past the
// limit closes with 4029.

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "HubTestClient.h"
#include "hub/ConnectionGate.h"
#include "hub/Hub.h"
#include "hub/LocalHub.h"
#include "hub/SharedCounters.h"
#include "ws/Server.h"

namespace wsr::hub {
namespace {

using test::eventually;
using test::json;
using test::WsClient;

// Keeps every addition until the test answers it.
class ScriptedCounters final : public SharedCounters {
 public:
  struct Addition {
    SharedLimit limit;
    std::string client;
    uint32_t amount;
    Done done;
  };

  void add(SharedLimit limit, std::string client, uint32_t amount, Done done) override {
    std::lock_guard lock(mutex_);
    additions_.push_back({limit, std::move(client), amount, std::move(done)});
  }

  size_t count() {
    std::lock_guard lock(mutex_);
    return additions_.size();
  }
  // The `index`th addition, once it has come (waits for it).
  Addition take(size_t index) {
    if (!eventually([&] { return count() > index; })) {
      throw std::runtime_error("addition " + std::to_string(index) + " never came");
    }
    std::lock_guard lock(mutex_);
    Addition addition = additions_[index];
    additions_[index].done = nullptr;
    return addition;
  }

 private:
  std::mutex mutex_;
  std::vector<Addition> additions_;
};

class LocalHubSharedLimitsTest : public ::testing::Test {
 protected:
  void start(uint32_t attemptsPerMinute, uint32_t messagesPerMinute) {
    config_.server.perMessageDeflate = false;
    config_.auth.mode = config::AuthMode::None;
    config_.limits.connectionsPerAddress = 0;
    config_.limits.connectionAttemptsPerMinute = attemptsPerMinute;
    config_.limits.messagesPerMinute = messagesPerMinute;
    hub_ = std::make_unique<Hub>(config_, HubLimits{});
    gate_ = std::make_unique<ConnectionGate>(config_, *hub_, logger_);
    std::string error;
    ASSERT_TRUE(gate_->start(error)) << error;
    ws::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 1;
    options.perMessageDeflate = false;
    options.pingIntervalMs = 60000;
    server_ = std::make_unique<ws::Server>(options, [this](ws::Server&, ws::Worker& worker) {
      auto local = std::make_unique<LocalHub>(*hub_, worker, *gate_, logger_);
      local->shareLimits(&counters_, &stats_);
      hub_->attach(*local);
      return local;
    });
    ASSERT_TRUE(server_->listen(error)) << error;
    server_->start();
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  // A client whose upgrade is under way on another thread (its answer may wait).
  std::future<std::unique_ptr<WsClient>> connecting() {
    const uint16_t port = server_->port();
    return std::async(std::launch::async, [port] { return std::make_unique<WsClient>(port); });
  }
  uint64_t fallbacks(SharedLimit limit) const {
    return stats_.fallbacks[static_cast<size_t>(limit)].load();
  }
  uint64_t refusals(SharedLimit limit) const {
    return stats_.refusals[static_cast<size_t>(limit)].load();
  }

  config::Config config_;
  telemetry::Logger logger_{telemetry::LogLevel::Error};
  SharedLimitStats stats_;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<ConnectionGate> gate_;
  std::unique_ptr<ws::Server> server_;
  // Last, so destroyed first: an addition never answered holds a session
  // whose places belong to the gate.
  ScriptedCounters counters_;
};

TEST_F(LocalHubSharedLimitsTest, AnAdmittedUpgradeWaitsForItsCountAndOpensUnderTheLimit) {
  start(10, 0);
  auto client = connecting();
  const ScriptedCounters::Addition attempt = counters_.take(0);
  EXPECT_EQ(attempt.limit, SharedLimit::ConnectionAttempts);
  EXPECT_EQ(attempt.client, "127.0.0.1");
  EXPECT_EQ(attempt.amount, 1u);
  // Not answered while the count is awaited.
  EXPECT_EQ(client.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_EQ(server_->worker(0).stats().open.load(), 0u);
  attempt.done(10);  // at the limit: still allowed
  std::unique_ptr<WsClient> opened = client.get();
  opened->expectUpgraded();
  opened->expect("welcome");
  EXPECT_EQ(refusals(SharedLimit::ConnectionAttempts), 0u);
}

TEST_F(LocalHubSharedLimitsTest, PastTheSharedLimitTheUpgradeGetsTheLocalLimitsRefusal) {
  start(10, 0);
  auto client = connecting();
  counters_.take(0).done(11);
  std::unique_ptr<WsClient> refused = client.get();
  EXPECT_EQ(refused->status(), 429);
  EXPECT_NE(refused->response().find("Retry-After: "), std::string::npos) << refused->response();
  EXPECT_NE(refused->body().find("RATE_LIMITED"), std::string::npos);
  EXPECT_EQ(refusals(SharedLimit::ConnectionAttempts), 1u);
  EXPECT_EQ(gate_->refusals(Refusal::TooManyAttempts), 1u);
  // Its places were given back: the gate counts no connection.
  EXPECT_TRUE(eventually([&] { return gate_->connections() == 0; }));
}

TEST_F(LocalHubSharedLimitsTest, NoAnswerLeavesTheLocalDecisionStanding) {
  start(10, 0);
  auto client = connecting();
  counters_.take(0).done(std::nullopt);
  client.get()->expectUpgraded();
  EXPECT_EQ(fallbacks(SharedLimit::ConnectionAttempts), 1u);
}

TEST_F(LocalHubSharedLimitsTest, AnUpgradeRefusedLocallyIsCountedWithoutWaiting) {
  start(1, 0);
  auto first = connecting();
  counters_.take(0).done(1);
  first.get()->expectUpgraded();
  // The second attempt is over the local limit: refused at once, counted too.
  WsClient second(server_->port());
  EXPECT_EQ(second.status(), 429);
  EXPECT_EQ(counters_.take(1).limit, SharedLimit::ConnectionAttempts);
}

TEST_F(LocalHubSharedLimitsTest, MessagesGoOneAdditionInFlightAndPastTheLimitClose4029) {
  start(0, 100);
  auto client = connecting();
  std::unique_ptr<WsClient> c = client.get();  // attempts unlimited: not counted, not waited for
  c->expectUpgraded();
  c->expect("welcome");
  for (int i = 0; i < 3; ++i) {
    c->sendJson({{"op", "ping"}, {"id", i}});
    c->expect("pong");
  }
  // One addition for the first; the two others wait for its answer.
  const ScriptedCounters::Addition first = counters_.take(0);
  EXPECT_EQ(first.limit, SharedLimit::Messages);
  EXPECT_EQ(first.amount, 1u);
  EXPECT_EQ(counters_.count(), 1u);
  first.done(1);
  const ScriptedCounters::Addition second = counters_.take(1);
  EXPECT_EQ(second.amount, 2u);
  second.done(101);  // another instance's connections spent the rest
  const test::Frame close = c->recvFrame();
  ASSERT_EQ(close.opcode, 0x8);
  EXPECT_EQ(WsClient::closeCode(close), 4029);
  EXPECT_EQ(refusals(SharedLimit::Messages), 1u);
}

}  // namespace
}  // namespace wsr::hub
