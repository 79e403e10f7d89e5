#pragma once
// The metrics of the limits counted across instances (broker.type redis),
// read at scrape time from what the workers counted (hub::SharedLimitStats):
// wsrouter_shared_limit_fallbacks_total and
// wsrouter_shared_limit_refusals_total, by `kind`. Exported with the memory
// broker too (at 0), so that dashboards and alerts need no special case.

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "hub/SharedCounters.h"

namespace wsr::app {

class SharedLimitCollector final : public prometheus::Collectable {
 public:
  explicit SharedLimitCollector(const hub::SharedLimitStats& stats) : stats_(stats) {}

  // Any thread.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const hub::SharedLimitStats& stats_;
};

}  // namespace wsr::app
