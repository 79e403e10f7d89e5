// Channel permissions: user:<sub> ownership, `channels` patterns and
// namespace claim requirements, with and without a token identity.

#include "auth/ChannelAccess.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wsr::auth {
namespace {

Identity identityOf(std::string subject) {
  Identity identity;
  identity.subject = std::move(subject);
  return identity;
}

Identity withChannels(std::string subject, std::vector<std::string> patterns) {
  Identity identity = identityOf(std::move(subject));
  identity.channels = std::move(patterns);
  return identity;
}

bool allowed(const Identity* identity, std::string_view channel,
             const ChannelRequirements& requirements = {}) {
  const AccessDecision decision = mayAccess(identity, channel, requirements);
  EXPECT_EQ(decision.reason.empty(), decision.allowed) << channel;
  return decision.allowed;
}

TEST(ChannelPattern, ExactWildcardAndPrefix) {
  EXPECT_TRUE(channelPatternMatches("market", "market"));
  EXPECT_FALSE(channelPatternMatches("market", "market:eu"));
  EXPECT_FALSE(channelPatternMatches("market", "marke"));
  EXPECT_TRUE(channelPatternMatches("*", "anything:at-all"));
  EXPECT_TRUE(channelPatternMatches("stock:*", "stock:AAPL"));
  EXPECT_TRUE(channelPatternMatches("stock:*", "stock:"));
  EXPECT_FALSE(channelPatternMatches("stock:*", "stock"));
  EXPECT_FALSE(channelPatternMatches("stock:*", "stocks:AAPL"));
  EXPECT_TRUE(channelPatternMatches("sector:te*", "sector:tech"));
  EXPECT_TRUE(channelPatternMatches("sector:te*", "sector:telecom"));
  EXPECT_FALSE(channelPatternMatches("sector:te*", "sector:finance"));
  // Only a trailing '*' is special.
  EXPECT_FALSE(channelPatternMatches("st*ck:AAPL", "stock:AAPL"));
  EXPECT_TRUE(channelPatternMatches("st*ck:AAPL", "st*ck:AAPL"));
  EXPECT_FALSE(channelPatternMatches("", "market"));
}

TEST(ChannelAccess, UserChannelBelongsToItsSubjectOnly) {
  const Identity alice = identityOf("7");
  EXPECT_TRUE(allowed(&alice, "user:7"));
  EXPECT_FALSE(allowed(&alice, "user:8"));
  EXPECT_FALSE(allowed(&alice, "user:77"));
  EXPECT_FALSE(allowed(&alice, "user:"));
  EXPECT_FALSE(allowed(&alice, "user"));
  EXPECT_FALSE(allowed(&alice, "user:7:x"));

  const AccessDecision decision = mayAccess(&alice, "user:8", {});
  EXPECT_EQ(decision.reason, "channel user:8 is not allowed for this token");
}

TEST(ChannelAccess, UserChannelNeedsAnIdentity) {
  const AccessDecision decision = mayAccess(nullptr, "user:7", {});
  EXPECT_FALSE(decision.allowed);
  EXPECT_NE(decision.reason.find("user:7"), std::string::npos) << decision.reason;
}

TEST(ChannelAccess, PatternsNeverGrantSomeoneElsesUserChannel) {
  const Identity everything = withChannels("alice", {"*", "user:*", "user:bob"});
  EXPECT_FALSE(allowed(&everything, "user:bob"));
  EXPECT_TRUE(allowed(&everything, "user:alice"));
}

TEST(ChannelAccess, OwnUserChannelNeedsNoPattern) {
  const Identity restricted = withChannels("alice", {"stock:*"});
  EXPECT_TRUE(allowed(&restricted, "user:alice"));
  const Identity none = withChannels("alice", {});
  EXPECT_TRUE(allowed(&none, "user:alice"));
}

TEST(ChannelAccess, WithoutChannelsClaimEveryOtherChannelIsAllowed) {
  const Identity alice = identityOf("alice");
  EXPECT_TRUE(allowed(&alice, "market"));
  EXPECT_TRUE(allowed(&alice, "stock:AAPL"));
  EXPECT_TRUE(allowed(&alice, "sector:tech"));
}

TEST(ChannelAccess, ChannelsClaimRestricts) {
  const Identity alice = withChannels("alice", {"stock:*", "sector:te*", "market"});
  EXPECT_TRUE(allowed(&alice, "stock:AAPL"));
  EXPECT_TRUE(allowed(&alice, "sector:tech"));
  EXPECT_TRUE(allowed(&alice, "market"));
  EXPECT_FALSE(allowed(&alice, "sector:finance"));
  EXPECT_FALSE(allowed(&alice, "foreign"));
  EXPECT_FALSE(allowed(&alice, "market:eu"));
  EXPECT_EQ(mayAccess(&alice, "foreign", {}).reason,
            "channel foreign is not allowed for this token");

  const Identity nothing = withChannels("alice", {});
  EXPECT_FALSE(allowed(&nothing, "market"));
  const Identity everything = withChannels("alice", {"*"});
  EXPECT_TRUE(allowed(&everything, "foreign"));
}

TEST(ChannelAccess, WithoutIdentityOnlyUserChannelsAndRequirementsApply) {
  EXPECT_TRUE(allowed(nullptr, "market"));
  EXPECT_TRUE(allowed(nullptr, "stock:AAPL"));
  EXPECT_FALSE(allowed(nullptr, "user:alice"));
}

TEST(ChannelAccess, NamespaceRequirement) {
  const ChannelRequirements requirements = {{"market", {"tier", "premium"}}};
  Identity premium = identityOf("alice");
  premium.addClaimValue("tier", "premium");
  Identity basic = identityOf("bob");
  basic.addClaimValue("tier", "basic");

  EXPECT_TRUE(allowed(&premium, "market", requirements));
  EXPECT_TRUE(allowed(&premium, "market:eu", requirements));  // namespace "market"
  EXPECT_FALSE(allowed(&basic, "market", requirements));
  EXPECT_FALSE(allowed(&basic, "market:eu", requirements));
  EXPECT_TRUE(allowed(&basic, "marketing", requirements));  // another namespace
  EXPECT_TRUE(allowed(&basic, "stock:AAPL", requirements));
  EXPECT_FALSE(allowed(nullptr, "market", requirements)) << "unmet without an identity";

  const AccessDecision decision = mayAccess(&basic, "market", requirements);
  EXPECT_NE(decision.reason.find("market"), std::string::npos) << decision.reason;
  EXPECT_NE(decision.reason.find("tier=premium"), std::string::npos) << decision.reason;
}

TEST(ChannelAccess, RequirementAndPatternMustBothHold) {
  const ChannelRequirements requirements = {{"stock", {"plan", "pro"}}};
  Identity patternOnly = withChannels("alice", {"stock:*"});
  EXPECT_FALSE(allowed(&patternOnly, "stock:AAPL", requirements));
  Identity claimOnly = withChannels("bob", {"market"});
  claimOnly.addClaimValue("plan", "pro");
  EXPECT_FALSE(allowed(&claimOnly, "stock:AAPL", requirements));
  Identity both = withChannels("carol", {"stock:*"});
  both.addClaimValue("plan", "pro");
  EXPECT_TRUE(allowed(&both, "stock:AAPL", requirements));
}

TEST(ChannelAccess, RequirementOnUserNamespaceAppliesToTheOwner) {
  const ChannelRequirements requirements = {{"user", {"verified", "true"}}};
  Identity unverified = identityOf("alice");
  EXPECT_FALSE(allowed(&unverified, "user:alice", requirements));
  Identity verified = identityOf("alice");
  verified.addClaimValue("verified", "true");
  EXPECT_TRUE(allowed(&verified, "user:alice", requirements));
}

}  // namespace
}  // namespace wsr::auth
