#pragma once
// The OTLP/HTTP JSON exporter (https://opentelemetry.io/docs/specs/otlp/#otlphttp):
// a batch span processor and its exporter in one, on one background thread.
//
// - Finished spans wait in a bounded queue (queueSize); a full queue drops the
//   new span and counts it (queue_full). Ending a span never waits for the
//   network: the thread that ends it only moves a pointer under a brief lock.
// - The thread sends a batch when batchSize spans are waiting, and at least
//   every exportInterval otherwise: POST <endpoint> with
//   Content-Type: application/json and the configured headers, on one
//   keep-alive connection.
// - A 429, 502, 503 or 504 answer, a failed connect, or a connection that
//   broke before half the timeout (a keep-alive connection closed by the
//   collector) is retried twice, after 100 ms and 400 ms (or the answer's
//   Retry-After, up to 2 s); any other failure (a timeout included: the
//   collector may be stuck), or the last retry's, drops the batch and counts
//   it (export_failed). An OTLP partial success counts the
//   rejected spans as export_failed and the rest as exported.
// - shutdown() exports what is queued until its deadline, then aborts the
//   request in flight and counts what is left as export_failed.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/HttpUrl.h"
#include "telemetry/KeyValueList.h"
#include "telemetry/SpanExporter.h"
#include "telemetry/SpanQueue.h"

namespace httplib {
class Client;
}

namespace wsr::telemetry {

class Logger;

struct OtlpHttpExporterOptions {
  HttpUrl endpoint;    // the full URL, /v1/traces included
  KeyValues headers;   // sent with every request (an API key, say)
  KeyValues resource;  // the resource attributes of every batch
  size_t queueSize = 2048;
  size_t batchSize = 512;
  std::chrono::milliseconds exportInterval{1000};
  std::chrono::milliseconds exportTimeout{10000};
  // Waits between attempts of a retryable failure; empty: no retry.
  std::vector<std::chrono::milliseconds> retryBackoff{std::chrono::milliseconds(100),
                                                      std::chrono::milliseconds(400)};
};

class OtlpHttpExporter final : public SpanExporter {
 public:
  // Starts the thread. `logger` (may be null) gets a line when exports start
  // failing and when they recover, never one per failure.
  OtlpHttpExporter(OtlpHttpExporterOptions options, Logger* logger);
  ~OtlpHttpExporter() override;  // shutdown(exportTimeout)
  OtlpHttpExporter(const OtlpHttpExporter&) = delete;
  OtlpHttpExporter& operator=(const OtlpHttpExporter&) = delete;

  void submit(std::unique_ptr<Span> span) override;
  void shutdown(std::chrono::milliseconds deadline) override;

  size_t queued() const { return queue_.size(); }

 private:
  enum class Attempt { Exported, Retryable, Failed };

  void run();
  void exportBatch(std::vector<std::unique_ptr<Span>> batch);
  Attempt attempt(const std::string& body, size_t spans, std::chrono::milliseconds& retryAfter,
                  std::string& failure);
  // Sleeps for `pause` unless aborted first; false when aborted.
  bool pauseUnlessAborted(std::chrono::milliseconds pause);
  void noteOutcome(bool ok, const std::string& failure, size_t spans);

  const OtlpHttpExporterOptions options_;
  Logger* const logger_;
  SpanQueue queue_;

  // The client is the exporter thread's, but shutdown() may have to abort
  // its request from another thread (httplib::Client::stop()).
  std::mutex clientMutex_;
  std::unique_ptr<httplib::Client> client_;

  std::atomic<bool> aborted_{false};  // shutdown's deadline passed: stop at once
  std::mutex abortMutex_;
  std::condition_variable abortSignal_;
  std::mutex doneMutex_;
  std::condition_variable doneSignal_;
  bool done_ = false;     // the thread has left run()
  bool failing_ = false;  // the exporter thread's: the last export failed (for the log)
  std::thread thread_;
};

}  // namespace wsr::telemetry
