#include "telemetry/TracingSettings.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

#include "telemetry/HttpUrl.h"

extern char** environ;  // POSIX

#ifndef WSROUTER_VERSION
#define WSROUTER_VERSION "0.0.0"
#endif

namespace wsr::telemetry {
namespace {

constexpr std::string_view kTracesPath = "/v1/traces";

struct Range {
  uint32_t min;
  uint32_t max;
};
// The ranges config.yaml allows for the same settings.
constexpr Range kQueueRange{1, 1000000};
constexpr Range kBatchRange{1, 100000};
constexpr Range kIntervalRange{10, 600000};
constexpr Range kTimeoutRange{100, 600000};

class Variables {
 public:
  explicit Variables(const EnvironmentVariables& environment) : environment_(environment) {}

  // Empty when unset or set to "".
  std::string_view get(std::string_view name) const {
    auto it = environment_.find(name);
    return it == environment_.end() ? std::string_view() : std::string_view(it->second);
  }

 private:
  const EnvironmentVariables& environment_;
};

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// OTEL_SDK_DISABLED: "true" (any case) is true; "false" and unset are false;
// anything else is false with a warning (the spec's rule for booleans).
bool flagIsTrue(const Variables& vars, std::string_view name, std::vector<std::string>& warnings) {
  const std::string value = lowercase(trimmed(vars.get(name)));
  if (value.empty() || value == "false") return false;
  if (value == "true") return true;
  warnings.push_back(std::string(name) + ": '" + value + "' is not true or false; taken as false");
  return false;
}

// A number of milliseconds (or spans) in range, from the first of `names`
// that is set; `value` is left alone when none is, or it is not usable.
void overrideNumber(const Variables& vars, std::initializer_list<std::string_view> names,
                    Range range, uint32_t& value, std::vector<std::string>& warnings) {
  for (std::string_view name : names) {
    const std::string_view text = trimmed(vars.get(name));
    if (text.empty()) continue;
    uint64_t parsed = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (error != std::errc() || end != text.data() + text.size() || parsed < range.min ||
        parsed > range.max) {
      warnings.push_back(std::string(name) + ": '" + std::string(text) +
                         "' is not an integer from " + std::to_string(range.min) + " to " +
                         std::to_string(range.max) + "; ignored");
      continue;
    }
    value = static_cast<uint32_t>(parsed);
    return;
  }
}

std::string withTracesPath(std::string_view base) {
  if (base.ends_with('/')) base.remove_suffix(1);
  return std::string(base) + std::string(kTracesPath);
}

// The endpoint, and whether the environment named one explicitly.
std::string resolveEndpoint(const TracingOptions& options, const Variables& vars,
                            bool& fromEnvironment, std::vector<std::string>& warnings) {
  fromEnvironment = false;
  const std::string_view traces = trimmed(vars.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
  if (!traces.empty()) {
    if (parseHttpUrl(traces)) {
      fromEnvironment = true;
      return std::string(traces);
    }
    warnings.push_back("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '" + std::string(traces) +
                       "' is not an http:// or https:// URL; ignored");
  }
  const std::string_view base = trimmed(vars.get("OTEL_EXPORTER_OTLP_ENDPOINT"));
  if (!base.empty()) {
    if (parseHttpUrl(base)) {
      fromEnvironment = true;
      return withTracesPath(base);
    }
    warnings.push_back("OTEL_EXPORTER_OTLP_ENDPOINT: '" + std::string(base) +
                       "' is not an http:// or https:// URL; ignored");
  }
  return withTracesPath(options.endpoint);
}

// OTEL_TRACES_EXPORTER: a list; wsrouter has the otlp exporter only.
bool exporterWanted(const Variables& vars, std::vector<std::string>& warnings) {
  const std::string value = lowercase(trimmed(vars.get("OTEL_TRACES_EXPORTER")));
  if (value.empty()) return true;
  bool otlp = false;
  bool none = false;
  std::string_view rest = value;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view name = trimmed(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (name == "otlp") {
      otlp = true;
    } else if (name == "none") {
      none = true;
    } else if (!name.empty()) {
      warnings.push_back("OTEL_TRACES_EXPORTER: exporter '" + std::string(name) +
                         "' is not supported (only otlp); ignored");
    }
  }
  if (none) return false;
  if (!otlp) warnings.push_back("OTEL_TRACES_EXPORTER names no supported exporter; tracing is off");
  return otlp;
}

void setAttribute(KeyValues& attributes, std::string key, std::string value) {
  for (auto& [k, v] : attributes) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  attributes.emplace_back(std::move(key), std::move(value));
}

KeyValues resolveResource(const TracingOptions& options, const Variables& vars,
                          std::vector<std::string>& warnings) {
  KeyValues attributes;
  attributes.emplace_back("service.name", options.serviceName);
  for (auto& [key, value] : parseKeyValueList(vars.get("OTEL_RESOURCE_ATTRIBUTES"),
                                              "OTEL_RESOURCE_ATTRIBUTES", warnings)) {
    setAttribute(attributes, std::move(key), std::move(value));
  }
  const std::string_view serviceName = trimmed(vars.get("OTEL_SERVICE_NAME"));
  if (!serviceName.empty()) setAttribute(attributes, "service.name", std::string(serviceName));
  if (attributes.front().second.empty()) attributes.front().second = options.serviceName;
  bool hasVersion = false;
  for (const auto& [key, value] : attributes)
    hasVersion = hasVersion || key == "service.version";
  if (!hasVersion) attributes.emplace_back("service.version", WSROUTER_VERSION);
  // What produced the data: ours, whatever the environment says.
  setAttribute(attributes, "telemetry.sdk.name", kInstrumentationName);
  setAttribute(attributes, "telemetry.sdk.language", "cpp");
  setAttribute(attributes, "telemetry.sdk.version", WSROUTER_VERSION);
  return attributes;
}

void checkProtocol(const Variables& vars, std::vector<std::string>& warnings) {
  for (std::string_view name :
       {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"}) {
    const std::string_view value = trimmed(vars.get(name));
    if (value.empty()) continue;
    if (value != "http/json") {
      warnings.push_back(std::string(name) + ": '" + std::string(value) +
                         "' is not supported; wsrouter exports http/json");
    }
    return;  // the traces variable, when set, is the one that counts
  }
}

}  // namespace

const std::string& TracingSettings::serviceName() const {
  static const std::string kNone;
  for (const auto& [key, value] : resource) {
    if (key == "service.name") return value;
  }
  return kNone;
}

const char* wsrouterVersion() {
  return WSROUTER_VERSION;
}

EnvironmentVariables otelVariablesOfProcess() {
  EnvironmentVariables out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!text.starts_with("OTEL_")) continue;
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    out.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return out;
}

TracingSettings resolveTracingSettings(const TracingOptions& options,
                                       const EnvironmentVariables& environment,
                                       std::vector<std::string>& warnings) {
  const Variables vars(environment);
  TracingSettings settings;

  bool endpointFromEnvironment = false;
  settings.tracesEndpoint = resolveEndpoint(options, vars, endpointFromEnvironment, warnings);
  const bool disabled = flagIsTrue(vars, "OTEL_SDK_DISABLED", warnings);
  const bool exporter = exporterWanted(vars, warnings);
  settings.enabled = (options.enabled || endpointFromEnvironment) && !disabled && exporter;

  settings.headers = parseKeyValueList(vars.get("OTEL_EXPORTER_OTLP_HEADERS"),
                                       "OTEL_EXPORTER_OTLP_HEADERS", warnings);
  for (auto& header : parseKeyValueList(vars.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
                                        "OTEL_EXPORTER_OTLP_TRACES_HEADERS", warnings)) {
    // Header names are case-insensitive.
    const std::string name = lowercase(header.first);
    std::erase_if(settings.headers,
                  [&](const auto& existing) { return lowercase(existing.first) == name; });
    settings.headers.push_back(std::move(header));
  }
  settings.resource = resolveResource(options, vars, warnings);
  settings.sampler = Sampler::fromEnvironment(trimmed(vars.get("OTEL_TRACES_SAMPLER")),
                                              vars.get("OTEL_TRACES_SAMPLER_ARG"), warnings);

  settings.queueSize = options.queueSize;
  settings.batchSize = options.batchSize;
  settings.exportIntervalMs = options.exportIntervalMs;
  settings.exportTimeoutMs = options.exportTimeoutMs;
  overrideNumber(vars, {"OTEL_BSP_MAX_QUEUE_SIZE"}, kQueueRange, settings.queueSize, warnings);
  overrideNumber(vars, {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE"}, kBatchRange, settings.batchSize,
                 warnings);
  overrideNumber(vars, {"OTEL_BSP_SCHEDULE_DELAY"}, kIntervalRange, settings.exportIntervalMs,
                 warnings);
  overrideNumber(vars, {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"},
                 kTimeoutRange, settings.exportTimeoutMs, warnings);
  // The batch span processor's rule: a batch is never larger than the queue.
  settings.batchSize = std::min(settings.batchSize, settings.queueSize);
  checkProtocol(vars, warnings);
  return settings;
}

}  // namespace wsr::telemetry
