#include "telemetry/MetricsExposition.h"

#include <prometheus/text_serializer.h>

namespace wsr::telemetry {

MetricsExposition::MetricsExposition() : registry_(std::make_shared<prometheus::Registry>()) {}

void MetricsExposition::add(std::shared_ptr<const prometheus::Collectable> collectable) {
  collectables_.push_back(std::move(collectable));
}

std::string MetricsExposition::text() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (const auto& collectable : collectables_) {
    std::vector<prometheus::MetricFamily> more = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace wsr::telemetry
