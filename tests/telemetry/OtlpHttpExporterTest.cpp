#include "telemetry/OtlpHttpExporter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/IdGenerator.h"

namespace wsr::telemetry {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto kWait = 10s;  // the upper bound of any wait for an event

struct ReceivedRequest {
  std::string path;
  std::string contentType;
  std::string apiKey;
  std::string userAgent;
  json body;
  size_t spans = 0;
};

// An OTLP/HTTP collector in the test process: records each request and
// answers with the status scripted for it (200 once the script runs out);
// hang() makes it hold every request until release().
class TestCollector {
 public:
  TestCollector() {
    server_.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
      ReceivedRequest received;
      received.path = req.path;
      received.contentType = req.get_header_value("Content-Type");
      received.apiKey = req.get_header_value("api-key");
      received.userAgent = req.get_header_value("User-Agent");
      received.body = json::parse(req.body, nullptr, false);
      if (received.body.is_object()) {
        received.spans = received.body["resourceSpans"][0]["scopeSpans"][0]["spans"].size();
      }
      std::unique_lock lock(mutex_);
      requests_.push_back(std::move(received));
      changed_.notify_all();
      changed_.wait(lock, [this] { return !hanging_; });
      if (!statuses_.empty()) {
        res.status = statuses_.front();
        statuses_.erase(statuses_.begin());
      } else {
        res.status = 200;
      }
      res.set_content(answer_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running())
      std::this_thread::yield();
  }
  ~TestCollector() {
    release();
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces"; }

  void script(std::vector<int> statuses) {
    std::lock_guard lock(mutex_);
    statuses_ = std::move(statuses);
  }
  void answerWith(std::string body) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(body);
  }
  void hang() {
    std::lock_guard lock(mutex_);
    hanging_ = true;
  }
  void release() {
    std::lock_guard lock(mutex_);
    hanging_ = false;
    changed_.notify_all();
  }

  // Waits until `count` requests have arrived; false on timeout.
  bool waitForRequests(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return requests_.size() >= count; });
  }
  std::vector<ReceivedRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t spansReceived() {
    std::lock_guard lock(mutex_);
    size_t total = 0;
    for (const auto& r : requests_)
      total += r.spans;
    return total;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ReceivedRequest> requests_;
  std::vector<int> statuses_;
  std::string answer_ = "{}";
  bool hanging_ = false;
};

// A collector that hangs up on its first connection as soon as the request
// arrives, the way a collector closes an idle keep-alive connection just as
// a request goes out, and answers 200 on the next ones.
class HangUpOnceCollector {
 public:
  HangUpOnceCollector() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~HangUpOnceCollector() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces"; }
  int connections() const { return connections_.load(); }

