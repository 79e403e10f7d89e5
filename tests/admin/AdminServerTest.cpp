#include "admin/AdminServer.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "telemetry/TraceContext.h"

namespace wsr::admin {
namespace {

using nlohmann::json;

constexpr const char* kToken = "publisher-token-1";
constexpr size_t kMaxPublishBytes = 1024;

// Records publications and numbers them per channel, like the hub.
class FakeSink : public hub::PublishSink {
 public:
  hub::PublishResult publish(hub::Publication&& publication) override {
    std::lock_guard lock(mutex_);
    received_.push_back(publication);
    if (unavailable_) return {hub::PublishError::Unavailable, "broker is down", 0};
    if (overloaded_) return {hub::PublishError::Overloaded, "workers behind", 0};
    return {hub::PublishError::None, "", ++seqs_[publication.channel]};
  }
  bool hasSubscribers(std::string_view) const override { return false; }

  std::vector<hub::Publication> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  void setOverloaded(bool overloaded) {
    std::lock_guard lock(mutex_);
    overloaded_ = overloaded;
  }
  void setUnavailable(bool unavailable) {
    std::lock_guard lock(mutex_);
    unavailable_ = unavailable;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<hub::Publication> received_;
  std::map<std::string, uint64_t> seqs_;
  bool unavailable_ = false;
  bool overloaded_ = false;
};

class FakeBackend : public AdminBackend {
 public:
  Health health() override {
    std::lock_guard lock(mutex_);
    return health_;
  }
  std::string statsJson() override { return R"({"connections":3,"published":10})"; }
  std::string channelsJson() override { return R"({"channels":[{"name":"market"}]})"; }
  std::string connectionsJson() override { return R"({"connections":[]})"; }
  std::string metricsText() override { return "# TYPE wsrouter_ready gauge\nwsrouter_ready 1\n"; }
  size_t disconnectUser(const std::string& user) override {
    std::lock_guard lock(mutex_);
    disconnected_.push_back(user);
    return 2;
  }

  void setHealth(Health health) {
    std::lock_guard lock(mutex_);
    health_ = std::move(health);
  }
  std::vector<std::string> disconnected() {
    std::lock_guard lock(mutex_);
    return disconnected_;
  }

 private:
  std::mutex mutex_;
  Health health_{true, "", true, ""};
  std::vector<std::string> disconnected_;
};

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "wsr-admin-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    tokenFile_ = dir_ + "/publishers";
    writeTokens(std::string(kToken) + "\n");
    config_.host = "127.0.0.1";
    config_.port = 0;
    config_.publisherTokenFile = tokenFile_;
    config_.maxPublishBytes = kMaxPublishBytes;
  }
  void TearDown() override {
    if (server_) server_->stop();
    unlink(tokenFile_.c_str());
    rmdir(dir_.c_str());
  }

  void writeTokens(const std::string& text) {
    std::ofstream(tokenFile_, std::ios::binary | std::ios::trunc) << text;
  }

  void start() {
    server_ = std::make_unique<AdminServer>(config_, sink_, backend_);
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
    ASSERT_NE(server_->port(), 0);
  }

  httplib::Client client() {
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_read_timeout(10, 0);
    return cli;
  }

  httplib::Result post(const std::string& path, const std::string& body,
                       const std::string& token = kToken, httplib::Headers headers = {}) {
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client().Post(path.c_str(), headers, body, "application/json");
  }

  httplib::Result get(const std::string& path) { return client().Get(path.c_str()); }

  // Checks PROTOCOL.md's error shape, exactly, and returns the message.
  static std::string expectError(const httplib::Result& res, int status, const std::string& code) {
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    const json body = json::parse(res->body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body.size() == 1 && body.contains("error")) << res->body;
    if (!body.is_object() || !body.contains("error")) return "";
    const json& error = body["error"];
    EXPECT_EQ(error.size(), 2u) << res->body;
    EXPECT_EQ(error.value("code", ""), code) << res->body;
    EXPECT_TRUE(error["message"].is_string()) << res->body;
    return error.value("message", "");
  }

