#pragma once
// Which traces are recorded: the OpenTelemetry SDK's built-in samplers, as
// OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name them.
//
// - always_on, always_off: every span, or none (a parent's decision is ignored);
// - traceidratio: a ratio of traces, decided on the trace id alone, so every
//   span of one trace (and every process that uses the same rule) decides the
//   same way;
// - parentbased_*: a span with a parent (a traceparent header, or a span of
//   this process) follows the parent's sampled flag; a root span uses the
//   named sampler. parentbased_always_on is the default.

#include <string>
#include <string_view>
#include <vector>

#include "telemetry/TraceContext.h"

namespace wsr::telemetry {

class Sampler {
 public:
  enum class Kind {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio,
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio,
  };

  Sampler() = default;  // parentbased_always_on
  Sampler(Kind kind, double ratio);

  // From the variables' values (empty: not set). An unknown name or a ratio
  // that is not a number in [0, 1] adds a warning and falls back to the
  // default (parentbased_always_on; ratio 1.0), as the SDK spec asks.
  static Sampler fromEnvironment(std::string_view name, std::string_view arg,
                                 std::vector<std::string>& warnings);

  // Whether a new span with this parent (invalid: none) and trace id is sampled.
  bool shouldSample(const TraceContext& parent, const TraceId& traceId) const;

  Kind kind() const { return kind_; }
  double ratio() const { return ratio_; }
  // "parentbased_traceidratio" (the variable's spelling), for logs and stats.
  std::string_view name() const;

 private:
  bool ratioSamples(const TraceId& traceId) const;

  Kind kind_ = Kind::ParentBasedAlwaysOn;
  double ratio_ = 1.0;
  // traceidratio: a trace is sampled when the last 8 bytes of its id, read as
  // a big-endian number and shifted right by one, are below this (ratio *
  // 2^63), the rule of the Go and Java SDKs. A higher ratio samples a superset.
  uint64_t upperBound_ = UINT64_MAX;
};

}  // namespace wsr::telemetry
