#pragma once
// Redis Cluster's redirection errors: "MOVED <slot> <host:port>" (the slot
// now lives there: ask again there, and read the slot map again) and
// "ASK <slot> <host:port>" (this once, there, after ASKING: the slot is
// being migrated).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wsr::broker {

struct ClusterRedirect {
  bool ask = false;  // ASK, not MOVED
  uint16_t slot = 0;
  std::string address;  // host:port
};

// The redirection an error text is; none for any other error.
inline std::optional<ClusterRedirect> parseClusterRedirect(std::string_view error) {
  ClusterRedirect out;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    out.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const size_t space = error.find(' ');
  if (space == 0 || space == std::string_view::npos || space + 1 == error.size()) {
    return std::nullopt;
  }
  uint32_t slot = 0;
  for (char c : error.substr(0, space)) {
    if (c < '0' || c > '9' || slot > 16383) return std::nullopt;
    slot = slot * 10 + static_cast<uint32_t>(c - '0');
  }
  if (slot > 16383) return std::nullopt;
  out.slot = static_cast<uint16_t>(slot);
  out.address = std::string(error.substr(space + 1));
  return out;
}

}  // namespace wsr::broker