  std::string dir_;
  std::string tokenFile_;
  config::AdminConfig config_;
  FakeSink sink_;
  FakeBackend backend_;
  std::unique_ptr<AdminServer> server_;
};

// ---- publish ----

TEST_F(AdminServerTest, PublishAcceptsAndPassesEverythingThrough) {
  start();
  const std::string body =
      R"({"channel":"stock:AAPL","type":"price_update","key":"AAPL","data":{"price": 231.40}})";
  auto res = post("/api/v1/publish", body, kToken,
                  {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"channel":"stock:AAPL","seq":1})"));

  res = post("/api/v1/publish", R"({"channel":"stock:AAPL","data":2})");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["seq"], 2);

  const auto received = sink_.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].channel, "stock:AAPL");
  EXPECT_EQ(received[0].type, "price_update");
  EXPECT_EQ(received[0].key, "AAPL");
  EXPECT_EQ(received[0].data, R"({"price": 231.40})");
  // Tracing off: the caller's context passes on as it came, a value.
  EXPECT_EQ(telemetry::formatTraceparent(received[0].trace),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(received[1].type, "message");
  EXPECT_FALSE(received[1].trace.valid());
}

// The header is parsed at the wire: what does not parse is no trace.
TEST_F(AdminServerTest, AnInvalidTraceparentPassesNoTrace) {
  start();
  auto res = post("/api/v1/publish", R"({"channel":"stock:A","data":1})", kToken,
                  {{"traceparent", "00-abc-def-01"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  const auto received = sink_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_FALSE(received[0].trace.valid());
}

TEST_F(AdminServerTest, PublishKeepsDataByteForByte) {
  start();
  for (const std::string data : {R"({"a": 1.50})", "[1.0, 2E3,\n -0.0]", R"("\u00e9")", "1.50"}) {
    auto res = post("/api/v1/publish", "{\"channel\":\"market\",\"data\": " + data + " }");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(sink_.received().back().data, data);
  }
}

TEST_F(AdminServerTest, PublishErrorsHaveTheDocumentedStatusCodeAndMessage) {
  start();
  struct Case {
    std::string body;
    int status;
    std::string code;
    std::string mentions;
  };
  const Case cases[] = {
      {"not json", 400, "BAD_REQUEST", "not valid JSON"},
      {"", 400, "BAD_REQUEST", "not valid JSON"},
      {"[1,2]", 400, "BAD_REQUEST", "JSON object"},
      {R"({"data":{}})", 400, "BAD_REQUEST", "field 'channel' is missing"},
      {R"({"channel":42,"data":{}})", 400, "BAD_REQUEST", "field 'channel' must be a string"},
      {R"({"channel":"no spaces","data":{}})", 404, "INVALID_CHANNEL", "field 'channel'"},
      {R"({"channel":"market"})", 400, "BAD_REQUEST", "field 'data' is missing"},
      {R"({"channel":"market","data":{"a":}})", 400, "BAD_REQUEST", "not valid JSON"},
      {R"({"channel":"market","type":1,"data":{}})", 400, "BAD_REQUEST", "field 'type'"},
      {R"({"channel":"market","type":"<b>","data":{}})", 400, "BAD_REQUEST", "field 'type'"},
      {R"({"channel":"market","key":[],"data":{}})", 400, "BAD_REQUEST", "field 'key'"},
      {"{\"channel\":\"market\",\"key\":\"" + std::string(257, 'k') + "\",\"data\":{}}", 400,
       "BAD_REQUEST", "field 'key'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    const std::string message = expectError(post("/api/v1/publish", c.body), c.status, c.code);
    EXPECT_NE(message.find(c.mentions), std::string::npos) << message;
  }
  EXPECT_TRUE(sink_.received().empty());
}

TEST_F(AdminServerTest, PublishTooLargeAnswers413WithTheJsonBody) {
  start();
  const std::string big =
      "{\"channel\":\"market\",\"data\":\"" + std::string(kMaxPublishBytes, 'x') + "\"}";
  std::string message = expectError(post("/api/v1/publish", big), 413, "TOO_LARGE");
  EXPECT_NE(message.find("max_publish_bytes"), std::string::npos) << message;

  // Exactly at the limit is accepted.
  std::string exact = "{\"channel\":\"market\",\"data\":\"\"}";
  exact.insert(exact.size() - 2, std::string(kMaxPublishBytes - exact.size(), 'y'));
  ASSERT_EQ(exact.size(), kMaxPublishBytes);
  auto res = post("/api/v1/publish", exact);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;

  // The batch route has the same limit.
  message =
      expectError(post("/api/v1/publish/batch", "{\"messages\":[" + big + "]}"), 413, "TOO_LARGE");
  EXPECT_TRUE(sink_.received().size() == 1u);
}

TEST_F(AdminServerTest, ChunkedBodiesAre411AndCompressedOnes415) {
  start();
  httplib::Client cli("127.0.0.1", server_->port());
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  cli.set_bearer_token_auth(kToken);
  const std::string body = R"({"channel":"market","data":0})";

  // Chunked: no Content-Length to frame the body by; the connection closes.
  auto res = cli.Post(
      "/api/v1/publish",
      [&body](size_t offset, httplib::DataSink& sink) {
        if (offset < body.size()) {
          sink.write(body.data() + offset, std::min<size_t>(8, body.size() - offset));
        } else {
          sink.done();
        }
        return true;
      },
      "application/json");
  std::string message = expectError(res, 411, "BAD_REQUEST");
  EXPECT_NE(message.find("Content-Length"), std::string::npos) << message;
  EXPECT_EQ(res->get_header_value("Connection"), "close");

  // The client reconnects; the next request is read correctly.
  res = cli.Post("/api/v1/publish", R"({"channel":"market","data":1})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;

  // gzip: refused, and the connection stays in step (the length is known).
  cli.set_compress(true);
  message = expectError(cli.Post("/api/v1/publish", body, "application/json"), 415, "BAD_REQUEST");
  EXPECT_NE(message.find("Content-Encoding"), std::string::npos) << message;
  cli.set_compress(false);
  res = cli.Post("/api/v1/publish", R"({"channel":"market","data":2})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(sink_.received().size(), 2u);
}

TEST_F(AdminServerTest, TooLargeBodyIs413AndTheConnectionStaysUsable) {
  start();
  httplib::Client cli("127.0.0.1", server_->port());
  cli.set_keep_alive(true);
  cli.set_bearer_token_auth(kToken);
  const std::string big =
      "{\"channel\":\"market\",\"data\":\"" + std::string(64 * kMaxPublishBytes, 'x') + "\"}";
  expectError(cli.Post("/api/v1/publish", big, "application/json"), 413, "TOO_LARGE");
  auto res = cli.Post("/api/v1/publish", R"({"channel":"market","data":1})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(AdminServerTest, KeepAliveCarriesManyRequests) {
  start();
  httplib::Client cli("127.0.0.1", server_->port());
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  cli.set_bearer_token_auth(kToken);
  for (int i = 1; i <= 50; ++i) {
    auto res = cli.Post("/api/v1/publish", R"({"channel":"index","data":{}})", "application/json");
    ASSERT_TRUE(res) << i;
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(json::parse(res->body)["seq"], i);
  }
}

TEST_F(AdminServerTest, UnavailablePassesThroughFromTheSink) {
  start();
  sink_.setUnavailable(true);
  const std::string message =
      expectError(post("/api/v1/publish", R"({"channel":"market","data":{}})"), 503, "UNAVAILABLE");
  EXPECT_EQ(message, "broker is down");
}

// A refusal for overload is a 429 with Retry-After, for a single
// publication and for a batch's (whose answer is 200, per message).
TEST_F(AdminServerTest, OverloadedAnswers429WithRetryAfter) {
  start();
  sink_.setOverloaded(true);
  auto single = post("/api/v1/publish", R"({"channel":"market","data":{}})");
  EXPECT_EQ(expectError(single, 429, "OVERLOADED"), "workers behind");
  EXPECT_EQ(single->get_header_value("Retry-After"), "1");
  auto batch = post("/api/v1/publish/batch", R"({"messages":[{"channel":"market","data":1}]})");
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->status, 200);
  EXPECT_EQ(batch->get_header_value("Retry-After"), "1");
  EXPECT_EQ(json::parse(batch->body)["results"][0]["error"]["code"], "OVERLOADED");
  sink_.setOverloaded(false);
  auto accepted = post("/api/v1/publish", R"({"channel":"market","data":{}})");
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 200);
  EXPECT_FALSE(accepted->has_header("Retry-After"));
}

// ---- publisher authentication ----

TEST_F(AdminServerTest, PublishNeedsAValidBearerToken) {
  start();
  const std::string body = R"({"channel":"market","data":{}})";
  auto check = [&](const httplib::Result& res, const std::string& mentions) {
    const std::string message = expectError(res, 401, "UNAUTHORIZED");
    EXPECT_NE(message.find(mentions), std::string::npos) << message;
    EXPECT_EQ(message.find("wrong-token"), std::string::npos) << "a token was echoed";
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
  };
  check(post("/api/v1/publish", body, ""), "Authorization");
  check(post("/api/v1/publish", body, "wrong-token"), "not valid");
  check(post("/api/v1/publish", body, std::string(kToken) + "x"), "not valid");
  check(client().Post("/api/v1/publish", {{"Authorization", std::string("Basic ") + kToken}}, body,
                      "application/json"),
        "Bearer");
  check(post("/api/v1/publish/batch", R"({"messages":[]})", "wrong-token"), "not valid");
  // Unauthenticated requests are refused before their size matters.
  check(post("/api/v1/publish", std::string(2 * kMaxPublishBytes, ' '), ""), "Authorization");
  EXPECT_TRUE(sink_.received().empty());

  // The scheme is case-insensitive.
  auto res = client().Post("/api/v1/publish", {{"Authorization", std::string("bearer ") + kToken}},
                           body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(AdminServerTest, WithoutATokenFileEveryPostIsRefused) {
  config_.publisherTokenFile.clear();
  start();
  std::string message = expectError(post("/api/v1/publish", R"({"channel":"market","data":{}})"),
                                    401, "UNAUTHORIZED");
  EXPECT_NE(message.find("no publisher token file is configured"), std::string::npos) << message;
  message = expectError(post("/api/v1/disconnect", R"({"user":"42"})"), 401, "UNAUTHORIZED");
  EXPECT_NE(message.find("no publisher token file is configured"), std::string::npos) << message;
  EXPECT_TRUE(sink_.received().empty());
  std::string error;
  EXPECT_FALSE(server_->reloadPublisherTokens(error));
}

TEST_F(AdminServerTest, MissingOrEmptyTokenFileFailsTheStartNamingTheFile) {
  config_.publisherTokenFile = dir_ + "/does-not-exist";
  AdminServer missing(config_, sink_, backend_);
  std::string error;
  EXPECT_FALSE(missing.start(error));
  EXPECT_NE(error.find(config_.publisherTokenFile), std::string::npos) << error;

  writeTokens("\n  \n");
  config_.publisherTokenFile = tokenFile_;
  AdminServer empty(config_, sink_, backend_);
  error.clear();
  EXPECT_FALSE(empty.start(error));
  EXPECT_NE(error.find(tokenFile_), std::string::npos) << error;
}

TEST_F(AdminServerTest, TokenRotationThroughReload) {
  writeTokens("old-token\n");
  start();
  const std::string body = R"({"channel":"market","data":{}})";
  EXPECT_EQ(post("/api/v1/publish", body, "old-token")->status, 200);
  EXPECT_EQ(post("/api/v1/publish", body, "new-token")->status, 401);

  writeTokens("old-token\nnew-token\n");
  std::string error;
  ASSERT_TRUE(server_->reloadPublisherTokens(error)) << error;
  EXPECT_EQ(post("/api/v1/publish", body, "old-token")->status, 200);
  EXPECT_EQ(post("/api/v1/publish", body, "new-token")->status, 200);

  writeTokens("new-token\n");
  ASSERT_TRUE(server_->reloadPublisherTokens(error)) << error;
  EXPECT_EQ(post("/api/v1/publish", body, "old-token")->status, 401);
  EXPECT_EQ(post("/api/v1/publish", body, "new-token")->status, 200);

  // A failed reload keeps the tokens in force.
  writeTokens("");
  EXPECT_FALSE(server_->reloadPublisherTokens(error));
  EXPECT_NE(error.find(tokenFile_), std::string::npos) << error;
  EXPECT_EQ(post("/api/v1/publish", body, "new-token")->status, 200);
}

TEST_F(AdminServerTest, ARemovedTokenIsRefusedOnTheConnectionThatUsedIt) {
  writeTokens("old-token\n");
  start();
  // One kept-alive connection: its token, once checked, is remembered
  // until the token file changes.
  httplib::Client cli("127.0.0.1", server_->port());
  cli.set_keep_alive(true);
  const std::string body = R"({"channel":"market","data":{}})";
  const httplib::Headers old = {{"Authorization", "Bearer old-token"}};
  EXPECT_EQ(cli.Post("/api/v1/publish", old, body, "application/json")->status, 200);
  EXPECT_EQ(cli.Post("/api/v1/publish", old, body, "application/json")->status, 200);

  writeTokens("new-token\n");
  std::string error;
  ASSERT_TRUE(server_->reloadPublisherTokens(error)) << error;
  EXPECT_EQ(cli.Post("/api/v1/publish", old, body, "application/json")->status, 401);
  const httplib::Headers fresh = {{"Authorization", "Bearer new-token"}};
  EXPECT_EQ(cli.Post("/api/v1/publish", fresh, body, "application/json")->status, 200);
  // Another header on the same connection is checked on its own.
  const httplib::Headers wrong = {{"Authorization", "Bearer new-tokeX"}};
  EXPECT_EQ(cli.Post("/api/v1/publish", wrong, body, "application/json")->status, 401);
}

// ---- batch ----

TEST_F(AdminServerTest, BatchAnswersOneResultPerMessageInOrder) {
  start();
  const std::string body = R"({"messages":[
      {"channel":"stock:AAPL","data":{"p": 1.50}},
      {"data":{}},
      {"channel":"bad channel","data":{}},
      {"channel":"stock:MSFT","type":"price_update","data":[1]},
      "not an object",
      {"channel":"stock:AAPL","key":"AAPL","data":2}
    ]})";
  auto res = post("/api/v1/publish/batch", body, kToken,
                  {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const json results = json::parse(res->body)["results"];
  ASSERT_EQ(results.size(), 6u) << res->body;
  EXPECT_EQ(results[0], json::parse(R"({"channel":"stock:AAPL","seq":1})"));
  EXPECT_EQ(results[1]["error"]["code"], "BAD_REQUEST");
  EXPECT_NE(results[1]["error"]["message"].get<std::string>().find("field 'channel' is missing"),
            std::string::npos);
  EXPECT_EQ(results[2]["error"]["code"], "INVALID_CHANNEL");
  EXPECT_EQ(results[3], json::parse(R"({"channel":"stock:MSFT","seq":1})"));
  EXPECT_EQ(results[4]["error"]["code"], "BAD_REQUEST");
  EXPECT_EQ(results[5], json::parse(R"({"channel":"stock:AAPL","seq":2})"));

  const auto received = sink_.received();
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0].data, R"({"p": 1.50})");
  EXPECT_EQ(received[1].channel, "stock:MSFT");
  EXPECT_EQ(received[1].type, "price_update");
  EXPECT_EQ(received[2].key, "AAPL");
  for (const auto& publication : received) {
    EXPECT_EQ(telemetry::formatTraceparent(publication.trace),
              "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  }
}

TEST_F(AdminServerTest, BatchOverTheMessageCapIs413AndPublishesNothing) {
  config_.maxBatchMessages = 3;
  start();
  auto batchOf = [](int count) {
    std::string body = "{\"messages\":[";
    for (int i = 0; i < count; ++i)
      body += std::string(i ? "," : "") + R"({"channel":"m","data":1})";
    return body + "]}";
  };
  auto res = post("/api/v1/publish/batch", batchOf(3));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(sink_.received().size(), 3u);

  const std::string message =
      expectError(post("/api/v1/publish/batch", batchOf(4)), 413, "TOO_LARGE");
  EXPECT_NE(message.find("admin.max_batch_messages (3)"), std::string::npos) << message;
  EXPECT_EQ(sink_.received().size(), 3u);
}

TEST_F(AdminServerTest, BatchSinkErrorsArePerMessage) {
  start();
  sink_.setUnavailable(true);
  auto res = post("/api/v1/publish/batch", R"({"messages":[{"channel":"market","data":1}]})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["results"][0]["error"]["code"], "UNAVAILABLE");
}

TEST_F(AdminServerTest, BatchWholeRequestErrors) {
  start();
  EXPECT_NE(expectError(post("/api/v1/publish/batch", "{"), 400, "BAD_REQUEST").find("JSON"),
            std::string::npos);
  EXPECT_NE(expectError(post("/api/v1/publish/batch", "{}"), 400, "BAD_REQUEST")
                .find("field 'messages' is missing"),
            std::string::npos);
  EXPECT_NE(expectError(post("/api/v1/publish/batch", R"({"messages":1})"), 400, "BAD_REQUEST")
                .find("field 'messages'"),
            std::string::npos);
  auto res = post("/api/v1/publish/batch", R"({"messages":[]})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"results":[]})"));
}

// ---- read-only routes, disconnect, probes ----

TEST_F(AdminServerTest, ReadOnlyRoutesAnswerTheBackendsJsonWithoutAToken) {
  start();
  const std::pair<const char*, const char*> routes[] = {
      {"/api/v1/stats", R"({"connections":3,"published":10})"},
      {"/api/v1/channels", R"({"channels":[{"name":"market"}]})"},
      {"/api/v1/connections", R"({"connections":[]})"},
  };
  for (const auto& [path, body] : routes) {
    auto res = get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->body, body);
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  }
}

TEST_F(AdminServerTest, MetricsAnswerTheBackendsTextInThePrometheusFormat) {
  start();
  auto res = get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "# TYPE wsrouter_ready gauge\nwsrouter_ready 1\n");
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  res = post("/metrics", "{}");
  expectError(res, 405, "METHOD_NOT_ALLOWED");
  EXPECT_EQ(res->get_header_value("Allow"), "GET");
}

TEST_F(AdminServerTest, RefusedPublicationsAreCountedByCode) {
  start();
  const PublishRejections& rejections = server_->publishRejections();
  auto count = [&](std::string_view code) {
    for (size_t i = 0; i < PublishRejections::kCodes.size(); ++i) {
      if (PublishRejections::kCodes[i] == code) return rejections.value(i);
    }
    return uint64_t{999};
  };
  expectError(post("/api/v1/publish", R"({"channel":"a","data":1})", "wrong"), 401, "UNAUTHORIZED");
  expectError(post("/api/v1/publish", "not json"), 400, "BAD_REQUEST");
  expectError(post("/api/v1/publish", R"({"channel":"bad channel","data":1})"), 404,
              "INVALID_CHANNEL");
  expectError(post("/api/v1/publish", std::string(kMaxPublishBytes + 1, ' ')), 413, "TOO_LARGE");
  sink_.setUnavailable(true);
  expectError(post("/api/v1/publish", R"({"channel":"a","data":1})"), 503, "UNAVAILABLE");
  // A batch counts each refused message; a whole-request error once.
  auto res = post("/api/v1/publish/batch",
                  R"({"messages":[{"channel":"a","data":1},{"channel":"b c","data":1}]})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  expectError(post("/api/v1/publish/batch", "[]"), 400, "BAD_REQUEST");
  sink_.setUnavailable(false);
  // Not a publication: a refused disconnect counts nothing.
  expectError(post("/api/v1/disconnect", R"({"user":"42"})", ""), 401, "UNAUTHORIZED");
  ASSERT_TRUE(post("/api/v1/publish", R"({"channel":"a","data":1})"));

  EXPECT_EQ(count("UNAUTHORIZED"), 1u);
  EXPECT_EQ(count("BAD_REQUEST"), 2u);
  EXPECT_EQ(count("INVALID_CHANNEL"), 2u);
  EXPECT_EQ(count("TOO_LARGE"), 1u);
  EXPECT_EQ(count("UNAVAILABLE"), 2u);
}

TEST_F(AdminServerTest, DisconnectNeedsATokenAndAUser) {
  start();
  expectError(post("/api/v1/disconnect", R"({"user":"42"})", ""), 401, "UNAUTHORIZED");
  EXPECT_TRUE(backend_.disconnected().empty());

  auto res = post("/api/v1/disconnect", R"({"user":"42"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"user":"42","disconnected":2})"));
  EXPECT_EQ(backend_.disconnected(), std::vector<std::string>{"42"});

  EXPECT_NE(expectError(post("/api/v1/disconnect", "42"), 400, "BAD_REQUEST").find("JSON"),
            std::string::npos);
  EXPECT_NE(expectError(post("/api/v1/disconnect", "{}"), 400, "BAD_REQUEST").find("field 'user'"),
            std::string::npos);
  EXPECT_NE(expectError(post("/api/v1/disconnect", R"({"user":42})"), 400, "BAD_REQUEST")
                .find("field 'user'"),
            std::string::npos);
  EXPECT_NE(expectError(post("/api/v1/disconnect", R"({"user":""})"), 400, "BAD_REQUEST")
                .find("field 'user'"),
            std::string::npos);
  EXPECT_EQ(backend_.disconnected().size(), 1u);
}

TEST_F(AdminServerTest, ProbesFollowTheBackendsHealth) {
  start();
  auto res = get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"status":"ok"})"));
  res = get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  backend_.setHealth({false, "worker 1 has not turned for 6000 ms", false, "draining"});
  res = get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(json::parse(res->body),
            json::parse(R"({"status":"fail","detail":"worker 1 has not turned for 6000 ms"})"));
  res = get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"status":"fail","detail":"draining"})"));

  // Live but not ready: starting.
  backend_.setHealth({true, "", false, "starting"});
  EXPECT_EQ(get("/healthz")->status, 200);
  EXPECT_EQ(get("/readyz")->status, 503);
}

