#include "telemetry/Sampler.h"

#include <charconv>
#include <cmath>

namespace wsr::telemetry {
namespace {

struct NamedKind {
  std::string_view name;
  Sampler::Kind kind;
};

constexpr NamedKind kKinds[] = {
    {"always_on", Sampler::Kind::AlwaysOn},
    {"always_off", Sampler::Kind::AlwaysOff},
    {"traceidratio", Sampler::Kind::TraceIdRatio},
    {"parentbased_always_on", Sampler::Kind::ParentBasedAlwaysOn},
    {"parentbased_always_off", Sampler::Kind::ParentBasedAlwaysOff},
    {"parentbased_traceidratio", Sampler::Kind::ParentBasedTraceIdRatio},
};

constexpr double kTwoTo63 = 9223372036854775808.0;

bool usesRatio(Sampler::Kind kind) {
  return kind == Sampler::Kind::TraceIdRatio || kind == Sampler::Kind::ParentBasedTraceIdRatio;
}

bool parseRatio(std::string_view text, double& ratio) {
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  if (text.empty()) return false;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return false;
  if (!std::isfinite(value) || value < 0.0 || value > 1.0) return false;
  ratio = value;
  return true;
}

}  // namespace

Sampler::Sampler(Kind kind, double ratio) : kind_(kind), ratio_(ratio) {
  if (ratio_ >= 1.0) {
    upperBound_ = UINT64_MAX;
  } else if (ratio_ <= 0.0) {
    upperBound_ = 0;
  } else {
    upperBound_ = static_cast<uint64_t>(ratio_ * kTwoTo63);
  }
}

Sampler Sampler::fromEnvironment(std::string_view name, std::string_view arg,
                                 std::vector<std::string>& warnings) {
  Kind kind = Kind::ParentBasedAlwaysOn;
  if (!name.empty()) {
    bool known = false;
    for (const NamedKind& named : kKinds) {
      if (named.name == name) {
        kind = named.kind;
        known = true;
      }
    }
    if (!known) {
      warnings.push_back("OTEL_TRACES_SAMPLER: unsupported sampler '" + std::string(name) +
                         "'; using parentbased_always_on");
    }
  }
  double ratio = 1.0;
  if (usesRatio(kind) && !arg.empty() && !parseRatio(arg, ratio)) {
    warnings.push_back("OTEL_TRACES_SAMPLER_ARG: '" + std::string(arg) +
                       "' is not a ratio from 0 to 1; using 1.0");
    ratio = 1.0;
  }
  return Sampler(kind, ratio);
}

bool Sampler::ratioSamples(const TraceId& traceId) const {
  if (upperBound_ == UINT64_MAX) return true;
  uint64_t low = 0;
  for (size_t i = 8; i < 16; ++i)
    low = low << 8 | traceId[i];
  return (low >> 1) < upperBound_;
}

bool Sampler::shouldSample(const TraceContext& parent, const TraceId& traceId) const {
  switch (kind_) {
    case Kind::AlwaysOn:
      return true;
    case Kind::AlwaysOff:
      return false;
    case Kind::TraceIdRatio:
      return ratioSamples(traceId);
    case Kind::ParentBasedAlwaysOn:
      return parent.valid() ? parent.sampled() : true;
    case Kind::ParentBasedAlwaysOff:
      return parent.valid() ? parent.sampled() : false;
    case Kind::ParentBasedTraceIdRatio:
      return parent.valid() ? parent.sampled() : ratioSamples(traceId);
  }
  return false;
}

std::string_view Sampler::name() const {
  for (const NamedKind& named : kKinds) {
    if (named.kind == kind_) return named.name;
  }
  return "unknown";
}

}  // namespace wsr::telemetry
