#include "text/JsonString.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace wsr::text {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

std::string json(std::string_view text) {
  std::string out;
  appendJsonString(out, text);
  EXPECT_EQ(out.size(), jsonStringLength(text)) << text;
  return out;
}

std::string asLiteral(std::string_view inner) {
  std::string out = "\"";
  out.append(inner);
  out += '"';
  return out;
}

std::string repeat(std::string_view text, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out.append(text);
  return out;
}

// What a strict JSON parser reads back; throws on invalid JSON or UTF-8.
std::string parsed(const std::string& literal) {
  return nlohmann::json::parse(literal).get<std::string>();
}

TEST(JsonString, PlainTextQuotesAndBackslashes) {
  EXPECT_EQ(json(""), R"("")");
  EXPECT_EQ(json("stock:AAPL"), R"("stock:AAPL")");
  EXPECT_EQ(json("a\"b\\c/d"), R"("a\"b\\c/d")");
}

TEST(JsonString, ControlCharactersAreEscaped) {
  EXPECT_EQ(json("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(json(std::string_view("\0\x01\x1f\x0b", 4)), R"("\u0000\u0001\u001f\u000b")");
  EXPECT_EQ(json("\x7f"), "\"\x7f\"");  // DEL is legal in a JSON string
  for (int c = 0; c < 0x20; ++c) {
    const std::string text(1, static_cast<char>(c));
    EXPECT_EQ(parsed(json(text)), text) << c;
  }
}

TEST(JsonString, ValidMultibyteCharactersPassThrough) {
  for (std::string_view text :
       {"\xC2\x80", "\xC3\xA9", "\xDF\xBF", "\xE0\xA0\x80", "\xE2\x82\xAC", "\xED\x9F\xBF",
        "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
        "\xE2\x80\xA8\xE2\x80\xA9", "na\xC3\xAFve caf\xC3\xA9"}) {
    EXPECT_EQ(json(text), asLiteral(text)) << text;
    EXPECT_EQ(parsed(json(text)), text);
  }
}

TEST(JsonString, OverlongFormsAreReplacedByteByByte) {
  // C0 and C1 never start a character; E0 80..9F and F0 80..8F are overlong
  // at their second byte: the lead alone is the invalid sequence.
  EXPECT_EQ(json("\xC0\xAF"), asLiteral(repeat(kFffd, 2)));
  EXPECT_EQ(json("\xC1\xBF"), asLiteral(repeat(kFffd, 2)));
  EXPECT_EQ(json("\xE0\x80\xAF"), asLiteral(repeat(kFffd, 3)));
  EXPECT_EQ(json("\xE0\x9F\xBF"), asLiteral(repeat(kFffd, 3)));
  EXPECT_EQ(json("\xF0\x8F\xBF\xBF"), asLiteral(repeat(kFffd, 4)));
}

TEST(JsonString, SurrogatesAreReplaced) {
  EXPECT_EQ(json("\xED\xA0\x80"), asLiteral(repeat(kFffd, 3)));  // U+D800
  EXPECT_EQ(json("\xED\xBF\xBF"), asLiteral(repeat(kFffd, 3)));  // U+DFFF
  // CESU-8 style pair: six invalid sequences.
  EXPECT_EQ(json("\xED\xA0\xBD\xED\xB8\x80"), asLiteral(repeat(kFffd, 6)));
}

TEST(JsonString, CodePointsAboveTheUnicodeRangeAreReplaced) {
  EXPECT_EQ(json("\xF4\x90\x80\x80"), asLiteral(repeat(kFffd, 4)));  // U+110000
  EXPECT_EQ(json("\xF5\x80\x80\x80"), asLiteral(repeat(kFffd, 4)));
  EXPECT_EQ(json("\xF8\x88\x80\x80\x80"), asLiteral(repeat(kFffd, 5)));  // old 5-byte form
  EXPECT_EQ(json("\xFF\xFE"), asLiteral(repeat(kFffd, 2)));
}

TEST(JsonString, TruncatedSequencesAreOneReplacementEach) {
  EXPECT_EQ(json("\xC3"), asLiteral(kFffd));
  EXPECT_EQ(json("\xE2\x82"), asLiteral(kFffd));                       // at the end
  EXPECT_EQ(json("\xF0\x9F\x98"), asLiteral(kFffd));                   // at the end
  EXPECT_EQ(json("\xE2\x82x"), asLiteral(kFffd + "x"));                // cut by ASCII
  EXPECT_EQ(json("\xC3(x"), asLiteral(kFffd + "(x"));                  // bad continuation
  EXPECT_EQ(json("\xF0\x9F\xC3\xA9"), asLiteral(kFffd + "\xC3\xA9"));  // cut by a character
  EXPECT_EQ(json("a\x80z"), asLiteral("a" + kFffd + "z"));             // a stray continuation
  EXPECT_EQ(json("\x80\x80"), asLiteral(repeat(kFffd, 2)));
}

TEST(JsonString, MixedInputStaysValidJson) {
  EXPECT_EQ(json("\xC3\xA9\xFF\n\""), asLiteral("\xC3\xA9" + kFffd + "\\n\\\""));
  EXPECT_EQ(parsed(json("/ws/\xFF\xC3\x28?a=\xE2\x82\n")),
            "/ws/" + kFffd + kFffd + "(?a=" + kFffd + "\n");
}

TEST(JsonString, AppendsToWhatIsThere) {
  std::string out = "[";
  appendJsonString(out, "a");
  out += ',';
  appendJsonString(out, "b");
  out += ']';
  EXPECT_EQ(out, R"(["a","b"])");
}

// One policy for the program: the OTLP exporter's JSON (nlohmann::json with
// error_handler_t::replace) writes the same characters for the same bytes.
TEST(JsonString, AgreesWithTheOtlpExportersReplacement) {
  for (std::string_view text :
       {"\xE2\x82", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "a\x80z", "\xF0\x9F\x98x",
        "\xE0\x80\xAF", "\xFF\xFE", "\xC3\xA9\xE2\x82\xAC"}) {
    const std::string theirs = nlohmann::json(std::string(text))
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    EXPECT_EQ(parsed(json(text)), parsed(theirs)) << text;
  }
}

TEST(JsonString, EveryByteValueGivesValidJson) {
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  EXPECT_NO_THROW(parsed(json(all)));
  for (int c = 0; c < 256; ++c) {
    for (int d = 0; d < 256; d += 15) {
      const char pair[2] = {static_cast<char>(c), static_cast<char>(d)};
      EXPECT_NO_THROW(parsed(json(std::string_view(pair, 2)))) << c << ' ' << d;
    }
  }
}

}  // namespace
}  // namespace wsr::text