TEST_F(AdminServerTest, UnknownPathIs404AndWrongMethodIs405) {
  start();
  std::string message = expectError(get("/nope"), 404, "NOT_FOUND");
  EXPECT_NE(message.find("/nope"), std::string::npos) << message;
  expectError(post("/api/v1/nope", "{}"), 404, "NOT_FOUND");
  expectError(client().Delete("/nothing"), 404, "NOT_FOUND");

  auto res = get("/api/v1/publish");
  message = expectError(res, 405, "METHOD_NOT_ALLOWED");
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
  res = post("/healthz", "{}");
  expectError(res, 405, "METHOD_NOT_ALLOWED");
  EXPECT_EQ(res->get_header_value("Allow"), "GET");
  expectError(client().Put("/api/v1/stats", "{}", "application/json"), 405, "METHOD_NOT_ALLOWED");
  expectError(client().Delete("/api/v1/publish/batch"), 405, "METHOD_NOT_ALLOWED");
}

// ---- lifecycle ----

TEST_F(AdminServerTest, StopIsIdempotentAndStartOnlyOnce) {
  AdminServer never(config_, sink_, backend_);
  never.stop();  // never started: nothing to do

  start();
  std::string error;
  EXPECT_FALSE(server_->start(error));
  EXPECT_NE(error.find("already"), std::string::npos);
  const uint16_t port = server_->port();
  server_->stop();
  server_->stop();
  httplib::Client cli("127.0.0.1", port);
  EXPECT_FALSE(cli.Get("/healthz"));
}

TEST_F(AdminServerTest, ABusyPortFailsTheStart) {
  start();
  config::AdminConfig second = config_;
  second.port = server_->port();
  AdminServer other(second, sink_, backend_);
  std::string error;
  EXPECT_FALSE(other.start(error));
  EXPECT_NE(error.find(std::to_string(second.port)), std::string::npos) << error;
}

}  // namespace
}  // namespace wsr::admin
