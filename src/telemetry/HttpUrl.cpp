#include "telemetry/HttpUrl.h"

#include <charconv>

namespace wsr::telemetry {

std::string HttpUrl::origin() const {
  // Built by appending: g++ 12 misreads "[" + std::string (-Wrestrict).
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = scheme;
  out += "://";
  if (ipv6) out += '[';
  out += host;
  if (ipv6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::optional<HttpUrl> parseHttpUrl(std::string_view text) {
  HttpUrl url;
  constexpr std::string_view kHttp = "http://";
  constexpr std::string_view kHttps = "https://";
  if (text.starts_with(kHttp)) {
    url.scheme = "http";
    url.port = 80;
    text.remove_prefix(kHttp.size());
  } else if (text.starts_with(kHttps)) {
    url.scheme = "https";
    url.port = 443;
    text.remove_prefix(kHttps.size());
  } else {
    return std::nullopt;
  }
  if (text.find('#') != std::string_view::npos) return std::nullopt;
  const size_t pathStart = text.find_first_of("/?");
  std::string_view authority = text.substr(0, pathStart);
  const std::string_view path =
      pathStart == std::string_view::npos ? std::string_view() : text.substr(pathStart);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view portText;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      portText = rest.substr(1);
      if (portText.empty()) return std::nullopt;
    }
  } else {
    const size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      portText = authority.substr(colon + 1);
      if (portText.empty()) return std::nullopt;
    }
    if (url.host.empty()) return std::nullopt;
  }
  if (!portText.empty()) {
    unsigned port = 0;
    const auto [end, error] =
        std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (error != std::errc() || end != portText.data() + portText.size() || port == 0 ||
        port > 65535) {
      return std::nullopt;
    }
    url.port = static_cast<uint16_t>(port);
  }
  // "http://h?x" has an empty path before its query: "/" it is.
  if (path.empty() || path.front() == '?') url.path.push_back('/');
  url.path.append(path);
  return url;
}

}  // namespace wsr::telemetry
