// The hub's per-worker half through a real ws::Server (one worker on
// 127.0.0.1) and real client sockets: the client protocol, fan-out,
// retained values, history replay, and the slow-consumer policies.
//
// Nothing here sleeps to synchronise. A worker query (onWorker) runs on the
// worker's thread after everything posted before it, and after the end of
// that pass's writes; "nothing else arrived" is proved by a ping whose pong
// must be the next message.

#include "hub/LocalHub.h"

#include "hub/ConnectionGate.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "HubTestClient.h"
#include "hub/Hub.h"
#include "hub/WallClock.h"
#include "net/EventLoop.h"
#include "ws/Server.h"

namespace wsr::hub {
namespace {

using test::eventually;
using test::Frame;
using test::json;
using test::kTimeout;
using test::Reader;
using test::WsClient;

constexpr uint32_t kHeartbeatMs = 60000;  // announced in welcome; never due during a test
constexpr int kTinyReceiveBuffer = 4096;
constexpr int kTinySendBuffer = 4096;
// Much more than the two tiny socket buffers hold together: once the
// server's write of such a message blocks, it stays blocked until the
// client reads.
constexpr size_t kBigPayloadBytes = 64 * 1024;
constexpr int kMaxBlockingPublications = 64;

// The production gate, as permissive as config.yaml allows: no
// credentials, no per-address or message limits.
config::Config testConfig() {
  config::Config config;
  config.server.perMessageDeflate = false;
  config.auth.mode = config::AuthMode::None;
  config.limits.maxConnections = 0;
  config.limits.connectionsPerAddress = 0;
  config.limits.connectionAttemptsPerMinute = 0;
  config.limits.messagesPerMinute = 0;
  // Tests that hold the worker must not meet the time bounds by accident
  // on a slow machine; those that test them set them.
  config.limits.workerInboxMaxDelayMs = 0;
  config.admin.publishBacklogMs = 0;
  config::NamespaceConfig plain;
  plain.historySize = 5;
  config::NamespaceConfig snap = plain;  // retains its last value
  snap.retainLast = true;
  config::NamespaceConfig line = plain;  // served on /ws/<channel>
  line.dedicatedEndpoint = true;
  config::NamespaceConfig drop;
  drop.historySize = 0;
  drop.policy = config::SlowConsumerPolicy::DropOldest;
  drop.queueMaxMessages = 4;
  config::NamespaceConfig confl = drop;
  confl.policy = config::SlowConsumerPolicy::Conflate;
  config::NamespaceConfig strict = drop;
  strict.policy = config::SlowConsumerPolicy::Disconnect;
  strict.queueMaxMessages = 3;
  strict.historySize = 20;
  config.namespaces = {{"default", plain}, {"snap", snap},   {"line", line},
                       {"drop", drop},     {"confl", confl}, {"strict", strict}};
  return config;
}

bool isData(const json& m) {
  return m.value("type", "") == "message";
}
bool isEnd(const json& m) {
  return isData(m) && m.contains("data") && m["data"].is_object() && m["data"].value("end", false);
}

void expectData(const json& m, const std::string& channel, uint64_t seq) {
  EXPECT_TRUE(isData(m)) << m.dump().substr(0, 300);
  EXPECT_EQ(m.value("channel", ""), channel) << m.dump().substr(0, 300);
  EXPECT_EQ(m.value("seq", uint64_t{0}), seq) << m.dump().substr(0, 300);
}

void expectGap(const json& m, const std::string& channel, uint64_t from, uint64_t to,
               const std::string& reason) {
  EXPECT_EQ(m.value("type", ""), "gap") << m.dump();
  EXPECT_EQ(m.value("channel", ""), channel) << m.dump();
  EXPECT_EQ(m.value("from", uint64_t{0}), from) << m.dump();
  EXPECT_EQ(m.value("to", uint64_t{0}), to) << m.dump();
  EXPECT_EQ(m.value("reason", ""), reason) << m.dump();
}

// Exactly the data messages 1..last of one channel, in order, nothing else.
void expectComplete(const std::vector<json>& messages, const std::string& channel, uint64_t last) {
  ASSERT_EQ(messages.size(), last);
  for (uint64_t seq = 1; seq <= last; ++seq)
    expectData(messages[seq - 1], channel, seq);
}

json subscribeOp(const std::vector<std::string>& channels, int id) {
  return {{"op", "subscribe"}, {"id", id}, {"channels", channels}};
}

// A client that dropped its connection without a close, leaving its session.
struct LostSession {
  std::string session;
  std::string resume;
};

json resumeOp(const LostSession& lost, int id, const json& since = nullptr) {
  json op = {{"op", "resume"}, {"id", id}, {"session", lost.session}, {"resume", lost.resume}};
  if (!since.is_null()) op["since"] = since;
  return op;
}

// What the worker knows of one connection.
struct ConnectionView {
  bool open = false;
  bool writeBlocked = false;
  size_t queuedBytes = 0;
  size_t heldBack = 0;
  std::vector<std::string> subscriptions;
};

class LocalHubTest : public ::testing::Test {
 protected:
  void start(HubLimits limits = {}, size_t maxQueuedBytes = ws::ServerOptions{}.maxQueuedBytes) {
    hub_ = std::make_unique<Hub>(config_, limits);
    gate_ = std::make_unique<ConnectionGate>(config_, *hub_, logger_);
    std::string gateError;
    ASSERT_TRUE(gate_->start(gateError)) << gateError;
    ws::ServerOptions options;
    options.maxQueuedBytes = maxQueuedBytes;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 1;  // every client on the same worker
    options.perMessageDeflate = false;
    options.pingIntervalMs = kHeartbeatMs;
    options.pongTimeoutMs = 0;
    options.closeTimeoutMs = 5000;
    server_ = std::make_unique<ws::Server>(options, [this](ws::Server&, ws::Worker& worker) {
      auto local = std::make_unique<LocalHub>(*hub_, worker, *gate_, logger_);
      local_ = local.get();
      hub_->attach(*local);
      return local;
    });
    std::string error;
    ASSERT_TRUE(server_->listen(error)) << error;
    server_->start();
  }

  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    gate_.reset();
    hub_.reset();
  }

  // An upgraded client past its welcome.
  std::unique_ptr<WsClient> connect(const std::string& path = "/ws", int rcvbuf = 0) {
    auto client = std::make_unique<WsClient>(server_->port(), path, rcvbuf);
    client->expectUpgraded();
    client->expect("welcome");
    return client;
  }

  void subscribe(WsClient& client, const std::string& channel, int id = 1) {
    client.sendJson(subscribeOp({channel}, id));
    const json answer = client.expect("subscribed");
    EXPECT_EQ(answer.value("channel", ""), channel);
    EXPECT_EQ(answer.value("id", -1), id);
  }

  uint64_t publish(const std::string& channel, const json& data, const std::string& key = "") {
    Publication publication;
    publication.channel = channel;
    publication.key = key;
    publication.data = data.dump();
    const PublishResult result = hub_->publish(std::move(publication));
    if (!result.ok()) throw std::runtime_error("publish refused: " + result.message);
    return result.seq;
  }

  // Runs fn on the worker's thread once everything posted so far has run
  // and that pass's writes are done; returns its result.
  template <typename Fn>
  auto onWorker(Fn fn) -> decltype(fn()) {
    using Result = decltype(fn());
    auto promise = std::make_shared<std::promise<Result>>();
    std::future<Result> future = promise->get_future();
    net::EventLoop& loop = server_->worker(0).loop();
    loop.post([&loop, promise, fn] { loop.post([promise, fn] { promise->set_value(fn()); }); });
    if (future.wait_for(kTimeout) != std::future_status::ready) {
      throw std::runtime_error("the worker did not answer");
    }
    return future.get();
  }

  // A slow client (tiny receive buffer), then a fast one, both subscribed to
  // `channel`: the slow one first, so fan-out meets it before the fast one.
  std::pair<std::unique_ptr<WsClient>, std::unique_ptr<WsClient>> slowThenFast(
      const std::string& channel) {
    auto slow = connect("/ws", kTinyReceiveBuffer);
    subscribe(*slow, channel);
    auto fast = connect();
    subscribe(*fast, channel);
    return {std::move(slow), std::move(fast)};
  }

