#include "telemetry/OtlpHttpExporter.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "telemetry/Logger.h"
#include "telemetry/OtlpJson.h"
#include "telemetry/TracingSettings.h"

namespace wsr::telemetry {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kMaxRetryAfter{2000};
// How often shutdown() repeats its abort while the thread has not yet left
// (a request may start just after the first one).
constexpr std::chrono::milliseconds kAbortRepeat{20};

bool isRetryable(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

// Retry-After in seconds (the HTTP-date form is not worth parsing here).
std::chrono::milliseconds retryAfterOf(const httplib::Response& response) {
  const std::string value = response.get_header_value("Retry-After");
  unsigned seconds = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
    return std::chrono::milliseconds(0);
  }
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), kMaxRetryAfter);
}

// ExportTraceServiceResponse.partialSuccess.rejectedSpans (an int64, so a
// string in JSON, though a number is accepted too); 0 when absent.
uint64_t rejectedSpans(const std::string& body) {
  const nlohmann::json response = nlohmann::json::parse(body, nullptr, false);
  if (!response.is_object()) return 0;
  const auto partial = response.find("partialSuccess");
  if (partial == response.end() || !partial->is_object()) return 0;
  const auto rejected = partial->find("rejectedSpans");
  if (rejected == partial->end()) return 0;
  if (rejected->is_number_unsigned()) return rejected->get<uint64_t>();
  if (rejected->is_string()) {
    const std::string& text = rejected->get_ref<const std::string&>();
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && end == text.data() + text.size()) return value;
  }
  return 0;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The endpoint for logs: no query string (it could hold a key).
std::string endpointForLog(const HttpUrl& url) {
  return url.origin() + url.path.substr(0, url.path.find('?'));
}

}  // namespace

OtlpHttpExporter::OtlpHttpExporter(OtlpHttpExporterOptions options, Logger* logger)
    : options_(std::move(options)),
      logger_(logger),
      queue_(options_.queueSize, options_.batchSize),
      client_(std::make_unique<httplib::Client>(options_.endpoint.origin())) {
  const auto timeout = options_.exportTimeout;
  client_->set_keep_alive(true);
  client_->set_connection_timeout(timeout);
  client_->set_read_timeout(timeout);
  client_->set_write_timeout(timeout);
  thread_ = std::thread([this] { run(); });
}

OtlpHttpExporter::~OtlpHttpExporter() {
  shutdown(options_.exportTimeout);
}

void OtlpHttpExporter::submit(std::unique_ptr<Span> span) {
  if (!queue_.push(std::move(span))) countDropped(DropReason::QueueFull, 1);
}

void OtlpHttpExporter::shutdown(std::chrono::milliseconds deadline) {
  if (!thread_.joinable()) return;
  queue_.close();
  {
    std::unique_lock lock(doneMutex_);
    if (!doneSignal_.wait_for(lock, deadline, [this] { return done_; })) {
      aborted_.store(true);
      { std::lock_guard abortLock(abortMutex_); }
      abortSignal_.notify_all();
      while (!done_) {
        {
          std::lock_guard clientLock(clientMutex_);
          client_->stop();
        }
        doneSignal_.wait_for(lock, kAbortRepeat, [this] { return done_; });
      }
    }
  }
  thread_.join();
}

void OtlpHttpExporter::run() {
  Clock::time_point nextExport = Clock::now() + options_.exportInterval;
  while (!aborted_.load()) {
    // Closing: no more waiting, just what is left.
    const Clock::time_point until = queue_.closed() ? Clock::now() : nextExport;
    std::vector<std::unique_ptr<Span>> batch = queue_.takeBatch(until);
    if (batch.empty()) {
      if (queue_.closed()) break;
      nextExport = Clock::now() + options_.exportInterval;
      continue;
    }
    exportBatch(std::move(batch));
    nextExport = Clock::now() + options_.exportInterval;
  }
  countDropped(DropReason::ExportFailed, queue_.clear());
  {
    std::lock_guard lock(doneMutex_);
    done_ = true;
  }
  doneSignal_.notify_all();
}

