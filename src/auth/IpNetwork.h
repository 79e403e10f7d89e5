#pragma once
// Client addresses and the networks of limits.trusted_proxies. An address is
// 16 bytes and a family (IPv4 in the first 4 bytes, as net::PeerAddress has
// it), so the per-address table hashes and compares it without a string; an
// IPv4-mapped IPv6 address (::ffff:10.1.2.3, what a dual-stack socket
// reports) is the IPv4 address.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/Socket.h"

namespace wsr::auth {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v6 = false;

  IpAddress() = default;
  explicit IpAddress(const net::PeerAddress& peer);
  // "10.1.2.3", "::1", "::ffff:10.1.2.3"; nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text);

  std::string toString() const;
  bool operator==(const IpAddress&) const = default;
  size_t hash() const;
};

// An address and a prefix length: "10.0.0.0/8", "fd00::/8", or one address.
class IpNetwork {
 public:
  // nullopt, with `error` quoting the text, when it is neither.
  static std::optional<IpNetwork> parse(std::string_view text, std::string& error);
  bool contains(const IpAddress& address) const;

 private:
  IpAddress base_;
  unsigned prefix_ = 0;
};

// limits.trusted_proxies: the peers whose Forwarded / X-Forwarded-For
// headers are believed.
class TrustedProxies {
 public:
  static std::optional<TrustedProxies> parse(const std::vector<std::string>& entries,
                                             std::string& error);
  bool contains(const IpAddress& address) const;
  bool empty() const { return networks_.empty(); }

 private:
  std::vector<IpNetwork> networks_;
};

}  // namespace wsr::auth