  // Blocks the worker's thread until the returned promise is set, so that
  // what is published meanwhile reaches its inbox all together.
  std::promise<void> holdWorker() {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    auto holding = std::make_shared<std::promise<void>>();
    std::future<void> held = holding->get_future();
    server_->worker(0).loop().post([released, holding] {
      holding->set_value();
      released.wait();
    });
    if (held.wait_for(kTimeout) != std::future_status::ready) {
      throw std::runtime_error("the worker did not answer");
    }
    return release;
  }

  ConnectionView view(const WsClient& client) {
    const uint16_t port = client.localPort();
    return onWorker([this, port] {
      ConnectionView view;
      server_->worker(0).forEachConnection([&](ws::WebSocket& socket) {
        if (socket.peer().port != port) return;
        view.open = true;
        view.writeBlocked = socket.writeBlocked();
        view.queuedBytes = socket.queuedBytes();
      });
      for (const LocalHub::ConnectionSummary& connection : local_->connections()) {
        if (connection.peer != "127.0.0.1:" + std::to_string(port)) continue;
        view.heldBack = connection.heldBack;
        view.subscriptions = connection.subscriptions;
      }
      return view;
    });
  }

  // Proves the client has nothing else coming: whatever was posted to the
  // worker has been fanned out, and the pong of a ping is the next message.
  void expectNothingMore(WsClient& client, int id = 999) {
    onWorker([] { return true; });
    client.sendJson({{"op", "ping"}, {"id", id}});
    const json next = client.recvJson();
    EXPECT_EQ(next.value("type", ""), "pong") << "unexpected: " << next.dump().substr(0, 300);
    EXPECT_EQ(next.value("id", -1), id);
  }

  // Leaves `slow` (connected with a tiny receive buffer, subscribed to
  // `channel`, not reading) with the server's writes blocked: the server's
  // socket gets a tiny send buffer, then big messages are published until
  // the worker reports the connection write-blocked. Returns the seq of the
  // last of them: everything up to it went out unheld.
  uint64_t blockWrites(WsClient& slow, const std::string& channel) {
    const int fd = test::serverSideFd(server_->port(), slow.localPort());
    if (fd < 0) throw std::runtime_error("the server's end of the connection was not found");
    const int bytes = kTinySendBuffer;
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) {
      throw std::runtime_error("setsockopt(SO_SNDBUF) failed");
    }
    const std::string pad(kBigPayloadBytes, 'x');
    for (int i = 1; i <= kMaxBlockingPublications; ++i) {
      const uint64_t seq = publish(channel, {{"i", i}, {"pad", pad}});
      const ConnectionView state = view(slow);
      if (state.writeBlocked) {
        EXPECT_GT(state.queuedBytes, 0u);
        EXPECT_EQ(state.heldBack, 0u);
        return seq;
      }
    }
    throw std::runtime_error("the slow client's socket never blocked");
  }

  // A client subscribed to `channels` that, once `meanwhile` has run with
  // it, loses its connection (the socket closes without a close frame);
  // returned once the hub keeps its session.
  LostSession lose(const std::vector<std::string>& channels,
                   const std::function<void(WsClient&)>& meanwhile = {}) {
    const size_t held = hub_->sessions().counts().held;
    LostSession lost;
    {
      WsClient client(server_->port());
      client.expectUpgraded();
      const json welcome = client.expect("welcome");
      lost = {welcome["session"], welcome["resume"]};
      int id = 0;
      for (const std::string& channel : channels)
        subscribe(client, channel, ++id);
      if (meanwhile) meanwhile(client);
    }
    if (!test::eventually([&] { return hub_->sessions().counts().held == held + 1; })) {
      throw std::runtime_error("the lost connection's session was not kept");
    }
    return lost;
  }

  NamespaceStats stats(std::string_view ns) { return hub_->statsFor(ns); }
  uint32_t subscribers(const std::string& channel) { return hub_->channel(channel)->subscribers(); }
  bool postedToWorker(const std::string& channel) { return hub_->channel(channel)->hasWorker(0); }

  config::Config config_ = testConfig();
  telemetry::Logger logger_{telemetry::LogLevel::Error, -1};
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<ConnectionGate> gate_;
  std::unique_ptr<ws::Server> server_;
  LocalHub* local_ = nullptr;
};

// ---- Protocol --------------------------------------------------------------

TEST_F(LocalHubTest, WelcomesEveryConnection) {
  start();
  const int64_t before = wallClockMs();
  WsClient client(server_->port());
  client.expectUpgraded();
  const json welcome = client.expect("welcome");
  const int64_t after = wallClockMs();
  EXPECT_EQ(welcome.value("session", "").rfind("s-", 0), 0u) << welcome.dump();
  EXPECT_GT(welcome.value("session", "").size(), 2u);
  EXPECT_EQ(welcome.value("resume", "").rfind("r-", 0), 0u) << welcome.dump();
  EXPECT_EQ(welcome.value("heartbeat_ms", 0u), kHeartbeatMs);
  EXPECT_GE(welcome.value("server_time", int64_t{0}), before);
  EXPECT_LE(welcome.value("server_time", int64_t{0}), after);
  // Two connections are two sessions.
  WsClient other(server_->port());
  other.expectUpgraded();
  EXPECT_NE(other.expect("welcome")["session"], welcome["session"]);
}

TEST_F(LocalHubTest, SubscribeAndUnsubscribeAnswerEachChannelWithTheId) {
  start();
  auto client = connect();
  client->sendJson(subscribeOp({"stock:A", "index"}, 7));
  for (const char* channel : {"stock:A", "index"}) {
    const json answer = client->expect("subscribed");
    EXPECT_EQ(answer["id"], 7);
    EXPECT_EQ(answer["channel"], channel);
    EXPECT_EQ(answer["seq"], 0);
    EXPECT_FALSE(answer.contains("recovered")) << answer.dump();  // no since, no recovery
  }
  client->sendJson({{"op", "subscribe"}, {"channels", json::array({"stock:C"})}});
  EXPECT_FALSE(client->expect("subscribed").contains("id"));  // none given, none echoed

  client->sendJson(
      {{"op", "unsubscribe"}, {"id", 8}, {"channels", json::array({"index", "stock:Z"})}});
  json answer = client->expect("unsubscribed");
  EXPECT_EQ(answer["id"], 8);
  EXPECT_EQ(answer["channel"], "index");
  answer = client->expect("unsubscribed");  // not subscribed: answered all the same
  EXPECT_EQ(answer["id"], 8);
  EXPECT_EQ(answer["channel"], "stock:Z");

  publish("index", {{"v", 1}});
  const uint64_t seq = publish("stock:A", {{"v", 2}});
  expectData(client->recvJson(), "stock:A", seq);  // index's went nowhere
  expectNothingMore(*client);
  EXPECT_EQ(subscribers("index"), 0u);
  EXPECT_EQ(local_->subscriptionCount(), 2u);
}

TEST_F(LocalHubTest, PingIsAnsweredWithPong) {
  start();
  auto client = connect();
  const int64_t before = wallClockMs();
  client->sendJson({{"op", "ping"}, {"id", 3}});
  const json pong = client->expect("pong");
  EXPECT_EQ(pong["id"], 3);
  EXPECT_GE(pong.value("server_time", int64_t{0}), before);
  EXPECT_LE(pong.value("server_time", int64_t{0}), wallClockMs());
}

