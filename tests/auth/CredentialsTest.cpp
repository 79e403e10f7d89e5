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

TEST(Credentials, LoggableTargetKeepsNamesNeverValues) {
  EXPECT_EQ(loggableTarget("/ws/market", "token=secret&x=1&token=again", true),
            "/ws/market?token&x&token");
  EXPECT_EQ(loggableTarget("/ws", "x=token=secret", true), "/ws?x");
  EXPECT_EQ(loggableTarget("/ws", "", true), "/ws");
  EXPECT_EQ(loggableTarget("/ws", "&&", true), "/ws");
  EXPECT_EQ(loggableTarget("/ws", "a=&=b&c", true), "/ws?a&&*");
}

// Issue 11, defect 12: the forms that slipped past `token=` redaction.
TEST(Credentials, LoggableTargetHidesNearMissTokens) {
  const std::string secret = "S3CRET-value-0123456789";
  for (const std::string& query :
       {std::string("TOKEN=") + secret, std::string("%74oken=") + secret,
        std::string("x=1;token=") + secret, std::string("Token=") + secret,
        std::string("x=1&access_token=") + secret, secret, std::string("token%3D") + secret}) {
    const std::string logged = loggableTarget("/ws", query, true);
    EXPECT_EQ(logged.find("S3CRET"), std::string::npos) << query << " -> " << logged;
  }
  EXPECT_EQ(loggableTarget("/ws", std::string("TOKEN=") + secret, true), "/ws?TOKEN");
  EXPECT_EQ(loggableTarget("/ws", std::string("%74oken=") + secret, true), "/ws?%74oken");
  EXPECT_EQ(loggableTarget("/ws", std::string("x=1;token=") + secret, true), "/ws?x");
  EXPECT_EQ(loggableTarget("/ws", secret, true), "/ws?*");
  // A token in an unknown path: the path is not logged at all.
  EXPECT_EQ(loggableTarget(std::string("/ws/") + secret, "", false), std::string(kUnknownPath));
  EXPECT_EQ(loggableTarget(std::string("/") + secret, "a=1", false),
            std::string(kUnknownPath) + "?a");
}

TEST(Credentials, LoggableTargetIsBounded) {
  std::string query;
  for (int i = 0; i < 100; ++i)
    query.append("p").append(std::to_string(i)).append("=v&");
  const std::string logged = loggableTarget("/ws", query, true);
  EXPECT_EQ(logged.rfind("/ws?p0&p1&", 0), 0u) << logged;
  EXPECT_EQ(logged.substr(logged.size() - 4), "&...");
  EXPECT_EQ(logged.find("p16"), std::string::npos);
  EXPECT_EQ(loggableTarget("/ws", std::string(kMaxLoggedNameBytes + 1, 'n') + "=1", true), "/ws?*");
  EXPECT_EQ(loggableTarget("/ws", std::string(kMaxLoggedNameBytes, 'n') + "=1", true),
            std::string("/ws?") + std::string(kMaxLoggedNameBytes, 'n'));
}

}  // namespace
}  // namespace wsr::auth
