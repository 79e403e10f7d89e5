#include "telemetry/TracingSettings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wsr::telemetry {
namespace {

// Only the environment given: never the process's own.
TracingSettings resolve(const TracingOptions& options, EnvironmentVariables env,
                        std::vector<std::string>* warningsOut = nullptr) {
  std::vector<std::string> warnings;
  TracingSettings settings = resolveTracingSettings(options, env, warnings);
  if (warningsOut != nullptr) *warningsOut = warnings;
  return settings;
}

TracingOptions enabledOptions() {
  TracingOptions options;
  options.enabled = true;
  options.endpoint = "http://collector.internal:4318";
  options.serviceName = "from-config";
  return options;
}

std::string resourceValue(const TracingSettings& settings, const std::string& key) {
  for (const auto& [k, v] : settings.resource) {
    if (k == key) return v;
  }
  return "<absent>";
}

TEST(TracingSettings, ConfigAloneWithoutEnvironment) {
  std::vector<std::string> warnings;
  TracingOptions options = enabledOptions();
  options.queueSize = 100;
  options.batchSize = 10;
  options.exportIntervalMs = 250;
  options.exportTimeoutMs = 3000;
  const TracingSettings settings = resolve(options, {}, &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(settings.enabled);
  EXPECT_EQ(settings.tracesEndpoint, "http://collector.internal:4318/v1/traces");
  EXPECT_EQ(settings.serviceName(), "from-config");
  EXPECT_TRUE(settings.headers.empty());
  EXPECT_EQ(settings.sampler.kind(), Sampler::Kind::ParentBasedAlwaysOn);
  EXPECT_EQ(settings.queueSize, 100u);
  EXPECT_EQ(settings.batchSize, 10u);
  EXPECT_EQ(settings.exportIntervalMs, 250u);
  EXPECT_EQ(settings.exportTimeoutMs, 3000u);
}

TEST(TracingSettings, OffByDefault) {
  EXPECT_FALSE(resolve(TracingOptions{}, {}).enabled);
  EXPECT_EQ(resolve(TracingOptions{}, {}).tracesEndpoint, "http://localhost:4318/v1/traces");
}

TEST(TracingSettings, AnExplicitEndpointTurnsTracingOn) {
  const TracingOptions off;  // tracing.enabled: false
  const TracingSettings base = resolve(off, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}});
  EXPECT_TRUE(base.enabled);
  EXPECT_EQ(base.tracesEndpoint, "http://c:4318/v1/traces");
  const TracingSettings traces =
      resolve(off, {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/custom"}});
  EXPECT_TRUE(traces.enabled);
  EXPECT_EQ(traces.tracesEndpoint, "http://c:4318/custom");
  // Other variables alone do not.
  EXPECT_FALSE(
      resolve(off, {{"OTEL_SERVICE_NAME", "x"}, {"OTEL_TRACES_SAMPLER", "always_on"}}).enabled);
}

TEST(TracingSettings, EndpointPrecedence) {
  const TracingOptions options = enabledOptions();
  // The traces endpoint is used as is, and wins over the base one.
  EXPECT_EQ(resolve(options, {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://t:1/x/y"},
                              {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"}})
                .tracesEndpoint,
            "https://t:1/x/y");
  // The base one gets /v1/traces, after its own path, without doubling a slash.
  EXPECT_EQ(
      resolve(options, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318/prefix"}}).tracesEndpoint,
      "http://base:4318/prefix/v1/traces");
  EXPECT_EQ(resolve(options, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318/"}}).tracesEndpoint,
            "http://base:4318/v1/traces");
  // Empty means unset.
  EXPECT_EQ(resolve(options, {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""}}).tracesEndpoint,
            "http://collector.internal:4318/v1/traces");
}

TEST(TracingSettings, AnInvalidEndpointIsIgnoredWithAWarning) {
  std::vector<std::string> warnings;
  const TracingSettings settings =
      resolve(TracingOptions{}, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"}}, &warnings);
  EXPECT_FALSE(settings.enabled);  // it named nothing usable
  EXPECT_EQ(settings.tracesEndpoint, "http://localhost:4318/v1/traces");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("OTEL_EXPORTER_OTLP_ENDPOINT"), std::string::npos);
}

TEST(TracingSettings, DisabledByTheSdkSwitchOrExporterNone) {
  const TracingOptions options = enabledOptions();
  EXPECT_FALSE(resolve(options, {{"OTEL_SDK_DISABLED", "true"}}).enabled);
  EXPECT_FALSE(resolve(options, {{"OTEL_SDK_DISABLED", "TRUE"},
                                 {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}})
                   .enabled);
  EXPECT_FALSE(resolve(options, {{"OTEL_TRACES_EXPORTER", "none"}}).enabled);
  EXPECT_TRUE(resolve(options, {{"OTEL_SDK_DISABLED", "false"}}).enabled);
  EXPECT_TRUE(resolve(options, {{"OTEL_TRACES_EXPORTER", "otlp"}}).enabled);
  std::vector<std::string> warnings;
  EXPECT_TRUE(resolve(options, {{"OTEL_SDK_DISABLED", "yes"}}, &warnings).enabled);
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_FALSE(resolve(options, {{"OTEL_TRACES_EXPORTER", "zipkin"}}, &warnings).enabled);
  EXPECT_FALSE(warnings.empty());
  EXPECT_TRUE(resolve(options, {{"OTEL_TRACES_EXPORTER", "otlp,console"}}, &warnings).enabled);
}

TEST(TracingSettings, ServiceNamePrecedence) {
  const TracingOptions options = enabledOptions();
  EXPECT_EQ(resolve(options, {}).serviceName(), "from-config");
  EXPECT_EQ(resolve(options, {{"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-resource,team=md"}})
                .serviceName(),
            "from-resource");
  const TracingSettings both =
      resolve(options, {{"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-resource,team=md"},
                        {"OTEL_SERVICE_NAME", "from-env"}});
  EXPECT_EQ(both.serviceName(), "from-env");
  EXPECT_EQ(resourceValue(both, "team"), "md");
  EXPECT_EQ(both.resource.front().first, "service.name");
}

TEST(TracingSettings, ResourceDescribesTheSdk) {
  const TracingSettings settings = resolve(
      enabledOptions(),
      {{"OTEL_RESOURCE_ATTRIBUTES", "telemetry.sdk.name=fake,deployment.environment=prod%20eu"}});
  EXPECT_EQ(resourceValue(settings, "telemetry.sdk.name"), "wsrouter");
  EXPECT_EQ(resourceValue(settings, "telemetry.sdk.language"), "cpp");
  EXPECT_EQ(resourceValue(settings, "telemetry.sdk.version"), wsrouterVersion());
  EXPECT_EQ(resourceValue(settings, "service.version"), wsrouterVersion());
  EXPECT_EQ(resourceValue(settings, "deployment.environment"), "prod eu");
  EXPECT_EQ(resourceValue(
                resolve(enabledOptions(), {{"OTEL_RESOURCE_ATTRIBUTES", "service.version=9.9"}}),
                "service.version"),
            "9.9");
}

TEST(TracingSettings, Headers) {
  std::vector<std::string> warnings;
  const TracingSettings settings =
      resolve(enabledOptions(),
              {{"OTEL_EXPORTER_OTLP_HEADERS", "api-key=s%3Dcret,X-Shared=base"},
               {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-shared=traces,x-only=1"}},
              &warnings);
  EXPECT_TRUE(warnings.empty());
  const KeyValues expected = {{"api-key", "s=cret"}, {"x-shared", "traces"}, {"x-only", "1"}};
  EXPECT_EQ(settings.headers, expected);
}

TEST(TracingSettings, Sampler) {
  const TracingSettings settings = resolve(
      enabledOptions(),
      {{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "0.1"}});
  EXPECT_EQ(settings.sampler.kind(), Sampler::Kind::ParentBasedTraceIdRatio);
  EXPECT_EQ(settings.sampler.ratio(), 0.1);
  std::vector<std::string> warnings;
  EXPECT_EQ(
      resolve(enabledOptions(), {{"OTEL_TRACES_SAMPLER", "sometimes"}}, &warnings).sampler.kind(),
      Sampler::Kind::ParentBasedAlwaysOn);
  EXPECT_EQ(warnings.size(), 1u);
}

TEST(TracingSettings, TimeoutAndBatchProcessorVariables) {
  TracingOptions options = enabledOptions();
  const TracingSettings settings = resolve(options, {{"OTEL_EXPORTER_OTLP_TIMEOUT", "5000"},
                                                     {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2000"},
                                                     {"OTEL_BSP_SCHEDULE_DELAY", "50"},
                                                     {"OTEL_BSP_MAX_QUEUE_SIZE", "64"},
                                                     {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16"}});
  EXPECT_EQ(settings.exportTimeoutMs, 2000u);  // the traces one wins
  EXPECT_EQ(settings.exportIntervalMs, 50u);
  EXPECT_EQ(settings.queueSize, 64u);
  EXPECT_EQ(settings.batchSize, 16u);
  EXPECT_EQ(resolve(options, {{"OTEL_EXPORTER_OTLP_TIMEOUT", "5000"}}).exportTimeoutMs, 5000u);

  std::vector<std::string> warnings;
  const TracingSettings bad =
      resolve(options, {{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s"}, {"OTEL_BSP_MAX_QUEUE_SIZE", "0"}},
              &warnings);
  EXPECT_EQ(bad.exportTimeoutMs, options.exportTimeoutMs);
  EXPECT_EQ(bad.queueSize, options.queueSize);
  EXPECT_EQ(warnings.size(), 2u);
  // A batch is never larger than the queue.
  EXPECT_EQ(resolve(options, {{"OTEL_BSP_MAX_QUEUE_SIZE", "8"}}).batchSize, 8u);
}

TEST(TracingSettings, OnlyJsonIsSpoken) {
  std::vector<std::string> warnings;
  resolve(enabledOptions(), {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}}, &warnings);
  EXPECT_TRUE(warnings.empty());
  resolve(enabledOptions(), {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}}, &warnings);
  EXPECT_EQ(warnings.size(), 1u);
}

TEST(TracingSettings, WarningsNeverQuoteHeaderValues) {
  std::vector<std::string> warnings;
  resolve(enabledOptions(), {{"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%zztopsecret"}},
          &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].find("topsecret"), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace wsr::telemetry
