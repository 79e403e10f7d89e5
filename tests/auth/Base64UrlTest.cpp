// Base64url: RFC 4648 vectors, the URL alphabet, and every non-canonical
// spelling refused.

#include "auth/Base64Url.h"

#include <gtest/gtest.h>

#include <string>

namespace wsr::auth {
namespace {

std::string decoded(std::string_view text) {
  std::string out;
  EXPECT_TRUE(base64UrlDecode(text, out)) << text;
  return out;
}

bool refused(std::string_view text) {
  std::string out = "previous";
  const bool ok = base64UrlDecode(text, out);
  EXPECT_TRUE(ok || out.empty()) << "a refused decode must leave the output empty";
  return !ok && !isBase64Url(text);
}

TEST(Base64Url, Rfc4648VectorsWithoutPadding) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64UrlEncode(plain), encoded);
    EXPECT_EQ(decoded(encoded), plain);
  }
}

TEST(Base64Url, UsesTheUrlAlphabet) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(decoded("-_-_"), bytes);
}

TEST(Base64Url, RoundTripsEveryByteAtEveryLength) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  for (size_t length = 0; length <= all.size(); ++length) {
    const std::string bytes = all.substr(256 - length);
    const std::string text = base64UrlEncode(bytes);
    EXPECT_EQ(text.find('='), std::string::npos);
    EXPECT_TRUE(isBase64Url(text));
    EXPECT_EQ(decoded(text), bytes);
  }
}

TEST(Base64Url, RefusesPaddingAndTheStandardAlphabet) {
  EXPECT_TRUE(refused("Zg=="));
  EXPECT_TRUE(refused("Zm8="));
  EXPECT_TRUE(refused("+/+/"));
  EXPECT_TRUE(refused("ab+c"));
  EXPECT_TRUE(refused("ab/c"));
}

TEST(Base64Url, RefusesWhitespaceAndOtherBytes) {
  EXPECT_TRUE(refused("Zm9v Zm9v"));
  EXPECT_TRUE(refused("Zm9v\n"));
  EXPECT_TRUE(refused(" Zm9v"));
  EXPECT_TRUE(refused("Zm9v\t"));
  EXPECT_TRUE(refused("Zm.v"));
  EXPECT_TRUE(refused(std::string_view("Zm\0v", 4)));
  EXPECT_TRUE(refused("Zm\x80v"));
}

TEST(Base64Url, RefusesImpossibleLengths) {
  EXPECT_TRUE(refused("Z"));
  EXPECT_TRUE(refused("Zm9vY"));
  EXPECT_TRUE(refused("Zm9vYmFyZ"));
}

TEST(Base64Url, RefusesNonZeroTrailingBits) {
  // "Zg" is "f"; "Zh".."Zv" set unused bits and would decode to "f" too.
  EXPECT_TRUE(refused("Zh"));
  EXPECT_TRUE(refused("Zv"));
  EXPECT_EQ(decoded("Zw"), "g");  // 'w' keeps the low 4 bits zero
  // "Zm8" is "fo"; "Zm9" sets one of the 2 unused bits.
  EXPECT_TRUE(refused("Zm9"));
  EXPECT_TRUE(refused("Zm-"));
  EXPECT_EQ(decoded("Zm8"), "fo");
}

TEST(Base64Url, DecodeReplacesTheOutputBuffer) {
  std::string out = "something longer than the result";
  ASSERT_TRUE(base64UrlDecode("Zm9v", out));
  EXPECT_EQ(out, "foo");
  ASSERT_TRUE(base64UrlDecode("", out));
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace wsr::auth
