// The channel permission rules.

#include "auth/ChannelAccess.h"

#include <algorithm>

#include "text/Concat.h"

namespace wsr::auth {
namespace {

constexpr std::string_view kUserNamespace = "user";

std::string_view namespaceOf(std::string_view channel) {
  return channel.substr(0, channel.find(':'));
}

AccessDecision refused(std::string reason) {
  return AccessDecision{false, std::move(reason)};
}

std::string notAllowed(std::string_view channel) {
  return text::concat("channel ", channel, " is not allowed for this token");
}

}  // namespace

bool channelPatternMatches(std::string_view pattern, std::string_view channel) {
  if (!pattern.empty() && pattern.back() == '*') {
    return channel.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return pattern == channel;
}

AccessDecision mayAccess(const Identity* identity, std::string_view channel,
                         const ChannelRequirements& requirements) {
  const std::string_view channelNamespace = namespaceOf(channel);
  if (channelNamespace == kUserNamespace) {
    // Only the owner: "user" and "user:" have no owner at all.
    const bool owner = identity != nullptr && channel.size() > kUserNamespace.size() + 1 &&
                       channel.substr(kUserNamespace.size() + 1) == identity->subject;
    if (!owner) {
      return refused(identity == nullptr ? text::concat("channel ", channel,
                                                        " is only allowed to its owner's token")
                                         : notAllowed(channel));
    }
  } else if (identity != nullptr && identity->channels) {
    const std::vector<std::string>& patterns = *identity->channels;
    if (std::none_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
          return channelPatternMatches(pattern, channel);
        })) {
      return refused(notAllowed(channel));
    }
  }
  const auto requirement = requirements.find(channelNamespace);
  if (requirement != requirements.end() &&
      (identity == nullptr ||
       !identity->hasClaimValue(requirement->second.claim, requirement->second.value))) {
    return refused(text::concat("channel ", channel, " requires a token with ",
                                requirement->second.claim, "=", requirement->second.value));
  }
  return AccessDecision{true, {}};
}

}  // namespace wsr::auth
