#pragma once
// Building prometheus-cpp MetricFamily values by hand, for collectors that
// read the router's own counters at scrape time (nothing of prometheus-cpp
// is touched on the data path). Help texts must be plain text: the text
// serializer of prometheus-cpp 1.0 does not escape backslashes or newlines
// in them.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace wsr::telemetry {

using Labels = std::vector<prometheus::ClientMetric::Label>;

prometheus::MetricFamily counterFamily(std::string name, std::string help);
prometheus::MetricFamily gaugeFamily(std::string name, std::string help);
prometheus::MetricFamily histogramFamily(std::string name, std::string help);

// One sample of a counter or gauge family (the family's type decides which).
void addSample(prometheus::MetricFamily& family, double value, Labels labels = {});

// One histogram sample. `upperBounds` are the buckets' inclusive bounds in
// the metric's unit, increasing; `counts` has one more entry than the bounds
// (the last is +Inf) and is per bucket, not cumulative; `sum` is in the
// metric's unit. The cumulative buckets, _count and _sum come out of it.
void addHistogram(prometheus::MetricFamily& family, std::span<const double> upperBounds,
                  std::span<const uint64_t> counts, double sum, Labels labels = {});

}  // namespace wsr::telemetry
