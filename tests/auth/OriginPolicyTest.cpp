#include "auth/OriginPolicy.h"

#include <gtest/gtest.h>

namespace wsr::auth {
namespace {

OriginPolicy policy(std::vector<std::string> entries) {
  std::string error;
  auto parsed = OriginPolicy::parse(entries, error);
  EXPECT_TRUE(parsed.has_value()) << error;
  return parsed.value_or(OriginPolicy{});
}

TEST(OriginPolicy, AnEmptyListAllowsEveryOrigin) {
  const OriginPolicy open = policy({});
  EXPECT_TRUE(open.allows("https://anything.example"));
  EXPECT_TRUE(open.allows("null"));
}

TEST(OriginPolicy, ExactOriginsCompareSchemeHostAndPort) {
  const OriginPolicy p = policy({"https://app.example.com", "http://localhost:3000"});
  EXPECT_TRUE(p.allows("https://app.example.com"));
  EXPECT_TRUE(p.allows("HTTPS://App.Example.COM"));
  EXPECT_TRUE(p.allows("https://app.example.com:443"));
  EXPECT_TRUE(p.allows("http://localhost:3000"));
  EXPECT_FALSE(p.allows("http://app.example.com"));
  EXPECT_FALSE(p.allows("https://app.example.com:8443"));
  EXPECT_FALSE(p.allows("https://app.example.com.evil.net"));
  EXPECT_FALSE(p.allows("http://localhost:3001"));
}

TEST(OriginPolicy, WildcardsMatchSubdomainsOnly) {
  const OriginPolicy p = policy({"https://*.example.com"});
  EXPECT_TRUE(p.allows("https://a.example.com"));
  EXPECT_TRUE(p.allows("https://a.b.example.com"));
  EXPECT_FALSE(p.allows("https://example.com"));
  EXPECT_FALSE(p.allows("https://evilexample.com"));
  EXPECT_FALSE(p.allows("http://a.example.com"));
}

TEST(OriginPolicy, NonBrowsersPassAndNullOriginsDoNot) {
  const OriginPolicy p = policy({"https://app.example.com"});
  EXPECT_TRUE(p.allows(""));
  EXPECT_FALSE(p.allows("null"));
  EXPECT_FALSE(p.allows("garbage"));
  EXPECT_FALSE(p.allows("https://*.example.com"));
}

TEST(OriginPolicy, BadEntriesAreNamed) {
  std::string error;
  EXPECT_FALSE(OriginPolicy::parse({"https://ok.example", "app.example.com"}, error));
  EXPECT_NE(error.find("[1]"), std::string::npos) << error;
  EXPECT_NE(error.find("app.example.com"), std::string::npos) << error;
  EXPECT_FALSE(OriginPolicy::parse({"https://"}, error));
  EXPECT_FALSE(OriginPolicy::parse({"https://host:port"}, error));
}

}  // namespace
}  // namespace wsr::auth
