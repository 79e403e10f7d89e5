#include "telemetry/Tracer.h"

#include "telemetry/HttpUrl.h"
#include "telemetry/IdGenerator.h"
#include "telemetry/OtlpHttpExporter.h"

namespace wsr::telemetry {

Tracer::Tracer(Sampler sampler, std::unique_ptr<SpanExporter> exporter)
    : sampler_(sampler), exporter_(std::move(exporter)) {}

Tracer::~Tracer() = default;

std::unique_ptr<Tracer> Tracer::fromSettings(const TracingSettings& settings, Logger* logger,
                                             std::string& error) {
  if (!settings.enabled) return std::make_unique<Tracer>();
  std::optional<HttpUrl> url = parseHttpUrl(settings.tracesEndpoint);
  if (!url) {
    error = "tracing endpoint '" + settings.tracesEndpoint + "' is not an http:// or https:// URL";
    return nullptr;
  }
  OtlpHttpExporterOptions options;
  options.endpoint = std::move(*url);
  options.headers = settings.headers;
  options.resource = settings.resource;
  options.queueSize = settings.queueSize;
  options.batchSize = settings.batchSize;
  options.exportInterval = std::chrono::milliseconds(settings.exportIntervalMs);
  options.exportTimeout = std::chrono::milliseconds(settings.exportTimeoutMs);
  return std::make_unique<Tracer>(settings.sampler,
                                  std::make_unique<OtlpHttpExporter>(std::move(options), logger));
}

ActiveSpan Tracer::startSpan(std::string_view name, SpanKind kind, const TraceContext& parent,
                             bool remoteParent) {
  if (!enabled()) return {};
  TraceContext context;
  context.traceId = parent.valid() ? parent.traceId : newTraceId();
  context.spanId = newSpanId();
  const bool sampled = sampler_.shouldSample(parent, context.traceId);
  context.flags = sampled ? kSampledFlag : 0;
  if (!sampled) return ActiveSpan(this, context, nullptr);

  auto span = std::make_unique<Span>();
  span->name.assign(name);
  span->kind = kind;
  span->context = context;
  if (parent.valid()) {
    span->parentSpanId = parent.spanId;
    span->parentIsRemote = remoteParent;
  }
  span->startUnixNano = unixNanoNow();
  return ActiveSpan(this, context, std::move(span));
}

void Tracer::submit(std::unique_ptr<Span> span) {
  if (exporter_) exporter_->submit(std::move(span));
}

void Tracer::shutdown(std::chrono::milliseconds deadline) {
  if (exporter_) exporter_->shutdown(deadline);
}

uint64_t Tracer::exportedSpans() const {
  return exporter_ ? exporter_->exportedSpans() : 0;
}

uint64_t Tracer::droppedSpans(DropReason reason) const {
  return exporter_ ? exporter_->droppedSpans(reason) : 0;
}

}  // namespace wsr::telemetry
