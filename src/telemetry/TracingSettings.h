#pragma once
// What the tracer runs with: config.yaml's `tracing` section, overridden by
// the OpenTelemetry SDK's standard environment variables, which win (the
// variables of a Kubernetes pod or an OpenTelemetry operator must just work).
//
// - Off: OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, whatever else says.
// - On: tracing.enabled, or an explicit OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
//   OTEL_EXPORTER_OTLP_ENDPOINT (naming a collector is asking for export).
// - Endpoint: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is; else
//   OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces"; else tracing.endpoint + "/v1/traces".
// - Headers: OTEL_EXPORTER_OTLP_HEADERS, then OTEL_EXPORTER_OTLP_TRACES_HEADERS
//   (the same name in both: the traces one wins).
// - service.name: OTEL_SERVICE_NAME; else service.name in
//   OTEL_RESOURCE_ATTRIBUTES; else tracing.service_name. The other resource
//   attributes of OTEL_RESOURCE_ATTRIBUTES are exported too.
// - Sampler: OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG (Sampler.h).
// - Timeout: OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT,
//   else tracing.export_timeout_ms. The batch span processor's
//   OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE and
//   OTEL_BSP_MAX_EXPORT_BATCH_SIZE override the other tracing.* keys.
//
// An empty variable counts as unset. A value that cannot be used adds a
// warning (which never quotes a header value) and is ignored.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "telemetry/KeyValueList.h"
#include "telemetry/Sampler.h"

namespace wsr::telemetry {

// config.yaml's tracing.* keys (config::TracingConfig, without depending on it).
struct TracingOptions {
  bool enabled = false;
  std::string endpoint = "http://localhost:4318";  // base URL: /v1/traces is appended
  std::string serviceName = "wsrouter";
  uint32_t queueSize = 2048;
  uint32_t batchSize = 512;
  uint32_t exportIntervalMs = 1000;
  uint32_t exportTimeoutMs = 10000;
};

struct TracingSettings {
  bool enabled = false;
  std::string tracesEndpoint;  // the URL spans are POSTed to
  KeyValues headers;           // sent with every export request
  KeyValues resource;          // resource attributes, service.name first
  Sampler sampler;
  uint32_t queueSize = 2048;
  uint32_t batchSize = 512;
  uint32_t exportIntervalMs = 1000;
  uint32_t exportTimeoutMs = 10000;

  const std::string& serviceName() const;
};

using EnvironmentVariables = std::map<std::string, std::string, std::less<>>;

// The OTEL_* variables of this process's environment.
EnvironmentVariables otelVariablesOfProcess();

TracingSettings resolveTracingSettings(const TracingOptions& options,
                                       const EnvironmentVariables& environment,
                                       std::vector<std::string>& warnings);

// The instrumentation's own name and version (OTLP's InstrumentationScope,
// and the telemetry.sdk.* resource attributes).
inline constexpr const char* kInstrumentationName = "wsrouter";
const char* wsrouterVersion();

}  // namespace wsr::telemetry
