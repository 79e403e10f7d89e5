#include "auth/Credentials.h"

#include <gtest/gtest.h>

namespace wsr::auth {
namespace {

using Source = Credential::Source;

TEST(Credentials, BearerHeaderComesFirst) {
  const Credential c =
      findCredential("Bearer abc.def", {"wsrouter.v1", "bearer.fromprotocol"}, "token=fromquery");
  EXPECT_EQ(c.source, Source::Header);
  EXPECT_EQ(c.token, "abc.def");
  EXPECT_TRUE(c.offeredSubprotocol);
}

TEST(Credentials, BearerSchemeIsCaseInsensitiveAndTrimmed) {
  EXPECT_EQ(findCredential("  bearer   tok123  ", {}, "").token, "tok123");
}

TEST(Credentials, AnotherSchemeIsAHeaderCredentialWithoutAToken) {
  const Credential c = findCredential("Basic dXNlcjpwYXNz", {}, "token=fromquery");
  EXPECT_EQ(c.source, Source::Header);
  EXPECT_TRUE(c.token.empty());
}

TEST(Credentials, SubprotocolBeforeQuery) {
  const Credential c = findCredential("", {"wsrouter.v1", "bearer.eyJ.x.y"}, "a=1&token=q");
  EXPECT_EQ(c.source, Source::Subprotocol);
  EXPECT_EQ(c.token, "eyJ.x.y");
  EXPECT_TRUE(c.offeredSubprotocol);
}

TEST(Credentials, QueryTokenAnywhereInTheQuery) {
  const Credential c = findCredential("", {}, "a=1&token=q1&token=q2");
  EXPECT_EQ(c.source, Source::Query);
  EXPECT_EQ(c.token, "q1");
  EXPECT_FALSE(c.offeredSubprotocol);
}

TEST(Credentials, NoneAtAll) {
  const Credential c = findCredential("", {"chat"}, "tokens=1&xtoken=2");
  EXPECT_EQ(c.source, Source::None);
  EXPECT_TRUE(c.token.empty());
  EXPECT_FALSE(c.offeredSubprotocol);
}

TEST(Credentials, RedactedTargetHidesEveryTokenParameter) {
  EXPECT_EQ(redactedTarget("/ws/market?token=secret&x=1&token=again"),
            "/ws/market?token=REDACTED&x=1&token=REDACTED");
  EXPECT_EQ(redactedTarget("/ws?x=token=secret"), "/ws?x=token=secret");
  EXPECT_EQ(redactedTarget("/ws"), "/ws");
  EXPECT_EQ(redactedTarget("/ws?"), "/ws?");
}

}  // namespace
}  // namespace wsr::auth
