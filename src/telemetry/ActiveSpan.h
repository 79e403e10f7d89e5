#pragma once
// A span being timed: what Tracer::startSpan() returns. It always carries
// the span's context (so a span that is not sampled still propagates its
// trace and its "not sampled" to children), and records attributes only
// when sampled; otherwise every setter is one branch. end(), or the
// destructor, stamps the end time and hands the span to the exporter.

#include <cstdint>
#include <memory>
#include <string_view>

#include "telemetry/Span.h"
#include "telemetry/TraceContext.h"

namespace wsr::telemetry {

class Tracer;

class ActiveSpan {
 public:
  ActiveSpan() = default;  // no span: tracing is off
  ActiveSpan(ActiveSpan&& other) noexcept;
  ActiveSpan& operator=(ActiveSpan&& other) noexcept;
  ActiveSpan(const ActiveSpan&) = delete;
  ActiveSpan& operator=(const ActiveSpan&) = delete;
  ~ActiveSpan() { end(); }

  // Sampled: attributes are kept and the span will be exported.
  bool recording() const { return span_ != nullptr; }
  // Valid whenever tracing is on, sampled or not.
  const TraceContext& context() const { return context_; }

  // `key` must be a string literal (attribute names are fixed in the code).
  void setString(std::string_view key, std::string_view value) {
    if (span_) span_->setString(key, value);
  }
  void setInt(std::string_view key, int64_t value) {
    if (span_) span_->setInt(key, value);
  }
  void setBool(std::string_view key, bool value) {
    if (span_) span_->setBool(key, value);
  }
  void setError(std::string_view message);
  void setOk();

  // Idempotent.
  void end();

 private:
  friend class Tracer;
  ActiveSpan(Tracer* tracer, const TraceContext& context, std::unique_ptr<Span> span)
      : tracer_(tracer), context_(context), span_(std::move(span)) {}

  Tracer* tracer_ = nullptr;
  TraceContext context_;
  std::unique_ptr<Span> span_;  // null unless sampled
};

}  // namespace wsr::telemetry