TEST_F(LocalHubTest, EveryErrorCodeAnswersAndTheConnectionStaysOpen) {
  HubLimits limits;
  limits.maxSubscriptionsPerConnection = 2;
  limits.maxChannelsPerRequest = 3;
  limits.maxChannels = 3;
  start(limits);
  auto client = connect();
  struct Case {
    std::string text;  // sent as a text message, or binary when the code says so
    bool binary;
    const char* code;
    std::optional<int> id;
  };
  const Case cases[] = {
      {"not json", false, "BAD_REQUEST", std::nullopt},
      {R"({"op":"subscribe","id":1})", false, "BAD_REQUEST", 1},
      {R"({"op":"subscribe","id":2,"channels":["a","b","c","d"]})", false, "BAD_REQUEST", 2},
      {R"({"op":"ping","id":"three"})", false, "BAD_REQUEST", std::nullopt},
      {R"({"op":"ping","id":4})", true, "BAD_REQUEST", std::nullopt},
      {R"({"op":"dance","id":5})", false, "UNKNOWN_OP", 5},
      {R"({"op":"subscribe","id":6,"channels":["no spaces"]})", false, "INVALID_CHANNEL", 6},
      {R"({"op":"auth","id":7,"token":"abc"})", false, "INVALID_TOKEN", 7},
      {R"({"op":"resume","id":8,"session":"s-1","resume":"r-1"})", false, "RESUME_FAILED", 8},
  };
  int pingId = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    if (c.binary) {
      client->sendBinary(c.text);
    } else {
      client->sendText(c.text);
    }
    const json error = client->expect("error");
    EXPECT_EQ(error["code"], c.code);
    EXPECT_TRUE(error["message"].is_string() && !error["message"].get<std::string>().empty());
    if (c.id) {
      EXPECT_EQ(error["id"], *c.id);
    } else {
      EXPECT_FALSE(error.contains("id")) << error.dump();
    }
    expectNothingMore(*client, ++pingId);  // still open, nothing else said
  }

  // SUBSCRIPTION_LIMIT: the connection's limit; CHANNEL_LIMIT: the router's.
  client->sendJson(subscribeOp({"stock:A", "stock:B", "stock:C"}, 9));
  client->expect("subscribed");
  client->expect("subscribed");
  json error = client->expect("error");
  EXPECT_EQ(error["code"], "SUBSCRIPTION_LIMIT");
  EXPECT_EQ(error["id"], 9);
  EXPECT_NE(error.value("message", "").find("per connection"), std::string::npos) << error;
  auto other = connect();
  subscribe(*other, "stock:C");
  other->sendJson(subscribeOp({"stock:D"}, 10));
  error = other->expect("error");
  EXPECT_EQ(error["code"], "CHANNEL_LIMIT");
  EXPECT_EQ(error["id"], 10);
  EXPECT_NE(error.value("message", "").find("limits.max_channels"), std::string::npos) << error;

  // Still served after all that.
  const uint64_t seq = publish("stock:A", {{"v", 1}});
  expectData(client->recvJson(), "stock:A", seq);
  expectNothingMore(*client);
}

// ---- Session resume --------------------------------------------------------

TEST_F(LocalHubTest, ALostConnectionResumesWithItsChannelsAndWhatItMissedOnce) {
  start();
  const LostSession lost = lose({"stock:S", "index"}, [&](WsClient& client) {
    publish("stock:S", {{"n", 1}});
    expectData(client.recvJson(), "stock:S", 1);
  });
  publish("stock:S", {{"n", 2}});
  publish("stock:S", {{"n", 3}});
  publish("index", {{"n", 1}});

  auto client = connect();
  client->sendJson(resumeOp(lost, 7));
  const json resumed = client->expect("resumed");
  EXPECT_EQ(resumed["id"], 7);
  EXPECT_EQ(resumed["session"], lost.session);
  EXPECT_EQ(resumed["channels"], json::array({"stock:S", "index"}));
  // Each channel answered and replayed in the session's order.
  json answer = client->expect("subscribed");
  EXPECT_EQ(answer["channel"], "stock:S");
  EXPECT_EQ(answer["id"], 7);
  EXPECT_EQ(answer["seq"], 3);
  EXPECT_EQ(answer["recovered"], true);
  expectData(client->recvJson(), "stock:S", 2);
  expectData(client->recvJson(), "stock:S", 3);
  answer = client->expect("subscribed");
  EXPECT_EQ(answer["channel"], "index");
  EXPECT_EQ(answer["recovered"], true);
  expectData(client->recvJson(), "index", 1);
  expectNothingMore(*client);
  publish("stock:S", {{"n", 4}});
  expectData(client->recvJson(), "stock:S", 4);

  // The token worked once.
  auto again = connect();
  again->sendJson(resumeOp(lost, 8));
  const json refused = again->expect("error");
  EXPECT_EQ(refused["code"], "RESUME_FAILED");
  EXPECT_EQ(refused["id"], 8);
  EXPECT_NE(refused.value("message", "").find("resumed already"), std::string::npos);
  EXPECT_EQ(hub_->sessions().counts().held, 0u);
}

TEST_F(LocalHubTest, ResumeTakesTheClientsOwnSinceOverTheRoutersRecord) {
  start();
  const LostSession lost = lose({"stock:C"}, [&](WsClient& client) {
    for (int n = 1; n <= 3; ++n)
      publish("stock:C", {{"n", n}});
    for (uint64_t seq = 1; seq <= 3; ++seq)
      expectData(client.recvJson(), "stock:C", seq);
  });
  // The client says it had only seq 1 (the rest was lost in flight).
  auto client = connect();
  client->sendJson(resumeOp(lost, 1, {{"stock:C", 1}}));
  client->expect("resumed");
  EXPECT_EQ(client->expect("subscribed")["recovered"], true);
  expectData(client->recvJson(), "stock:C", 2);
  expectData(client->recvJson(), "stock:C", 3);
  expectNothingMore(*client);
}

TEST_F(LocalHubTest, RequestsAfterAResumeAreAnsweredAfterItsRestoredChannels) {
  start();
  const LostSession lost = lose({"stock:O"});
  auto client = connect();
  client->sendText(resumeOp(lost, 1).dump());
  client->sendJson(subscribeOp({"stock:P"}, 2));
  client->sendJson({{"op", "ping"}, {"id", 3}});
  EXPECT_EQ(client->expect("resumed")["id"], 1);
  EXPECT_EQ(client->expect("subscribed")["channel"], "stock:O");
  const json second = client->expect("subscribed");
  EXPECT_EQ(second["channel"], "stock:P");
  EXPECT_EQ(second["id"], 2);
  EXPECT_EQ(client->expect("pong")["id"], 3);
}

TEST_F(LocalHubTest, AClientsOwnCloseLeavesNoSessionToResume) {
  start();
  LostSession lost;
  {
    WsClient client(server_->port());
    client.expectUpgraded();
    const json welcome = client.expect("welcome");
    lost = {welcome["session"], welcome["resume"]};
    subscribe(client, "stock:Q");
    client.sendClose(1001);  // a browser tab going away closes on purpose
    ASSERT_TRUE(client.waitEof());
  }
  ASSERT_TRUE(test::eventually([&] { return subscribers("stock:Q") == 0; }));
  EXPECT_EQ(hub_->sessions().counts().kept, 0u);
  auto client = connect();
  client->sendJson(resumeOp(lost, 4));
  EXPECT_EQ(client->expect("error")["code"], "RESUME_FAILED");
  expectNothingMore(*client);  // the connection goes on
}

TEST_F(LocalHubTest, AWrongResumeTokenIsRefusedAndTheSessionWaitsForTheRightOne) {
  start();
  const LostSession lost = lose({"stock:W"});
  auto client = connect();
  LostSession guessed = lost;
  guessed.resume.back() = guessed.resume.back() == '0' ? '1' : '0';
  client->sendJson(resumeOp(guessed, 1));
  const json refused = client->expect("error");
  EXPECT_EQ(refused["code"], "RESUME_FAILED");
  EXPECT_NE(refused.value("message", "").find("resume token"), std::string::npos);
  client->sendJson(resumeOp(lost, 2));
  EXPECT_EQ(client->expect("resumed")["channels"], json::array({"stock:W"}));
}

