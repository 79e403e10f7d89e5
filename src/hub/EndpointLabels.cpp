#include "hub/EndpointLabels.h"

#include "hub/ChannelName.h"

namespace wsr::hub {

EndpointLabels::EndpointLabels(const config::Config& config) : labels_{"/ws"} {
  for (const auto& [name, settings] : config.namespaces) {
    if (!settings.dedicatedEndpoint) continue;
    namespaces_.push_back(name);
    labels_.push_back("/ws/" + name);
  }
}

size_t EndpointLabels::indexOf(std::string_view dedicatedChannel) const {
  if (dedicatedChannel.empty()) return 0;
  const std::string_view name = namespaceOf(dedicatedChannel);
  size_t fallback = 0;
  for (size_t i = 0; i < namespaces_.size(); ++i) {
    if (namespaces_[i] == name) return i + 1;
    if (namespaces_[i] == config::kDefaultNamespace) fallback = i + 1;
  }
  return fallback;
}

}  // namespace wsr::hub
