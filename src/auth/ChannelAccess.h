#pragma once
// Which channels a client may subscribe to (DESIGN.md, security):
//   - user:<x> belongs to the identity whose subject is exactly x: never
//     granted by a `channels` pattern, never without a token identity;
//   - otherwise, a token with a `channels` claim must have a pattern that
//     matches: exact, "*" for everything, or "<prefix>*" for that prefix
//     (stock:*, sector:te*);
//   - and a namespace (the part before the first ':', or the whole name) may
//     require a claim value, e.g. market -> tier=premium, which an identity
//     must have; without an identity (auth off, static tokens) it is unmet.
// Pure: no I/O, no state, and no allocation when access is granted.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "auth/Identity.h"

namespace wsr::auth {

struct ClaimRequirement {
  std::string claim;
  std::string value;

  bool operator==(const ClaimRequirement&) const = default;
};

// Namespace -> the claim value its channels require.
using ChannelRequirements = std::map<std::string, ClaimRequirement, std::less<>>;

struct AccessDecision {
  bool allowed = false;
  std::string reason;  // when refused: the FORBIDDEN error message
};

// Whether `identity` (nullptr: a connection without a token identity) may
// use `channel`, a valid channel name.
AccessDecision mayAccess(const Identity* identity, std::string_view channel,
                         const ChannelRequirements& requirements);

// Whether one `channels` pattern matches `channel`.
bool channelPatternMatches(std::string_view pattern, std::string_view channel);

}  // namespace wsr::auth