TEST_F(LocalHubTest, ResumeIsRefusedWhenTheWindowIsZero) {
  config_.resume.windowMs = 0;
  start();
  {
    auto lostClient = connect();
    subscribe(*lostClient, "stock:Z");
  }
  auto client = connect();
  client->sendJson(resumeOp({"s-0000000000000001", "r-1"}, 1));
  const json refused = client->expect("error");
  EXPECT_EQ(refused["code"], "RESUME_FAILED");
  EXPECT_NE(refused.value("message", "").find("resume.window_ms"), std::string::npos);
  EXPECT_EQ(hub_->sessions().counts().kept, 0u);
}

TEST_F(LocalHubTest, DedicatedEndpointSubscribesOnOpenAndOtherPathsAreRefused) {
  start();
  WsClient line(server_->port(), "/ws/line:X");
  line.expectUpgraded();
  line.expect("welcome");
  const json answer = line.expect("subscribed");
  EXPECT_EQ(answer["channel"], "line:X");
  EXPECT_FALSE(answer.contains("id"));
  const uint64_t seq = publish("line:X", {{"v", 1}});
  expectData(line.recvJson(), "line:X", seq);

  for (const char* path : {"/ws/stock:X", "/other", "/ws/bad%20channel"}) {
    SCOPED_TRACE(path);
    WsClient refused(server_->port(), path);
    EXPECT_EQ(refused.status(), 404) << refused.response();
    EXPECT_NE(refused.body().find("\"NOT_FOUND\""), std::string::npos);
  }
  hub_->beginDraining();
  WsClient late(server_->port());
  EXPECT_EQ(late.status(), 503) << late.response();
  EXPECT_NE(late.response().find("Retry-After:"), std::string::npos) << late.response();
  EXPECT_NE(late.body().find("\"UNAVAILABLE\""), std::string::npos);
}

// ---- Fan-out ---------------------------------------------------------------

TEST_F(LocalHubTest, EachClientReceivesExactlyItsChannelsInSeqOrder) {
  start();
  auto a = connect();
  subscribe(*a, "stock:A");
  auto b = connect();
  subscribe(*b, "stock:B");
  auto both = connect();
  both->sendJson(subscribeOp({"stock:A", "stock:B"}, 1));
  both->expect("subscribed");
  both->expect("subscribed");

  constexpr int kPerChannel = 30;
  for (int i = 1; i <= kPerChannel; ++i) {
    EXPECT_EQ(publish("stock:A", {{"i", i}}), static_cast<uint64_t>(i));
    EXPECT_EQ(publish("stock:B", {{"i", i}}), static_cast<uint64_t>(i));
    publish("stock:C", {{"i", i}});  // nobody's
  }
  for (auto [client, channel] : {std::pair{a.get(), "stock:A"}, std::pair{b.get(), "stock:B"}}) {
    SCOPED_TRACE(channel);
    for (int i = 1; i <= kPerChannel; ++i) {
      const json m = client->recvJson();
      expectData(m, channel, static_cast<uint64_t>(i));
      EXPECT_EQ(m["data"], json({{"i", i}}));
    }
    expectNothingMore(*client);
  }
  // Per channel: seq from 1, no holes, no repeats.
  uint64_t last[2] = {0, 0};
  for (int n = 0; n < 2 * kPerChannel; ++n) {
    const json m = both->recvJson();
    ASSERT_TRUE(isData(m)) << m.dump();
    const int k = m["channel"] == "stock:A" ? 0 : 1;
    EXPECT_EQ(m["channel"], k == 0 ? "stock:A" : "stock:B");
    EXPECT_EQ(m["seq"], ++last[k]);
  }
  expectNothingMore(*both);
}

// Publications that reach the worker together are fanned out run by run (a
// run: consecutive publications of one channel), subscriber by subscriber.
// Each subscriber must still get its channels' messages in the order they
// were published, across channels too, and a run must not lose or repeat
// anything, with or without the thread-local frame copies (16+ subscribers).
TEST_F(LocalHubTest, PublicationsArrivingTogetherKeepTheirOrderAcrossChannels) {
  start();
  std::vector<std::unique_ptr<WsClient>> many;  // enough for the thread-local copies
  for (int i = 0; i < 17; ++i) {
    many.push_back(connect());
    subscribe(*many.back(), "stock:A");
  }
  auto both = connect();
  both->sendJson(subscribeOp({"stock:A", "stock:B"}, 1));
  both->expect("subscribed");
  both->expect("subscribed");

  // Hold the worker, so that everything below is in its inbox at once.
  std::promise<void> release = holdWorker();
  std::vector<std::pair<std::string, int>> order;
  for (auto [channel, count] :
       {std::pair{"stock:A", 5}, {"stock:B", 3}, {"stock:A", 4}, {"stock:B", 1}, {"stock:A", 1}}) {
    for (int i = 0; i < count; ++i) {
      order.emplace_back(channel, static_cast<int>(order.size()));
      publish(channel, {{"n", order.back().second}});
    }
  }
  release.set_value();

  for (const auto& [channel, n] : order) {
    const json m = both->recvJson();
    ASSERT_TRUE(isData(m)) << m.dump();
    EXPECT_EQ(m["channel"], channel);
    EXPECT_EQ(m["data"]["n"], n);
  }
  expectNothingMore(*both);
  for (auto& client : many) {
    uint64_t seq = 0;
    for (const auto& [channel, n] : order) {
      if (channel != "stock:A") continue;
      const json m = client->recvJson();
      expectData(m, "stock:A", ++seq);
      EXPECT_EQ(m["data"]["n"], n);
    }
  }
  expectNothingMore(*many.front());
  // Namespace stock: 10 of stock:A to 18 subscribers, 4 of stock:B to one.
  EXPECT_EQ(hub_->statsFor("stock:A").delivered, 18u * 10u + 4u);
}

// A backlog larger than one pass takes (512) is fanned out over several
// passes: nothing lost, nothing repeated, in order.
TEST_F(LocalHubTest, ABacklogLongerThanAPassArrivesWholeAndInOrder) {
  start();
  auto client = connect();
  subscribe(*client, "stock:A");
  std::promise<void> release = holdWorker();
  constexpr int kBacklog = 1300;
  for (int i = 1; i <= kBacklog; ++i)
    publish("stock:A", {{"i", i}});
  release.set_value();
  for (int i = 1; i <= kBacklog; ++i) {
    const json m = client->recvJson();
    expectData(m, "stock:A", static_cast<uint64_t>(i));
    ASSERT_EQ(m["data"]["i"], i);
  }
  expectNothingMore(*client);
}

TEST_F(LocalHubTest, DuplicateSubscribeIsAnsweredWithoutDoubleDelivery) {
  start();
  auto client = connect();
  client->sendJson(subscribeOp({"stock:D", "stock:D"}, 1));
  EXPECT_EQ(client->expect("subscribed")["channel"], "stock:D");
  expectNothingMore(*client, 50);  // one answer for the channel named twice
  publish("stock:D", {{"n", 1}});
  publish("stock:D", {{"n", 2}});
  expectData(client->recvJson(), "stock:D", 1);
  expectData(client->recvJson(), "stock:D", 2);

  subscribe(*client, "stock:D", 2);  // again: answered, with the client's position
  client->sendJson(subscribeOp({"stock:D"}, 3));
  const json again = client->expect("subscribed");
  EXPECT_EQ(again["id"], 3);
  EXPECT_EQ(again["seq"], 2);
  EXPECT_EQ(subscribers("stock:D"), 1u);
  EXPECT_EQ(local_->subscriptionCount(), 1u);

  publish("stock:D", {{"n", 3}});
  expectData(client->recvJson(), "stock:D", 3);
  expectNothingMore(*client);  // once
}

