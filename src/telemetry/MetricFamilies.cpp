#include "telemetry/MetricFamilies.h"

#include <limits>
#include <stdexcept>
#include <utility>

namespace wsr::telemetry {
namespace {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily out;
  out.name = std::move(name);
  out.help = std::move(help);
  out.type = type;
  return out;
}

}  // namespace

prometheus::MetricFamily counterFamily(std::string name, std::string help) {
  return family(std::move(name), std::move(help), prometheus::MetricType::Counter);
}

prometheus::MetricFamily gaugeFamily(std::string name, std::string help) {
  return family(std::move(name), std::move(help), prometheus::MetricType::Gauge);
}

prometheus::MetricFamily histogramFamily(std::string name, std::string help) {
  return family(std::move(name), std::move(help), prometheus::MetricType::Histogram);
}

void addSample(prometheus::MetricFamily& family, double value, Labels labels) {
  prometheus::ClientMetric sample;
  sample.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    sample.counter.value = value;
  } else if (family.type == prometheus::MetricType::Gauge) {
    sample.gauge.value = value;
  } else {
    throw std::logic_error("addSample: " + family.name + " is neither a counter nor a gauge");
  }
  family.metric.push_back(std::move(sample));
}

void addHistogram(prometheus::MetricFamily& family, std::span<const double> upperBounds,
                  std::span<const uint64_t> counts, double sum, Labels labels) {
  if (counts.size() != upperBounds.size() + 1) {
    throw std::logic_error("addHistogram: " + family.name + " needs one count per bucket and +Inf");
  }
  prometheus::ClientMetric sample;
  sample.label = std::move(labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const double bound =
        i < upperBounds.size() ? upperBounds[i] : std::numeric_limits<double>::infinity();
    sample.histogram.bucket.push_back({cumulative, bound});
  }
  sample.histogram.sample_count = cumulative;
  sample.histogram.sample_sum = sum;
  family.metric.push_back(std::move(sample));
}

}  // namespace wsr::telemetry