void OtlpHttpExporter::exportBatch(std::vector<std::unique_ptr<Span>> batch) {
  std::vector<const Span*> spans;
  spans.reserve(batch.size());
  for (const auto& span : batch)
    spans.push_back(span.get());
  const std::string body = encodeExportRequest(options_.resource, spans);
  batch.clear();  // encoded: the spans are not needed any more

  std::string failure;
  for (size_t retry = 0; !aborted_.load(); ++retry) {
    std::chrono::milliseconds retryAfter{0};
    const Attempt outcome = attempt(body, spans.size(), retryAfter, failure);
    if (outcome == Attempt::Exported) {
      noteOutcome(true, {}, spans.size());
      return;
    }
    if (outcome == Attempt::Failed || retry >= options_.retryBackoff.size()) break;
    const auto pause = retryAfter.count() > 0 ? retryAfter : options_.retryBackoff[retry];
    if (!pauseUnlessAborted(pause)) break;
  }
  if (aborted_.load() && failure.empty()) failure = "shutdown deadline passed";
  countDropped(DropReason::ExportFailed, spans.size());
  noteOutcome(false, failure, spans.size());
}

OtlpHttpExporter::Attempt OtlpHttpExporter::attempt(const std::string& body, size_t spans,
                                                    std::chrono::milliseconds& retryAfter,
                                                    std::string& failure) {
  httplib::Headers headers;
  bool userAgent = false;
  for (const auto& [key, value] : options_.headers) {
    headers.emplace(key, value);
    if (equalsIgnoringCase(key, "user-agent")) userAgent = true;
  }
  if (!userAgent) {
    headers.emplace("User-Agent", std::string("wsrouter-otlp-exporter/") + wsrouterVersion());
  }
  // The client is only ever used from this thread; the lock is for
  // shutdown's stop(), which httplib allows during a request, so it is not
  // held across the request.
  httplib::Client* client = nullptr;
  {
    std::lock_guard lock(clientMutex_);
    client = client_.get();
  }
  const Clock::time_point start = Clock::now();
  const httplib::Result result =
      client->Post(options_.endpoint.path, headers, body, "application/json");
  if (!result) {
    // No connection, or one that broke at once (a keep-alive connection the
    // collector had just closed): worth another try. One that failed only
    // after most of the timeout is not: the collector may be stuck, and
    // waiting again would only hold up the next batches.
    const httplib::Error error = result.error();
    failure = "no answer: " + httplib::to_string(error);
    const bool connect =
        error == httplib::Error::Connection || error == httplib::Error::SSLConnection;
    const bool quick = Clock::now() - start < options_.exportTimeout / 2;
    return connect || quick ? Attempt::Retryable : Attempt::Failed;
  }
  const int status = result->status;
  if (status >= 200 && status < 300) {
    const uint64_t rejected = std::min<uint64_t>(rejectedSpans(result->body), spans);
    countExported(spans - rejected);
    if (rejected > 0) countDropped(DropReason::ExportFailed, rejected);
    return Attempt::Exported;
  }
  failure = "HTTP " + std::to_string(status);
  if (isRetryable(status)) {
    retryAfter = retryAfterOf(*result);
    return Attempt::Retryable;
  }
  return Attempt::Failed;
}

bool OtlpHttpExporter::pauseUnlessAborted(std::chrono::milliseconds pause) {
  std::unique_lock lock(abortMutex_);
  return !abortSignal_.wait_for(lock, pause, [this] { return aborted_.load(); });
}

void OtlpHttpExporter::noteOutcome(bool ok, const std::string& failure, size_t spans) {
  if (ok == !failing_) return;
  failing_ = !ok;
  if (logger_ == nullptr) return;
  if (ok) {
    logger_->log(LogLevel::Info, "trace_export_recovered",
                 {{"endpoint", endpointForLog(options_.endpoint)}});
  } else {
    logger_->log(LogLevel::Warn, "trace_export_failed",
                 {{"endpoint", endpointForLog(options_.endpoint)},
                  {"error", failure},
                  {"spans", static_cast<uint64_t>(spans)},
                  {"effect", "spans dropped until exports succeed again"}});
  }
}

}  // namespace wsr::telemetry