TEST_F(LocalHubTest, RetainedValueFollowsSubscribedOnlyWhereTheNamespaceRetains) {
  start();
  publish("snap", {{"v", 1}});
  publish("snap", {{"v", 2}});
  publish("stock:R", {{"v", 1}});
  publish("stock:R", {{"v", 2}});
  auto client = connect();

  client->sendJson(subscribeOp({"snap"}, 1));
  EXPECT_EQ(client->expect("subscribed")["seq"], 2);
  const json retained = client->recvJson();  // right after
  expectData(retained, "snap", 2);
  EXPECT_EQ(retained["data"], json({{"v", 2}}));
  expectNothingMore(*client, 10);

  client->sendJson(subscribeOp({"stock:R"}, 2));
  EXPECT_EQ(client->expect("subscribed")["seq"], 2);
  expectNothingMore(*client, 11);  // history, but no retained value

  client->sendJson(subscribeOp({"snap:never"}, 3));  // retains, but nothing yet
  EXPECT_EQ(client->expect("subscribed")["seq"], 0);
  expectNothingMore(*client, 12);

  const uint64_t seq = publish("snap", {{"v", 3}});
  expectData(client->recvJson(), "snap", seq);  // and then the stream
  expectNothingMore(*client);
}

// ---- History ---------------------------------------------------------------

TEST_F(LocalHubTest, SinceReplaysExactlyTheMissedMessages) {
  start();
  for (int n = 1; n <= 4; ++n)
    publish("stock:H", {{"n", n}});
  auto client = connect();
  client->sendJson({{"op", "subscribe"},
                    {"id", 5},
                    {"channels", json::array({"stock:H"})},
                    {"since", json::object({{"stock:H", 1}})}});
  const json answer = client->expect("subscribed");
  EXPECT_EQ(answer["id"], 5);
  EXPECT_EQ(answer["seq"], 4);
  EXPECT_EQ(answer["recovered"], true);
  for (int n = 2; n <= 4; ++n) {
    const json m = client->recvJson();
    expectData(m, "stock:H", static_cast<uint64_t>(n));
    EXPECT_EQ(m["data"], json({{"n", n}}));
  }
  expectNothingMore(*client, 10);
  const uint64_t next = publish("stock:H", {{"n", 5}});
  expectData(client->recvJson(), "stock:H", next);  // then the stream, no gap
  expectNothingMore(*client);
  EXPECT_EQ(stats("stock").gapsSent, 0u);
}

// A replay and the fan-out of the same publications may meet in one pass
// (whichever of the two the worker takes first): each message arrives once.
TEST_F(LocalHubTest, AReplayMeetingTheFanOutOfTheSamePublicationsGivesEachOnce) {
  start();
  auto first = connect();
  subscribe(*first, "stock:R");  // publications reach this worker's inbox
  auto late = connect();
  std::promise<void> release = holdWorker();
  for (int n = 1; n <= 5; ++n)
    publish("stock:R", {{"n", n}});
  late->sendJson({{"op", "subscribe"},
                  {"id", 1},
                  {"channels", json::array({"stock:R"})},
                  {"since", json::object({{"stock:R", 0}})}});
  release.set_value();
  EXPECT_EQ(late->expect("subscribed")["seq"], 5);
  for (int n = 1; n <= 5; ++n) {
    expectData(first->recvJson(), "stock:R", static_cast<uint64_t>(n));
    const json m = late->recvJson();
    expectData(m, "stock:R", static_cast<uint64_t>(n));
    EXPECT_EQ(m["data"]["n"], n);
  }
  expectNothingMore(*late, 10);
  publish("stock:R", {{"n", 6}});
  expectData(first->recvJson(), "stock:R", 6);
  expectData(late->recvJson(), "stock:R", 6);
  expectNothingMore(*late);
}

// A since past the channel's seq is from another numbering (a restarted
// router, a new epoch): answered, but not as recovered.
TEST_F(LocalHubTest, SinceAheadOfTheChannelIsNotRecovered) {
  start();
  for (int n = 1; n <= 3; ++n)
    publish("stock:AHEAD", {{"n", n}});
  auto client = connect();
  client->sendJson({{"op", "subscribe"},
                    {"id", 1},
                    {"channels", json::array({"stock:AHEAD"})},
                    {"since", json::object({{"stock:AHEAD", 500}})}});
  const json answer = client->expect("subscribed");
  EXPECT_EQ(answer["seq"], 3);
  EXPECT_EQ(answer["recovered"], false);
  expectNothingMore(*client);
  publish("stock:AHEAD", {{"n", 4}});
  expectData(client->recvJson(), "stock:AHEAD", 4);
}

TEST_F(LocalHubTest, SinceBeyondHistoryAnnouncesAGapThenReplaysTheRest) {
  start();
  for (int n = 1; n <= 10; ++n)
    publish("stock:G", {{"n", n}});  // the history keeps 6..10
  auto client = connect();
  client->sendJson({{"op", "subscribe"},
                    {"id", 1},
                    {"channels", json::array({"stock:G"})},
                    {"since", json::object({{"stock:G", 2}})}});
  const json answer = client->expect("subscribed");
  EXPECT_EQ(answer["seq"], 10);
  EXPECT_EQ(answer["recovered"], false);
  expectGap(client->recvJson(), "stock:G", 3, 5, "not_in_history");
  for (int n = 6; n <= 10; ++n) {
    const json m = client->recvJson();
    expectData(m, "stock:G", static_cast<uint64_t>(n));
    EXPECT_EQ(m["data"], json({{"n", n}}));
  }
  expectNothingMore(*client, 10);

  // A namespace without history: the whole range is a gap, said at once.
  for (int n = 1; n <= 3; ++n)
    publish("drop:G", {{"n", n}});
  client->sendJson({{"op", "subscribe"},
                    {"id", 2},
                    {"channels", json::array({"drop:G"})},
                    {"since", json::object({{"drop:G", 1}})}});
  EXPECT_EQ(client->expect("subscribed")["recovered"], false);
  expectGap(client->recvJson(), "drop:G", 2, 3, "not_in_history");
  expectNothingMore(*client, 11);

  // Afterwards both streams go on without another gap.
  uint64_t seq = publish("stock:G", {{"n", 11}});
  expectData(client->recvJson(), "stock:G", seq);
  seq = publish("drop:G", {{"n", 4}});
  expectData(client->recvJson(), "drop:G", seq);
  expectNothingMore(*client);
}

// ---- Slow consumers --------------------------------------------------------

TEST_F(LocalHubTest, DropOldestKeepsTheNewestAndAnnouncesWhatItDropped) {
  start();
  const std::string channel = "drop:X";
  auto [slow, fast] = slowThenFast(channel);
  Reader reader(*fast, isEnd);

  const uint64_t blockedAt = blockWrites(*slow, channel);
  for (int n = 0; n < 10; ++n)
    publish(channel, {{"n", n}, {"end", n == 9}});
  const ConnectionView held = view(*slow);
  EXPECT_TRUE(held.writeBlocked);
  EXPECT_EQ(held.heldBack, 4u);  // queue_max_messages
  EXPECT_EQ(stats("drop").droppedSlowConsumer, 6u);

  // The fast subscriber on the same worker got everything meanwhile.
  expectComplete(reader.finish(), channel, blockedAt + 10);
  EXPECT_TRUE(view(*slow).writeBlocked);

  // Reading again: what went out before, the gap, then the newest four.
  for (uint64_t seq = 1; seq <= blockedAt; ++seq)
    expectData(slow->recvJson(), channel, seq);
  expectGap(slow->recvJson(), channel, blockedAt + 1, blockedAt + 6, "slow_consumer");
  for (int n = 6; n < 10; ++n) {
    const json m = slow->recvJson();
    expectData(m, channel, blockedAt + 1 + static_cast<uint64_t>(n));
    EXPECT_EQ(m["data"]["n"], n);
  }
  EXPECT_EQ(stats("drop").gapsSent, 1u);
  EXPECT_EQ(stats("drop").droppedConflated, 0u);

  // And is served as before.
  const uint64_t seq = publish(channel, {{"after", true}});
  expectData(slow->recvJson(), channel, seq);
  expectNothingMore(*slow);
  EXPECT_EQ(view(*slow).heldBack, 0u);
}

