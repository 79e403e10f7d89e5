// The SERVER span of the publish routes, and the context they hand to the
// hub in Publication::trace.

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../telemetry/RecordingExporter.h"
#include "admin/AdminServer.h"
#include "telemetry/Tracer.h"

namespace wsr::admin {
namespace {

constexpr const char* kToken = "publisher-token-tracing";
constexpr const char* kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

class RecordingSink : public hub::PublishSink {
 public:
  hub::PublishResult publish(hub::Publication&& publication) override {
    std::lock_guard lock(mutex_);
    received_.push_back(publication);
    return {hub::PublishError::None, "", received_.size()};
  }
  bool hasSubscribers(std::string_view) const override { return false; }
  std::vector<hub::Publication> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<hub::Publication> received_;
};

class QuietBackend : public AdminBackend {
 public:
  Health health() override { return {true, "", true, ""}; }
  std::string statsJson() override { return "{}"; }
  std::string channelsJson() override { return "{}"; }
  std::string connectionsJson() override { return "{}"; }
  size_t disconnectUser(const std::string&) override { return 0; }
  std::string metricsText() override { return ""; }
};

class AdminTracingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "wsr-admin-tracing-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ + "/publishers") << kToken << "\n";
    config_.host = "127.0.0.1";
    config_.port = 0;
    config_.publisherTokenFile = dir_ + "/publishers";
    auto exporter = std::make_unique<telemetry::RecordingExporter>();
    recorder_ = exporter.get();
    tracer_ = std::make_unique<telemetry::Tracer>(telemetry::Sampler{}, std::move(exporter));
    server_ = std::make_unique<AdminServer>(config_, sink_, backend_, tracer_.get());
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
  }
  void TearDown() override {
    server_->stop();
    unlink((dir_ + "/publishers").c_str());
    rmdir(dir_.c_str());
  }

  httplib::Result post(const std::string& path, const std::string& body,
                       const std::string& traceparent, const std::string& token = kToken) {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(10, 0);
    httplib::Headers headers{{"Authorization", "Bearer " + token}};
    if (!traceparent.empty()) headers.emplace("traceparent", traceparent);
    return client.Post(path.c_str(), headers, body, "application/json");
  }

  std::string dir_;
  config::AdminConfig config_;
  RecordingSink sink_;
  QuietBackend backend_;
  telemetry::RecordingExporter* recorder_ = nullptr;
  std::unique_ptr<telemetry::Tracer> tracer_;
  std::unique_ptr<AdminServer> server_;
};

TEST_F(AdminTracingTest, PublishContinuesTheTraceparentAndHandsItsOwnContextOn) {
  const auto res = post("/api/v1/publish", R"({"channel":"stock:A","data":1})", kParent);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const auto spans = recorder_->spans();
  ASSERT_EQ(spans.size(), 1u);
  const telemetry::Span& span = spans[0];
  EXPECT_EQ(span.name, "POST /api/v1/publish");
  EXPECT_EQ(span.kind, telemetry::SpanKind::Server);
  EXPECT_EQ(telemetry::toHex(span.context.traceId), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(telemetry::toHex(span.parentSpanId), "00f067aa0ba902b7");
  EXPECT_TRUE(span.parentIsRemote);
  EXPECT_EQ(span.attribute("messaging.destination.name")->stringValue, "stock:A");
  EXPECT_EQ(span.attribute("wsrouter.seq")->intValue, 1);
  EXPECT_EQ(span.attribute("http.response.status_code")->intValue, 200);
  // The hub sees the request span as the parent, not the caller's span.
  const auto received = sink_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].trace, span.context);
}

TEST_F(AdminTracingTest, AnUnsampledRequestStillPropagatesItsDecision) {
  const auto res = post("/api/v1/publish", R"({"channel":"stock:A","data":1})",
                        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(res);
  EXPECT_TRUE(recorder_->spans().empty());
  const telemetry::TraceContext context = sink_.received().at(0).trace;
  ASSERT_TRUE(context.valid());
  EXPECT_EQ(telemetry::toHex(context.traceId), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(context.sampled());
}

TEST_F(AdminTracingTest, ABadBodyIsAnErrorSpan) {
  const auto res = post("/api/v1/publish", R"({"channel":"stock:A"})", "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  const auto spans = recorder_->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_TRUE(telemetry::isZero(spans[0].parentSpanId));  // no traceparent: a root
  EXPECT_EQ(spans[0].status, telemetry::SpanStatus::Error);
  EXPECT_EQ(spans[0].attribute("error.type")->stringValue, "BAD_REQUEST");
  EXPECT_EQ(spans[0].attribute("http.response.status_code")->intValue, 400);
}

TEST_F(AdminTracingTest, BatchMessagesShareTheRequestSpan) {
  const auto res = post(
      "/api/v1/publish/batch",
      R"({"messages":[{"channel":"stock:A","data":1},{"channel":"stock:B","data":2}]})", kParent);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const auto spans = recorder_->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "POST /api/v1/publish/batch");
  EXPECT_EQ(spans[0].attribute("wsrouter.batch.accepted")->intValue, 2);
  for (const hub::Publication& p : sink_.received()) {
    EXPECT_EQ(p.trace, spans[0].context);
  }
}

TEST_F(AdminTracingTest, UnauthorizedRequestsAreNotTraced) {
  const auto res = post("/api/v1/publish", R"({"channel":"stock:A","data":1})", kParent, "wrong");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_TRUE(recorder_->spans().empty());
}

}  // namespace
}  // namespace wsr::admin
