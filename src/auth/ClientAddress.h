#pragma once
// The address a client is limited and logged under. Behind an ingress the
// socket's peer is the proxy, and the client is named by the proxy's
// `Forwarded: for=...` (RFC 7239) or `X-Forwarded-For` header; but anyone can
// send those headers, so they are believed only when the peer is one of
// limits.trusted_proxies, and only as far back as the proxies go:
//
//   - peer not trusted: the peer;
//   - otherwise the hops are read right to left (Forwarded when present,
//     else X-Forwarded-For), trusted proxies skipped; the first hop that is
//     not a trusted proxy is the client. Hops further left were written by
//     that client and are never looked at;
//   - every hop trusted: the leftmost;
//   - a hop that is not an address (`for=unknown`, an obfuscated `_name`,
//     garbage) ends the walk at the nearest trusted address seen: the
//     client's address is then unknown, and the proxy's is the safest
//     stand-in (it limits that proxy's clients together, never spoofable).
//
// A header sent on several lines is to be joined with "," by the caller.

#include <string_view>

#include "auth/IpNetwork.h"

namespace wsr::auth {

IpAddress resolveClientAddress(const IpAddress& peer, std::string_view forwarded,
                               std::string_view xForwardedFor, const TrustedProxies& proxies);

}  // namespace wsr::auth
