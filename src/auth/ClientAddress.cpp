#include "auth/ClientAddress.h"

#include <cctype>
#include <optional>
#include <vector>

#include "text/Trim.h"

namespace wsr::auth {
namespace {

std::vector<std::string_view> splitCommas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t comma = text.find(',');
    parts.push_back(text::trimSpaces(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

// One node of either header: "1.2.3.4", "1.2.3.4:80", "[::1]", "[::1]:80",
// "::1"; quotes around it removed by the caller.
std::optional<IpAddress> parseNode(std::string_view node) {
  if (node.starts_with('[')) {
    const size_t close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = node.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
    return IpAddress::parse(node.substr(1, close - 1));
  }
  if (std::optional<IpAddress> address = IpAddress::parse(node)) return address;
  // v4:port (a bare IPv6 address has parsed above already)
  const size_t colon = node.find(':');
  if (colon != std::string_view::npos && node.find(':', colon + 1) == std::string_view::npos) {
    return IpAddress::parse(node.substr(0, colon));
  }
  return std::nullopt;
}

// The `for=` value of one Forwarded element ("for=1.2.3.4;proto=https"),
// unquoted; empty when the element has none.
std::string_view forwardedFor(std::string_view element) {
  while (!element.empty()) {
    const size_t semicolon = element.find(';');
    const std::string_view pair = text::trimSpaces(element.substr(0, semicolon));
    const size_t equals = pair.find('=');
    if (equals == 3) {
      const std::string_view name = pair.substr(0, 3);
      bool isFor = true;
      for (size_t i = 0; i < 3; ++i) {
        isFor = isFor && std::tolower(static_cast<unsigned char>(name[i])) == "for"[i];
      }
      if (isFor) {
        std::string_view value = text::trimSpaces(pair.substr(4));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        return value;
      }
    }
    if (semicolon == std::string_view::npos) break;
    element.remove_prefix(semicolon + 1);
  }
  return {};
}

}  // namespace

IpAddress resolveClientAddress(const IpAddress& peer, std::string_view forwarded,
                               std::string_view xForwardedFor, const TrustedProxies& proxies) {
  if (!proxies.contains(peer)) return peer;
  std::vector<std::string_view> hops;
  if (!text::trimSpaces(forwarded).empty()) {
    for (std::string_view element : splitCommas(forwarded))
      hops.push_back(forwardedFor(element));
  } else if (!text::trimSpaces(xForwardedFor).empty()) {
    hops = splitCommas(xForwardedFor);
  }
  IpAddress nearest = peer;
  for (size_t i = hops.size(); i-- > 0;) {
    const std::optional<IpAddress> hop = parseNode(hops[i]);
    if (!hop) return nearest;  // unknown or obfuscated: the client is unknown
    if (!proxies.contains(*hop)) return *hop;
    nearest = *hop;
  }
  return nearest;
}

}  // namespace wsr::auth