TEST_F(LocalHubTest, ConflateReplacesAHeldValueOfTheSameKeyAndKeepsOrder) {
  start();
  const std::string channel = "confl:X";
  auto [slow, fast] = slowThenFast(channel);
  Reader reader(*fast, isEnd);

  const uint64_t b = blockWrites(*slow, channel);
  const char* keys[] = {"k1", "k2", "k1", "k3", "k1"};  // seqs b+1 .. b+5
  for (int n = 0; n < 5; ++n)
    publish(channel, {{"key", keys[n]}, {"n", n}, {"end", n == 4}}, keys[n]);
  const ConnectionView held = view(*slow);
  EXPECT_TRUE(held.writeBlocked);
  EXPECT_EQ(held.heldBack, 3u);  // k2, k3 and the newest k1
  EXPECT_EQ(stats("confl").droppedConflated, 2u);
  EXPECT_EQ(stats("confl").droppedSlowConsumer, 0u);

  expectComplete(reader.finish(), channel, b + 5);

  for (uint64_t seq = 1; seq <= b; ++seq)
    expectData(slow->recvJson(), channel, seq);
  // Seq order is kept; each replaced value is announced where it would have been.
  expectGap(slow->recvJson(), channel, b + 1, b + 1, "conflated");
  json m = slow->recvJson();
  expectData(m, channel, b + 2);
  EXPECT_EQ(m["data"]["key"], "k2");
  expectGap(slow->recvJson(), channel, b + 3, b + 3, "conflated");
  m = slow->recvJson();
  expectData(m, channel, b + 4);
  EXPECT_EQ(m["data"]["key"], "k3");
  m = slow->recvJson();
  expectData(m, channel, b + 5);
  EXPECT_EQ(m["data"], json({{"key", "k1"}, {"n", 4}, {"end", true}}));  // the newest k1
  expectNothingMore(*slow);
  EXPECT_EQ(stats("confl").gapsSent, 2u);
}

TEST_F(LocalHubTest, ConflateWithoutAMatchingKeyDropsTheOldest) {
  start();
  const std::string channel = "confl:Y";
  auto slow = connect("/ws", kTinyReceiveBuffer);
  subscribe(*slow, channel);
  const uint64_t b = blockWrites(*slow, channel);
  const char* keys[] = {"k0", "k1", "k2", "k3", "k4", "k5"};  // six different keys
  for (int n = 0; n < 6; ++n)
    publish(channel, {{"n", n}}, keys[n]);
  EXPECT_EQ(view(*slow).heldBack, 4u);
  EXPECT_EQ(stats("confl").droppedSlowConsumer, 2u);
  EXPECT_EQ(stats("confl").droppedConflated, 0u);
  for (uint64_t seq = 1; seq <= b; ++seq)
    expectData(slow->recvJson(), channel, seq);
  expectGap(slow->recvJson(), channel, b + 1, b + 2, "slow_consumer");
  for (uint64_t seq = b + 3; seq <= b + 6; ++seq)
    expectData(slow->recvJson(), channel, seq);
  expectNothingMore(*slow);
}

TEST_F(LocalHubTest, DisconnectClosesWith4008AndCountsOnce) {
  start();
  const std::string channel = "strict:X";
  auto [slow, fast] = slowThenFast(channel);
  Reader reader(*fast, isEnd);

  const uint64_t blockedAt = blockWrites(*slow, channel);
  for (int n = 0; n < 3; ++n)
    publish(channel, {{"n", n}});
  ConnectionView state = view(*slow);
  EXPECT_TRUE(state.open);
  EXPECT_EQ(state.heldBack, 3u);  // queue_max_messages: still within bounds
  EXPECT_EQ(stats("strict").disconnectedSlowConsumer, 0u);

  publish(channel, {{"n", 3}});  // one more than it may hold
  EXPECT_FALSE(view(*slow).open);
  EXPECT_EQ(stats("strict").disconnectedSlowConsumer, 1u);
  publish(channel, {{"n", 4}});
  publish(channel, {{"n", 5}, {"end", true}});
  EXPECT_EQ(stats("strict").disconnectedSlowConsumer, 1u) << "counted again";
  EXPECT_EQ(stats("strict").droppedSlowConsumer, 0u);

  expectComplete(reader.finish(), channel, blockedAt + 6);

  // What was already on its way arrives whole and without holes, then the close.
  uint64_t next = 1;
  while (true) {
    const Frame frame = slow->recvFrame();
    if (frame.opcode == 0x8) {
      EXPECT_EQ(WsClient::closeCode(frame), 4008);
      break;
    }
    ASSERT_EQ(frame.opcode, 0x1);
    expectData(json::parse(frame.payload), channel, next++);
  }
  EXPECT_LE(next - 1, blockedAt);  // nothing held back was sent
  slow->sendClose(4008);
  EXPECT_TRUE(slow->waitEof());
  slow.reset();  // the connection ends: its subscription with it
  EXPECT_TRUE(eventually([&] { return subscribers(channel) == 1; }));
  EXPECT_EQ(stats("strict").disconnectedSlowConsumer, 1u);
}

TEST_F(LocalHubTest, DisconnectCountsOnceWhenAReplayOverflowsTheHeldBackQueue) {
  start();
  auto slow = connect("/ws", kTinyReceiveBuffer);
  subscribe(*slow, "strict:A");
  blockWrites(*slow, "strict:A");
  for (int n = 1; n <= 25; ++n)
    publish("strict:B", {{"n", n}});  // its history keeps 6..25
  // A blocked client asks for a replay of twenty into a queue of three,
  // and for 1..5, which history no longer holds.
  slow->sendJson({{"op", "subscribe"},
                  {"id", 2},
                  {"channels", json::array({"strict:B"})},
                  {"since", json::object({{"strict:B", 0}})}});
  EXPECT_TRUE(eventually([&] { return !view(*slow).open; }));
  EXPECT_EQ(stats("strict").disconnectedSlowConsumer, 1u);
  EXPECT_EQ(stats("strict").gapsSent, 0u);  // no gap reaches a closed connection
  uint16_t code = 0;
  while (code == 0) {
    const Frame frame = slow->recvFrame();
    if (frame.opcode == 0x8) code = WsClient::closeCode(frame);
  }
  EXPECT_EQ(code, 4008);
}

// One pass's publications of a channel go to each subscriber's send queue at
// once: a run over the queue's limit closes that connection with 1008 (and
// nothing of it counts as delivered); other channels' subscribers go on.
TEST_F(LocalHubTest, ARunOverTheSendQueueLimitClosesThatConnectionAlone) {
  start({}, 16 * 1024);
  auto big = connect();
  subscribe(*big, "stock:O");
  auto other = connect();
  subscribe(*other, "drop:P");
  std::promise<void> release = holdWorker();
  const std::string kilobyte(1024, 'x');
  for (int n = 1; n <= 20; ++n)
    publish("stock:O", {{"n", n}, {"pad", kilobyte}});  // 20 KB in one run
  publish("drop:P", {{"n", 1}});
  release.set_value();

  const Frame frame = big->recvFrame();  // the queued run is dropped: the close comes first
  ASSERT_EQ(frame.opcode, 0x8);
  EXPECT_EQ(WsClient::closeCode(frame), 1008);
  EXPECT_EQ(frame.payload.substr(2), "send queue overflow");
  EXPECT_EQ(server_->worker(0).stats().overflowCloses.load(), 1u);
  EXPECT_EQ(hub_->statsFor("stock:O").delivered, 0u) << "namespace stock";

  expectData(other->recvJson(), "drop:P", 1);
  publish("drop:P", {{"n", 2}});
  expectData(other->recvJson(), "drop:P", 2);
}

// ---- Subscriptions ending ---------------------------------------------------

