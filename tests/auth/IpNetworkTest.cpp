#include "auth/IpNetwork.h"

#include <gtest/gtest.h>

#include "auth/ClientAddress.h"

namespace wsr::auth {
namespace {

IpAddress ip(std::string_view text) {
  const auto address = IpAddress::parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

TrustedProxies proxies(std::vector<std::string> entries) {
  std::string error;
  auto parsed = TrustedProxies::parse(entries, error);
  EXPECT_TRUE(parsed.has_value()) << error;
  return parsed.value_or(TrustedProxies{});
}

TEST(IpNetwork, ParsesAddressesAndUnmapsIpv4MappedIpv6) {
  EXPECT_EQ(ip("10.1.2.3").toString(), "10.1.2.3");
  EXPECT_EQ(ip("::1").toString(), "::1");
  EXPECT_EQ(ip("::ffff:10.1.2.3"), ip("10.1.2.3"));
  EXPECT_FALSE(ip("::ffff:10.1.2.3").v6);
  EXPECT_FALSE(IpAddress::parse("10.1.2").has_value());
  EXPECT_FALSE(IpAddress::parse("").has_value());
  EXPECT_FALSE(IpAddress::parse("example.com").has_value());
}

TEST(IpNetwork, FromAPeerAddress) {
  net::PeerAddress peer;
  peer.bytes = {127, 0, 0, 9};
  EXPECT_EQ(IpAddress(peer).toString(), "127.0.0.9");
}

TEST(IpNetwork, CidrContainment) {
  std::string error;
  const auto ten = IpNetwork::parse("10.0.0.0/8", error);
  ASSERT_TRUE(ten) << error;
  EXPECT_TRUE(ten->contains(ip("10.255.1.2")));
  EXPECT_FALSE(ten->contains(ip("11.0.0.1")));
  EXPECT_FALSE(ten->contains(ip("::1")));
  const auto odd = IpNetwork::parse("192.168.1.128/25", error);
  ASSERT_TRUE(odd) << error;
  EXPECT_TRUE(odd->contains(ip("192.168.1.200")));
  EXPECT_FALSE(odd->contains(ip("192.168.1.127")));
  const auto v6 = IpNetwork::parse("fd00::/8", error);
  ASSERT_TRUE(v6) << error;
  EXPECT_TRUE(v6->contains(ip("fd12:3456::1")));
  EXPECT_FALSE(v6->contains(ip("fe80::1")));
  const auto one = IpNetwork::parse("127.0.0.1", error);
  ASSERT_TRUE(one) << error;
  EXPECT_TRUE(one->contains(ip("127.0.0.1")));
  EXPECT_FALSE(one->contains(ip("127.0.0.2")));
  const auto all = IpNetwork::parse("0.0.0.0/0", error);
  ASSERT_TRUE(all) << error;
  EXPECT_TRUE(all->contains(ip("203.0.113.9")));
}

TEST(IpNetwork, BadEntriesAreNamed) {
  std::string error;
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/33", error));
  EXPECT_NE(error.find("10.0.0.0/33"), std::string::npos) << error;
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/", error));
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/8x", error));
  EXPECT_FALSE(IpNetwork::parse("proxy.local", error));
  EXPECT_FALSE(TrustedProxies::parse({"10.0.0.0/8", "nope"}, error));
  EXPECT_NE(error.find("[1]"), std::string::npos) << error;
  EXPECT_NE(error.find("nope"), std::string::npos) << error;
}

// ---- the client address ------------------------------------------------------

TEST(ClientAddress, AnUntrustedPeerIsTheClientWhateverItSends) {
  const TrustedProxies trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(resolveClientAddress(ip("203.0.113.7"), "for=1.2.3.4", "1.2.3.4", trusted),
            ip("203.0.113.7"));
  EXPECT_EQ(resolveClientAddress(ip("203.0.113.7"), "", "1.2.3.4", TrustedProxies{}),
            ip("203.0.113.7"));
}

TEST(ClientAddress, TrustedProxyHopsAreSkippedRightToLeft) {
  const TrustedProxies trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), "", "1.2.3.4, 10.0.0.5", trusted), ip("1.2.3.4"));
  // What the client itself prepended, left of its own address, is not read.
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), "", "6.6.6.6, 1.2.3.4, 10.0.0.5", trusted),
            ip("1.2.3.4"));
  // Every hop a proxy: the leftmost.
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), "", "10.9.9.9,10.0.0.5", trusted), ip("10.9.9.9"));
  // No header: the proxy itself.
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), "", "", trusted), ip("10.0.0.1"));
}

TEST(ClientAddress, ForwardedHeaderWinsAndItsFormsParse) {
  const TrustedProxies trusted = proxies({"10.0.0.0/8", "fd00::/8"});
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), "for=1.2.3.4;proto=https, For=10.0.0.5", "9.9.9.9",
                                 trusted),
            ip("1.2.3.4"));
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), R"(for="[2001:db8::7]:4711")", "", trusted),
            ip("2001:db8::7"));
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), "proto=https;for=\"1.2.3.4:8080\"", "", trusted),
            ip("1.2.3.4"));
  EXPECT_EQ(resolveClientAddress(ip("fd00::1"), "", "2001:db8::9", trusted), ip("2001:db8::9"));
}

TEST(ClientAddress, AnUnknownHopStopsAtTheNearestProxy) {
  const TrustedProxies trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), "for=unknown, for=10.0.0.5", "", trusted),
            ip("10.0.0.5"));
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), "for=_hidden", "", trusted), ip("10.0.0.1"));
  EXPECT_EQ(resolveClientAddress(ip("10.0.0.1"), "", "garbage, 10.0.0.5", trusted), ip("10.0.0.5"));
}

}  // namespace
}  // namespace wsr::auth
