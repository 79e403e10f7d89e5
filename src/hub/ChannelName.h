#pragma once
// Channel names (PROTOCOL.md): `namespace` or `namespace:rest`, 1 to 128
// bytes of [A-Za-z0-9_.:@-]. The namespace, the part before the first ':',
// selects the channel's settings.

#include <cstddef>
#include <string_view>

namespace wsr::hub {

inline constexpr size_t kMaxChannelNameBytes = 128;

bool isValidChannelName(std::string_view name);

// "stock:AAPL" -> "stock"; "market" -> "market".
inline std::string_view namespaceOf(std::string_view channel) {
  return channel.substr(0, channel.find(':'));
}

}  // namespace wsr::hub