TEST_F(LocalHubTest, UnsubscribeDropsWhatWasHeldBackForThatChannel) {
  start();
  auto slow = connect("/ws", kTinyReceiveBuffer);
  subscribe(*slow, "drop:A", 1);
  subscribe(*slow, "drop:B", 2);
  const uint64_t blockedAt = blockWrites(*slow, "drop:A");
  for (int n = 0; n < 3; ++n)
    publish("drop:A", {{"n", n}});
  EXPECT_EQ(view(*slow).heldBack, 3u);

  slow->sendJson({{"op", "unsubscribe"}, {"id", 9}, {"channels", json::array({"drop:A"})}});
  ASSERT_TRUE(
      eventually([&] { return view(*slow).subscriptions == std::vector<std::string>{"drop:B"}; }));
  ConnectionView state = view(*slow);
  EXPECT_TRUE(state.writeBlocked);
  EXPECT_EQ(state.heldBack, 0u);
  EXPECT_EQ(subscribers("drop:A"), 0u);

  // The queue is drop:B's alone now: four fit, nothing is dropped.
  for (int n = 1; n <= 4; ++n)
    publish("drop:B", {{"n", n}});
  EXPECT_EQ(view(*slow).heldBack, 4u);
  EXPECT_EQ(stats("drop").droppedSlowConsumer, 0u);

  for (uint64_t seq = 1; seq <= blockedAt; ++seq)
    expectData(slow->recvJson(), "drop:A", seq);
  const json answer = slow->expect("unsubscribed");
  EXPECT_EQ(answer["id"], 9);
  EXPECT_EQ(answer["channel"], "drop:A");
  for (uint64_t seq = 1; seq <= 4; ++seq)
    expectData(slow->recvJson(), "drop:B", seq);  // no gap, nothing of drop:A
  expectNothingMore(*slow);
}

TEST_F(LocalHubTest, ClosingAConnectionRemovesItsSubscriptions) {
  start();
  auto a = connect();
  a->sendJson(subscribeOp({"stock:A", "stock:B"}, 1));
  a->expect("subscribed");
  a->expect("subscribed");
  auto b = connect();
  subscribe(*b, "stock:A");
  EXPECT_EQ(subscribers("stock:A"), 2u);
  EXPECT_EQ(subscribers("stock:B"), 1u);
  EXPECT_EQ(local_->subscriptionCount(), 3u);
  EXPECT_TRUE(hub_->hasSubscribers("stock:B"));

  // A close handshake.
  a->sendClose(1000);
  const Frame frame = a->recvFrame();
  EXPECT_EQ(frame.opcode, 0x8);
  EXPECT_EQ(WsClient::closeCode(frame), 1000);
  EXPECT_TRUE(a->waitEof());
  a.reset();
  EXPECT_TRUE(eventually([&] { return local_->subscriptionCount() == 1; }));
  EXPECT_EQ(subscribers("stock:A"), 1u);
  EXPECT_EQ(subscribers("stock:B"), 0u);
  EXPECT_FALSE(hub_->hasSubscribers("stock:B"));
  EXPECT_FALSE(postedToWorker("stock:B"));  // publications no longer come to this worker
  EXPECT_TRUE(postedToWorker("stock:A"));

  // A connection that just drops.
  b.reset();
  EXPECT_TRUE(eventually([&] { return local_->subscriptionCount() == 0; }));
  EXPECT_EQ(subscribers("stock:A"), 0u);
  EXPECT_FALSE(postedToWorker("stock:A"));
  EXPECT_EQ(server_->worker(0).stats().open.load(), 0u);
}

// Subscribing to junk names and leaving them must not fill the channel
// table: a channel nobody published on goes with its last subscriber.
TEST_F(LocalHubTest, ChannelsLeftByTheirLastSubscriberDoNotFillTheChannelTable) {
  HubLimits limits;
  limits.maxChannels = 10;
  start(limits);
  auto churner = connect();
  for (int i = 0; i < 40; ++i) {
    const std::string junk = "junk:" + std::to_string(i);
    subscribe(*churner, junk, i);
    churner->sendJson({{"op", "unsubscribe"}, {"id", i}, {"channels", {junk}}});
    EXPECT_EQ(churner->expect("unsubscribed").value("channel", ""), junk);
  }
  EXPECT_EQ(hub_->channelCount(), 0u);

  // At the cap, a new channel is refused with its own code, and only it.
  auto holder = connect();
  for (int i = 0; i < 10; ++i)
    subscribe(*holder, "stock:S" + std::to_string(i), i);
  holder->sendJson(subscribeOp({"stock:NEW"}, 77));
  const json refused = holder->expect("error");
  EXPECT_EQ(refused.value("code", ""), "CHANNEL_LIMIT");
  EXPECT_EQ(refused.value("id", -1), 77);
  EXPECT_EQ(hub_->channelLimitRefusals(), 1u);
  subscribe(*churner, "stock:S3", 5);  // an existing channel is still open to all
}

// ---- Overload: the worker's bounded inbox ----------------------------------

constexpr uint32_t kTinyInbox = 16;

// Past the inbox's cap the oldest of the channel goes; every subscriber of it
// gets one gap over exactly what it missed, then the rest in order.
TEST_F(LocalHubTest, AFullInboxShedsTheOldestOfTheChannelWithAnExactGap) {
  config_.limits.workerInboxMessages = kTinyInbox;
  config_.admin.publishBacklog = 0;
  start();
  auto first = connect();
  subscribe(*first, "stock:A");
  auto second = connect();
  subscribe(*second, "stock:A");
  std::promise<void> release = holdWorker();
  for (int i = 1; i <= 40; ++i) {
    publish("stock:A", {{"i", i}});
    EXPECT_LE(local_->inboxDepth(), kTinyInbox);
  }
  EXPECT_EQ(local_->inboxDepth(), kTinyInbox);
  EXPECT_EQ(local_->inboxShed(), 24u);
  release.set_value();
  for (WsClient* client : {first.get(), second.get()}) {
    expectGap(client->recvJson(), "stock:A", 1, 24, "overload");
    for (uint64_t seq = 25; seq <= 40; ++seq)
      expectData(client->recvJson(), "stock:A", seq);
  }
  // And it is served as before.
  publish("stock:A", {{"i", 41}});
  expectData(first->recvJson(), "stock:A", 41);
  expectNothingMore(*first);
  EXPECT_EQ(local_->inboxDepth(), 0u);
  EXPECT_EQ(stats("stock:A").droppedOverload, 2u * 24u);  // per subscriber who missed them
  EXPECT_EQ(stats("stock:A").gapsSent, 2u);
}

// In a conflate namespace the same key goes first: a hole in the middle of
// a run, announced between its two contiguous pieces.
TEST_F(LocalHubTest, ConflateShedsTheSameKeyAndTheRunIsSplitAtTheHole) {
  config_.limits.workerInboxMessages = kTinyInbox;
  config_.admin.publishBacklog = 0;
  start();
  auto client = connect();
  subscribe(*client, "confl:X");
  std::promise<void> release = holdWorker();
  for (uint32_t k = 0; k < kTinyInbox; ++k) {
    std::string key = "k";  // appended: GCC 12 warns (-Wrestrict) on "k" + to_string
    key += std::to_string(k);
    publish("confl:X", {{"k", k}}, key);
  }
  publish("confl:X", {{"k", 3}}, "k3");  // replaces seq 4
  release.set_value();
  for (uint64_t seq = 1; seq <= 3; ++seq)
    expectData(client->recvJson(), "confl:X", seq);
  expectGap(client->recvJson(), "confl:X", 4, 4, "overload");
  for (uint64_t seq = 5; seq <= kTinyInbox + 1; ++seq)
    expectData(client->recvJson(), "confl:X", seq);
  expectNothingMore(*client);
}

// A channel with nothing left in the inbox after its shed publication: no
// later one would show the hole, so it is announced at once.
TEST_F(LocalHubTest, AShedPublicationWithNothingAfterItIsAnnouncedAtOnce) {
  config_.limits.workerInboxMessages = kTinyInbox;
  config_.admin.publishBacklog = 0;
  start();
  auto quiet = connect();
  subscribe(*quiet, "stock:A");
  auto busy = connect();
  busy->sendJson(subscribeOp({"stock:B", "stock:C"}, 1));
  busy->expect("subscribed");
  busy->expect("subscribed");
  std::promise<void> release = holdWorker();
  publish("stock:A", {{"n", 1}});
  for (uint32_t i = 1; i < kTinyInbox; ++i)
    publish("stock:B", {{"n", i}});
  publish("stock:C", {{"n", 1}});  // C has nothing there: the oldest of any goes
  release.set_value();
  expectGap(quiet->recvJson(), "stock:A", 1, 1, "overload");
  expectNothingMore(*quiet);
  const uint64_t seq = publish("stock:A", {{"n", 2}});
  expectData(quiet->recvJson(), "stock:A", seq);
}

