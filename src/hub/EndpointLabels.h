#pragma once
// The `endpoint` label of the connection metrics: "/ws", and "/ws/<namespace>"
// for each configured namespace with dedicated_endpoint, in name order.
// Bounded by the configuration, never by what clients ask for: /ws/market
// and /ws/market:eu both count as "/ws/market".

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.h"

namespace wsr::hub {

class EndpointLabels {
 public:
  explicit EndpointLabels(const config::Config& config);

  // "/ws" first, then the dedicated ones.
  const std::vector<std::string>& labels() const { return labels_; }
  size_t size() const { return labels_.size(); }
  // The index of a connection's label: 0 for /ws (dedicatedChannel empty),
  // else its namespace's (an unconfigured one counts as "default").
  size_t indexOf(std::string_view dedicatedChannel) const;

 private:
  std::vector<std::string> labels_;
  std::vector<std::string> namespaces_;  // labels_[i + 1] is for namespaces_[i]
};

}  // namespace wsr::hub
