#include "app/SharedLimitMetrics.h"

#include <string>

#include "telemetry/MetricFamilies.h"

namespace wsr::app {

std::vector<prometheus::MetricFamily> SharedLimitCollector::Collect() const {
  prometheus::MetricFamily fallbacks = telemetry::counterFamily(
      "wsrouter_shared_limit_fallbacks_total",
      "Checks of a limit shared by the instances decided by this instance alone: Redis "
      "unreachable or too slow.");
  prometheus::MetricFamily refusals = telemetry::counterFamily(
      "wsrouter_shared_limit_refusals_total",
      "Upgrades refused (429) and connections closed (4029) because the count shared by the "
      "instances was past the limit.");
  for (size_t i = 0; i < hub::kSharedLimitCount; ++i) {
    const telemetry::Labels kind{
        {"kind", std::string(hub::sharedLimitName(static_cast<hub::SharedLimit>(i)))}};
    telemetry::addSample(
        fallbacks, static_cast<double>(stats_.fallbacks[i].load(std::memory_order_relaxed)), kind);
    telemetry::addSample(
        refusals, static_cast<double>(stats_.refusals[i].load(std::memory_order_relaxed)), kind);
  }
  return {std::move(fallbacks), std::move(refusals)};
}

}  // namespace wsr::app
