#pragma once
// The collector's address: an http:// or https:// URL split into what
// cpp-httplib's client wants (scheme, host and port) and the request path.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wsr::telemetry {

struct HttpUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;   // 80 or 443 when the URL names none
  std::string path;    // "/" at least; the query, if any, is kept

  // "https://[::1]:4318", for httplib::Client.
  std::string origin() const;
  std::string toString() const { return origin() + path; }
};

// Nullopt for anything but http(s)://host[:port][/path]: another scheme, no
// host, user info, a bad port, a fragment.
std::optional<HttpUrl> parseHttpUrl(std::string_view text);

}  // namespace wsr::telemetry