TEST_F(LocalHubTest, PublicationsWaitingPastTheMaxDelayAreShed) {
  config_.limits.workerInboxMessages = kTinyInbox;
  config_.limits.workerInboxMaxDelayMs = 200;
  config_.admin.publishBacklog = 0;
  start();
  auto client = connect();
  subscribe(*client, "stock:A");
  std::promise<void> release = holdWorker();
  for (int i = 1; i <= 3; ++i)
    publish("stock:A", {{"i", i}});
  // The worker is held until they are older than the max delay.
  const uint64_t until = net::EventLoop::monotonicNs() + 250 * 1000000ull;
  while (net::EventLoop::monotonicNs() < until)
    std::this_thread::yield();
  release.set_value();
  expectGap(client->recvJson(), "stock:A", 1, 3, "overload");
  const uint64_t seq = publish("stock:A", {{"i", 4}});
  expectData(client->recvJson(), "stock:A", seq);
  expectNothingMore(*client);
  EXPECT_EQ(local_->inboxShed(), 3u);
  EXPECT_EQ(stats("stock:A").droppedOverload, 3u);
}

// A slow subscriber whose own held-back queue dropped messages too gets one
// gap over both holes: its range exact, after what it had and before what
// it gets.
TEST_F(LocalHubTest, ShedAndHeldBackDropsTogetherLeaveExactGaps) {
  config_.limits.workerInboxMessages = kTinyInbox;
  config_.admin.publishBacklog = 0;
  start();
  const std::string channel = "drop:X";
  auto [slow, fast] = slowThenFast(channel);
  Reader reader(*fast, isEnd);
  const uint64_t blockedAt = blockWrites(*slow, channel);
  std::promise<void> release = holdWorker();
  for (int n = 1; n <= 30; ++n)
    publish(channel, {{"n", n}, {"end", n == 30}});
  release.set_value();

  const std::vector<json> got = reader.finish();
  ASSERT_EQ(got.size(), blockedAt + 1 + 16);
  for (uint64_t seq = 1; seq <= blockedAt; ++seq)
    expectData(got[seq - 1], channel, seq);
  expectGap(got[blockedAt], channel, blockedAt + 1, blockedAt + 14, "overload");
  for (uint64_t k = 0; k < 16; ++k)
    expectData(got[blockedAt + 1 + k], channel, blockedAt + 15 + k);

  // The slow one held the newest four (queue_max_messages) and dropped 12.
  for (uint64_t seq = 1; seq <= blockedAt; ++seq)
    expectData(slow->recvJson(), channel, seq);
  const json gap = slow->recvJson();
  EXPECT_EQ(gap.value("type", ""), "gap") << gap.dump();
  EXPECT_EQ(gap.value("from", uint64_t{0}), blockedAt + 1);
  EXPECT_EQ(gap.value("to", uint64_t{0}), blockedAt + 26);
  for (uint64_t seq = blockedAt + 27; seq <= blockedAt + 30; ++seq)
    expectData(slow->recvJson(), channel, seq);
  expectNothingMore(*slow);
  EXPECT_EQ(stats("drop").droppedOverload, 2u * 14u);
  EXPECT_EQ(stats("drop").droppedSlowConsumer, 12u);
}

// Past admin.publish_backlog the hub refuses with 429 OVERLOADED, naming
// the setting, and accepts again once the worker has caught up.
TEST_F(LocalHubTest, PublishIsRefusedPastTheBacklogAndAcceptedOnceDrained) {
  config_.limits.workerInboxMessages = kTinyInbox;
  config_.admin.publishBacklog = 8;
  start();
  auto client = connect();
  subscribe(*client, "stock:A");
  std::promise<void> release = holdWorker();
  for (int i = 1; i <= 8; ++i)
    publish("stock:A", {{"i", i}});
  Publication refusedOne;
  refusedOne.channel = "stock:A";
  refusedOne.data = "{}";
  const PublishResult refused = hub_->publish(std::move(refusedOne));
  EXPECT_EQ(refused.error, PublishError::Overloaded);
  EXPECT_EQ(httpStatusOf(refused.error), 429);
  EXPECT_EQ(errorCodeOf(refused.error), "OVERLOADED");
  EXPECT_NE(refused.message.find("admin.publish_backlog"), std::string::npos) << refused.message;
  EXPECT_EQ(stats("stock:A").published, 8u);  // the refused one took no seq
  release.set_value();
  for (uint64_t seq = 1; seq <= 8; ++seq)
    expectData(client->recvJson(), "stock:A", seq);
  onWorker([] { return true; });
  EXPECT_EQ(local_->inboxDepth(), 0u);
  EXPECT_EQ(publish("stock:A", {{"i", 9}}), 9u);
  expectData(client->recvJson(), "stock:A", 9);
  EXPECT_EQ(local_->inboxShed(), 0u);
}

// Past admin.publish_backlog_ms of waiting, the hub refuses with 429
// OVERLOADED naming that setting, before any publication is shed by age.
TEST_F(LocalHubTest, PublishIsRefusedOnceTheOldestWaitingHasWaitedTheBacklogTime) {
  config_.admin.publishBacklog = 0;
  config_.admin.publishBacklogMs = 50;
  config_.limits.workerInboxMaxDelayMs = 60000;
  start();
  auto client = connect();
  subscribe(*client, "stock:A");
  std::promise<void> release = holdWorker();
  EXPECT_EQ(publish("stock:A", {{"i", 1}}), 1u);
  // Accepted until the first one has waited 50 ms, then refused.
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  PublishResult result;
  uint64_t accepted = 1;
  while (std::chrono::steady_clock::now() < deadline) {
    Publication next;
    next.channel = "stock:A";
    next.data = "{}";
    result = hub_->publish(std::move(next));
    if (!result.ok()) break;
    accepted = result.seq;
    // Paced, so that the 50 ms hold a few dozen publications, not the
    // inbox's cap.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(result.error, PublishError::Overloaded);
  EXPECT_NE(result.message.find("admin.publish_backlog_ms"), std::string::npos) << result.message;
  release.set_value();
  for (uint64_t seq = 1; seq <= accepted; ++seq)
    expectData(client->recvJson(), "stock:A", seq);
  onWorker([] { return true; });
  EXPECT_EQ(publish("stock:A", {{"i", 2}}), accepted + 1);
  expectData(client->recvJson(), "stock:A", accepted + 1);
  EXPECT_EQ(local_->inboxShed(), 0u);
}

// A batch is handed to the workers whole, then each is woken once: every
// publication arrives, in order, across channels.
TEST_F(LocalHubTest, ABatchArrivesWholeAndInOrderAfterOneWakeUp) {
  start();
  auto client = connect();
  subscribe(*client, "stock:A");
  subscribe(*client, "stock:B");
  std::vector<Publication> batch;
  for (int i = 0; i < 300; ++i) {
    Publication publication;
    publication.channel = i % 3 == 0 ? "stock:B" : "stock:A";
    publication.data = "{\"i\":" + std::to_string(i) + "}";
    batch.push_back(std::move(publication));
  }
  const std::vector<PublishResult> results = hub_->publishBatch(std::move(batch));
  ASSERT_EQ(results.size(), 300u);
  uint64_t a = 0;
  uint64_t b = 0;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].message;
    EXPECT_EQ(results[i].seq, i % 3 == 0 ? ++b : ++a);
  }
  a = 0;
  b = 0;
  for (int i = 0; i < 300; ++i) {
    const json message = client->recvJson();
    const bool onB = i % 3 == 0;
    expectData(message, onB ? "stock:B" : "stock:A", onB ? ++b : ++a);
    EXPECT_EQ(message["data"]["i"], i);
  }
}

}  // namespace
}  // namespace wsr::hub
