#pragma once
// The tracing facade the router's code uses: start a span (root, or child of
// a context), set its attributes, end it. Owned by the Router and passed down
// as a pointer; null or disabled means tracing is off, which costs callers
// one branch and nothing else.
//
// Sampling is decided when a span starts (Sampler.h); a span that is not
// sampled is never allocated, and only its context travels on.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "telemetry/ActiveSpan.h"
#include "telemetry/Sampler.h"
#include "telemetry/SpanExporter.h"
#include "telemetry/TracingSettings.h"

namespace wsr::telemetry {

class Logger;

class Tracer {
 public:
  Tracer() = default;  // disabled
  Tracer(Sampler sampler, std::unique_ptr<SpanExporter> exporter);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // With the OTLP/HTTP exporter when settings.enabled, else disabled.
  // False, with `error`, when the endpoint is not a usable URL.
  static std::unique_ptr<Tracer> fromSettings(const TracingSettings& settings, Logger* logger,
                                              std::string& error);

  bool enabled() const { return exporter_ != nullptr; }

  // A root span when `parent` is invalid, else a child in its trace.
  // remoteParent: the parent came from another process (a traceparent header).
  ActiveSpan startSpan(std::string_view name, SpanKind kind, const TraceContext& parent = {},
                       bool remoteParent = false);

  // ActiveSpan::end(): any thread, never blocks.
  void submit(std::unique_ptr<Span> span);

  // Exports what is queued within `deadline` and stops the exporter's thread.
  void shutdown(std::chrono::milliseconds deadline);

  const Sampler& sampler() const { return sampler_; }
  // For the metrics wsrouter_spans_exported_total and wsrouter_spans_dropped_total{reason}.
  uint64_t exportedSpans() const;
  uint64_t droppedSpans(DropReason reason) const;
  // {"enabled":true,"sampler":"parentbased_always_on","exported":0,
  //  "dropped":{"queue_full":0,"export_failed":0}}

 private:
  Sampler sampler_;
  std::unique_ptr<SpanExporter> exporter_;
};

}  // namespace wsr::telemetry