 private:
  void serve() {
    for (;;) {
      const int connection = ::accept(listener_, nullptr, nullptr);
      if (connection < 0) return;
      const int number = ++connections_;
      std::string request;
      char buffer[4096];
      // The head, then as many body bytes as Content-Length says.
      for (;;) {
        const ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
        const size_t headEnd = request.find("\r\n\r\n");
        if (headEnd == std::string::npos) continue;
        const size_t lengthAt = request.find("Content-Length: ");
        const size_t length =
            lengthAt == std::string::npos ? 0 : std::stoul(request.substr(lengthAt + 16));
        if (request.size() >= headEnd + 4 + length) break;
      }
      if (number > 1) {
        const std::string answer =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\n{}";
        ::send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
      }
      ::close(connection);
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::thread thread_;
};

OtlpHttpExporterOptions optionsFor(const std::string& url) {
  OtlpHttpExporterOptions options;
  options.endpoint = *parseHttpUrl(url);
  options.headers = {{"api-key", "k1 secret"}};
  options.resource = {{"service.name", "exporter-test"}};
  options.queueSize = 100;
  options.batchSize = 5;
  options.exportInterval = 60s;  // only full batches, unless a test says otherwise
  options.exportTimeout = 5s;
  options.retryBackoff = {10ms, 10ms};
  return options;
}

std::unique_ptr<Span> makeSpan(int i = 0) {
  auto span = std::make_unique<Span>();
  span->name = "span-" + std::to_string(i);
  span->context.traceId = newTraceId();
  span->context.spanId = newSpanId();
  span->context.flags = kSampledFlag;
  span->startUnixNano = unixNanoNow();
  span->endUnixNano = span->startUnixNano + 1000;
  return span;
}

// Polls a counter (the exporter's own thread updates it) up to kWait.
template <typename Fn>
bool eventually(Fn condition) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(OtlpHttpExporter, SendsFullBatchesWithHeadersAndContentType) {
  TestCollector collector;
  OtlpHttpExporter exporter(optionsFor(collector.url()), nullptr);
  for (int i = 0; i < 10; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(collector.waitForRequests(2));
  ASSERT_TRUE(eventually([&] { return exporter.exportedSpans() == 10; }));
  const auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const ReceivedRequest& r : requests) {
    EXPECT_EQ(r.path, "/v1/traces");
    EXPECT_EQ(r.contentType, "application/json");
    EXPECT_EQ(r.apiKey, "k1 secret");
    EXPECT_EQ(r.userAgent.rfind("wsrouter-otlp-exporter/", 0), 0u) << r.userAgent;
    EXPECT_EQ(r.spans, 5u);
    EXPECT_EQ(r.body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
              "exporter-test");
  }
  EXPECT_EQ(requests[0].body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"], "span-0");
  EXPECT_EQ(exporter.droppedSpans(DropReason::QueueFull), 0u);
  EXPECT_EQ(exporter.droppedSpans(DropReason::ExportFailed), 0u);
}

TEST(OtlpHttpExporter, TheIntervalSendsAPartialBatch) {
  TestCollector collector;
  OtlpHttpExporterOptions options = optionsFor(collector.url());
  options.batchSize = 100;
  options.exportInterval = 50ms;
  OtlpHttpExporter exporter(options, nullptr);
  for (int i = 0; i < 3; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(collector.waitForRequests(1));
  EXPECT_EQ(collector.requests()[0].spans, 3u);
  EXPECT_TRUE(eventually([&] { return exporter.exportedSpans() == 3; }));
}

TEST(OtlpHttpExporter, AHangingCollectorNeverBlocksSubmitAndAFullQueueDropsAndCounts) {
  TestCollector collector;
  collector.hang();
  OtlpHttpExporterOptions options = optionsFor(collector.url());
  options.queueSize = 4;
  options.batchSize = 4;
  OtlpHttpExporter exporter(options, nullptr);
  for (int i = 0; i < 4; ++i)
    exporter.submit(makeSpan(i));
  // The exporter has taken those four and is stuck in the request.
  ASSERT_TRUE(collector.waitForRequests(1));
  ASSERT_TRUE(eventually([&] { return exporter.queued() == 0; }));

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i)
    exporter.submit(makeSpan(i));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Ten thousand hand-offs while the network is stuck: no waiting (a
  // generous bound, for a loaded test machine).
  EXPECT_LT(elapsed, 1s);
  EXPECT_EQ(exporter.queued(), 4u);
  EXPECT_EQ(exporter.droppedSpans(DropReason::QueueFull), 10000u - 4u);

  collector.release();
  EXPECT_TRUE(eventually([&] { return exporter.exportedSpans() == 8; }));
}

TEST(OtlpHttpExporter, ARefusedBatchIsDroppedAndCountedWithoutRetry) {
  TestCollector collector;
  collector.script({400});
  OtlpHttpExporter exporter(optionsFor(collector.url()), nullptr);
  for (int i = 0; i < 5; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(eventually([&] { return exporter.droppedSpans(DropReason::ExportFailed) == 5; }));
  EXPECT_EQ(exporter.exportedSpans(), 0u);
  // The next batch goes through: one failure does not stop the exporter.
  for (int i = 0; i < 5; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(eventually([&] { return exporter.exportedSpans() == 5; }));
  EXPECT_EQ(collector.requests().size(), 2u);  // no retry of the 400
}

TEST(OtlpHttpExporter, RetryableAnswersAreRetriedThenExported) {
  TestCollector collector;
  collector.script({503, 429});
  OtlpHttpExporter exporter(optionsFor(collector.url()), nullptr);
  for (int i = 0; i < 5; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(eventually([&] { return exporter.exportedSpans() == 5; }));
  EXPECT_EQ(collector.requests().size(), 3u);
  EXPECT_EQ(exporter.droppedSpans(DropReason::ExportFailed), 0u);
}

TEST(OtlpHttpExporter, RetriesAreBounded) {
  TestCollector collector;
  collector.script({502, 504, 503, 200});
  OtlpHttpExporter exporter(optionsFor(collector.url()), nullptr);
  for (int i = 0; i < 5; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(eventually([&] { return exporter.droppedSpans(DropReason::ExportFailed) == 5; }));
  EXPECT_EQ(collector.requests().size(), 3u);  // the first try and two retries
  EXPECT_EQ(exporter.exportedSpans(), 0u);
}

TEST(OtlpHttpExporter, AConnectionThatBreaksAtOnceIsRetried) {
  HangUpOnceCollector collector;
  OtlpHttpExporter exporter(optionsFor(collector.url()), nullptr);
  for (int i = 0; i < 5; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(eventually([&] { return exporter.exportedSpans() == 5; }));
  EXPECT_EQ(collector.connections(), 2);
  EXPECT_EQ(exporter.droppedSpans(DropReason::ExportFailed), 0u);
}

TEST(OtlpHttpExporter, ATimeoutFailsTheBatchWithoutRetry) {
  TestCollector collector;
  collector.hang();
  OtlpHttpExporterOptions options = optionsFor(collector.url());
  options.exportTimeout = 200ms;
  OtlpHttpExporter exporter(options, nullptr);
  for (int i = 0; i < 5; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(eventually([&] { return exporter.droppedSpans(DropReason::ExportFailed) == 5; }));
  EXPECT_EQ(collector.requests().size(), 1u);
  EXPECT_EQ(exporter.exportedSpans(), 0u);
}

TEST(OtlpHttpExporter, NoCollectorCountsExportFailed) {
  std::string url;
  {
    TestCollector gone;  // a port that was free a moment ago, now closed
    url = gone.url();
  }
  OtlpHttpExporter exporter(optionsFor(url), nullptr);
  for (int i = 0; i < 5; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(eventually([&] { return exporter.droppedSpans(DropReason::ExportFailed) == 5; }));
  EXPECT_EQ(exporter.exportedSpans(), 0u);
}

TEST(OtlpHttpExporter, PartialSuccessCountsTheRejectedSpans) {
  TestCollector collector;
  collector.answerWith(R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}})");
  OtlpHttpExporter exporter(optionsFor(collector.url()), nullptr);
  for (int i = 0; i < 5; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(eventually([&] { return exporter.exportedSpans() == 3; }));
  EXPECT_EQ(exporter.droppedSpans(DropReason::ExportFailed), 2u);
}

TEST(OtlpHttpExporter, ShutdownFlushesWhatIsQueued) {
  TestCollector collector;
  OtlpHttpExporterOptions options = optionsFor(collector.url());
  options.batchSize = 100;  // neither a full batch nor the interval would send these
  OtlpHttpExporter exporter(options, nullptr);
  for (int i = 0; i < 3; ++i)
    exporter.submit(makeSpan(i));
  exporter.shutdown(5s);
  EXPECT_EQ(collector.spansReceived(), 3u);
  EXPECT_EQ(exporter.exportedSpans(), 3u);
  exporter.shutdown(5s);  // idempotent
}

TEST(OtlpHttpExporter, ShutdownKeepsItsDeadlineWithAHangingCollector) {
  TestCollector collector;
  collector.hang();
  OtlpHttpExporterOptions options = optionsFor(collector.url());
  options.exportTimeout = 30s;  // far longer than the deadline
  OtlpHttpExporter exporter(options, nullptr);
  for (int i = 0; i < 5; ++i)
    exporter.submit(makeSpan(i));
  ASSERT_TRUE(collector.waitForRequests(1));
  for (int i = 0; i < 3; ++i)
    exporter.submit(makeSpan(i));  // still queued at shutdown
  const auto start = std::chrono::steady_clock::now();
  exporter.shutdown(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(exporter.droppedSpans(DropReason::ExportFailed), 8u);
  EXPECT_EQ(exporter.exportedSpans(), 0u);
}

}  // namespace
}  // namespace wsr::telemetry
