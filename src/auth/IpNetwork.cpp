#include "auth/IpNetwork.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "text/Concat.h"

namespace wsr::auth {
namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// ::ffff:a.b.c.d is a.b.c.d.
void unmap(IpAddress& address) {
  if (address.v6 && std::memcmp(address.bytes.data(), kMappedPrefix, 12) == 0) {
    std::array<uint8_t, 16> v4{};
    std::memcpy(v4.data(), address.bytes.data() + 12, 4);
    address.bytes = v4;
    address.v6 = false;
  }
}

}  // namespace

IpAddress::IpAddress(const net::PeerAddress& peer) : bytes(peer.bytes), v6(peer.v6) {
  unmap(*this);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress address;
  if (inet_pton(AF_INET, buffer, address.bytes.data()) == 1) return address;
  if (inet_pton(AF_INET6, buffer, address.bytes.data()) == 1) {
    address.v6 = true;
    unmap(address);
    return address;
  }
  return std::nullopt;
}

std::string IpAddress::toString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return text;
}

size_t IpAddress::hash() const {
  // FNV-1a: addresses are attacker-chosen, but the table is sharded and
  // capped, so a collision flood costs the attacker its own slots only.
  uint64_t h = v6 ? 0xcbf29ce484222325ULL : 0x84222325cbf29ce4ULL;
  for (const uint8_t byte : bytes) {
    h ^= byte;
    h *= 0x100000001b3ULL;
  }
  return static_cast<size_t>(h);
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text, std::string& error) {
  const size_t slash = text.find('/');
  const std::optional<IpAddress> address = IpAddress::parse(text.substr(0, slash));
  const auto fail = [&](std::string_view why) {
    error = text::concat("'", text, "' ", why);
    return std::nullopt;
  };
  if (!address) return fail("is not an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.0/8)");
  IpNetwork network;
  network.base_ = *address;
  const unsigned bits = address->v6 ? 128 : 32;
  network.prefix_ = bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    unsigned prefix = 0;
    const auto [end, status] =
        std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || status != std::errc() || end != digits.data() + digits.size() ||
        prefix > bits) {
      return fail(address->v6 ? "has a prefix length that is not 0 to 128"
                              : "has a prefix length that is not 0 to 32");
    }
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8.
    network.prefix_ = text.substr(0, slash).find(':') != std::string_view::npos && !address->v6
                          ? (prefix >= 96 ? prefix - 96 : 0)
                          : prefix;
  }
  return network;
}

bool IpNetwork::contains(const IpAddress& address) const {
  if (address.v6 != base_.v6) return false;
  const unsigned whole = prefix_ / 8;
  if (std::memcmp(address.bytes.data(), base_.bytes.data(), whole) != 0) return false;
  const unsigned rest = prefix_ % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[whole] & mask) == (base_.bytes[whole] & mask);
}

std::optional<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& entries,
                                                    std::string& error) {
  TrustedProxies proxies;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string detail;
    std::optional<IpNetwork> network = IpNetwork::parse(entries[i], detail);
    if (!network) {
      error = text::concat("[", std::to_string(i), "]: ", detail);
      return std::nullopt;
    }
    proxies.networks_.push_back(*network);
  }
  return proxies;
}

bool TrustedProxies::contains(const IpAddress& address) const {
  for (const IpNetwork& network : networks_) {
    if (network.contains(address)) return true;
  }
  return false;
}

}  // namespace wsr::auth
