#include "telemetry/KeyValueList.h"

#include <gtest/gtest.h>

#include "telemetry/HttpUrl.h"

namespace wsr::telemetry {
namespace {

TEST(KeyValueList, ParsesTrimsAndPercentDecodes) {
  std::vector<std::string> warnings;
  const KeyValues list = parseKeyValueList(
      " api-key = secret%20value , x-team=a%2Cb%3Dc,authorization=Basic+dXNlcg==", "VAR", warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0], (std::pair<std::string, std::string>{"api-key", "secret value"}));
  EXPECT_EQ(list[1], (std::pair<std::string, std::string>{"x-team", "a,b=c"}));
  // "+" is a plus, and "=" inside a value is kept.
  EXPECT_EQ(list[2], (std::pair<std::string, std::string>{"authorization", "Basic+dXNlcg=="}));
}

TEST(KeyValueList, EmptyEntriesAreSkippedSilently) {
  std::vector<std::string> warnings;
  EXPECT_TRUE(parseKeyValueList("", "VAR", warnings).empty());
  EXPECT_EQ(parseKeyValueList("a=1,,b=2,", "VAR", warnings).size(), 2u);
  EXPECT_TRUE(warnings.empty());
}

TEST(KeyValueList, MalformedEntriesWarnWithoutTheirValue) {
  std::vector<std::string> warnings;
  const KeyValues list =
      parseKeyValueList("good=1,novalue,=orphan,bad key=x,pct=%zzsecret,ok=2", "HEADERS", warnings);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].first, "good");
  EXPECT_EQ(list[1].first, "ok");
  ASSERT_EQ(warnings.size(), 4u);
  for (const std::string& warning : warnings) {
    EXPECT_NE(warning.find("HEADERS"), std::string::npos) << warning;
    EXPECT_EQ(warning.find("secret"), std::string::npos) << warning;
    EXPECT_EQ(warning.find("orphan"), std::string::npos) << warning;
  }
  EXPECT_NE(warnings[0].find("entry 2"), std::string::npos) << warnings[0];
}

TEST(PercentDecode, Cases) {
  std::string out;
  EXPECT_TRUE(percentDecode("a%2Fb%2fc", out));
  EXPECT_EQ(out, "a/b/c");
  EXPECT_FALSE(percentDecode("a%2", out));
  EXPECT_FALSE(percentDecode("a%", out));
  EXPECT_FALSE(percentDecode("%g0", out));
}

TEST(HttpUrl, Parses) {
  auto url = parseHttpUrl("http://localhost:4318/v1/traces");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, 4318);
  EXPECT_EQ(url->path, "/v1/traces");
  EXPECT_EQ(url->origin(), "http://localhost:4318");

  url = parseHttpUrl("https://collector.example.com");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path, "/");

  url = parseHttpUrl("http://[::1]:9000/base/v1/traces?tenant=a");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->path, "/base/v1/traces?tenant=a");
  EXPECT_EQ(url->origin(), "http://[::1]:9000");

  url = parseHttpUrl("http://h?x=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->path, "/?x=1");
}

TEST(HttpUrl, Rejects) {
  for (const char* bad :
       {"", "localhost:4318", "grpc://h:4317", "http://", "http://:80/", "http://h:/", "http://h:0",
        "http://h:65536", "http://h:12a", "http://user:pw@h/", "http://h/#frag", "http://[::1",
        "http://[]:80", "http://[::1]x"}) {
    EXPECT_FALSE(parseHttpUrl(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace wsr::telemetry
