#include "ws/Utf8Validator.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace wsr::ws {
namespace {

// A straightforward decoder, code point by code point, to check the DFA against.
bool referenceValid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    size_t n = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      cp = b & 0x1F;
      n = 1;
    } else if ((b & 0xF0) == 0xE0) {
      cp = b & 0x0F;
      n = 2;
    } else if ((b & 0xF8) == 0xF0) {
      cp = b & 0x07;
      n = 3;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

TEST(Utf8ValidatorTest, AcceptsAsciiAndEmpty) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("Hello, world! {\"type\":\"subscribe\"}"));
  EXPECT_TRUE(isValidUtf8(std::string(1000, 'a')));
  EXPECT_TRUE(isValidUtf8(std::string("\0\x7f", 2)));
}

TEST(Utf8ValidatorTest, AcceptsCodePointBoundaries) {
  EXPECT_TRUE(isValidUtf8("\x7f"));
  EXPECT_TRUE(isValidUtf8("\xc2\x80"));                                      // U+0080
  EXPECT_TRUE(isValidUtf8("\xdf\xbf"));                                      // U+07FF
  EXPECT_TRUE(isValidUtf8("\xe0\xa0\x80"));                                  // U+0800
  EXPECT_TRUE(isValidUtf8("\xed\x9f\xbf"));                                  // U+D7FF
  EXPECT_TRUE(isValidUtf8("\xee\x80\x80"));                                  // U+E000
  EXPECT_TRUE(isValidUtf8("\xef\xbf\xbf"));                                  // U+FFFF
  EXPECT_TRUE(isValidUtf8("\xf0\x90\x80\x80"));                              // U+10000
  EXPECT_TRUE(isValidUtf8("\xf4\x8f\xbf\xbf"));                              // U+10FFFF
  EXPECT_TRUE(isValidUtf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // "kosme"
}

TEST(Utf8ValidatorTest, RefusesOverlongs) {
  for (const char* s : {"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xf0\x80\x80\x80",
                        "\xf0\x8f\xbf\xbf"}) {
    EXPECT_FALSE(isValidUtf8(s)) << s;
  }
}

TEST(Utf8ValidatorTest, RefusesSurrogates) {
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));              // U+D800
  EXPECT_FALSE(isValidUtf8("\xed\xbf\xbf"));              // U+DFFF
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80\xed\xb0\x80"));  // a CESU-8 pair
}

TEST(Utf8ValidatorTest, RefusesAboveU10FFFFAndInvalidBytes) {
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));
  for (int b = 0xf5; b <= 0xff; ++b)
    EXPECT_FALSE(isValidUtf8(std::string(1, char(b)))) << b;
  EXPECT_FALSE(isValidUtf8("\x80"));      // lone continuation
  EXPECT_FALSE(isValidUtf8("\xc2\x41"));  // lead without continuation
  EXPECT_FALSE(isValidUtf8("\xe2\x82"));  // truncated at the end
}

TEST(Utf8ValidatorTest, FailsOnTheFirstImpossibleByte) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed("ok \xe0"));
  EXPECT_FALSE(v.feed("\x80"));  // E0 80: overlong, known at the second byte
  Utf8Validator w;
  EXPECT_TRUE(w.feed("\xed"));
  EXPECT_FALSE(w.feed("\xa0"));  // surrogate, known before the third byte
  Utf8Validator x;
  EXPECT_TRUE(x.feed("\xf4"));
  EXPECT_FALSE(x.feed("\x90"));  // above U+10FFFF
  Utf8Validator y;
  EXPECT_FALSE(y.feed("\xc0"));  // C0 can never start anything
}

TEST(Utf8ValidatorTest, RejectionIsStickyUntilReset) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed("\xff"));
  EXPECT_FALSE(v.feed("abc"));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.feed("abc"));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8ValidatorTest, CompleteOnlyAtCodePointBoundary) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed("\xe2\x82"));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed("\xac"));  // the euro sign, split over two feeds
  EXPECT_TRUE(v.complete());
}

TEST(Utf8ValidatorTest, EverySplitGivesTheSameAnswer) {
  const std::string texts[] = {
      "price \xe2\x82\xac 12 \xf0\x9f\x98\x80 done and some long ascii tail here",
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",
      "abcdefgh\xed\xa0\x80ijklmnop",
      "abcdefghijklmnop\xf4\x90\x80\x80",
  };
  for (const std::string& text : texts) {
    const bool whole = isValidUtf8(text);
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      Utf8Validator v;
      const bool ok = v.feed(std::string_view(text).substr(0, cut)) &&
                      v.feed(std::string_view(text).substr(cut)) && v.complete();
      EXPECT_EQ(ok, whole) << "cut at " << cut;
    }
  }
}

TEST(Utf8ValidatorTest, FastPathFindsABadByteAtAnyOffset) {
  for (size_t at = 0; at < 40; ++at) {
    std::string s(48, 'x');
    s[at] = '\xff';
    EXPECT_FALSE(isValidUtf8(s)) << at;
    s[at] = '\xc3';
    s[at + 1] = '\xa9';
    EXPECT_TRUE(isValidUtf8(s)) << at;
  }
}

TEST(Utf8ValidatorTest, AgreesWithReferenceOnAllTwoByteStrings) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string s{char(a), char(b)};
      ASSERT_EQ(isValidUtf8(s), referenceValid(s)) << a << "," << b;
    }
  }
}

TEST(Utf8ValidatorTest, AgreesWithReferenceOnAllThreeByteSequences) {
  for (int a = 0xc0; a < 256; ++a) {
    for (int b = 0x70; b < 0xd0; ++b) {
      for (int c = 0x70; c < 0xd0; ++c) {
        const std::string s{char(a), char(b), char(c)};
        ASSERT_EQ(isValidUtf8(s), referenceValid(s)) << a << "," << b << "," << c;
      }
    }
  }
}

TEST(Utf8ValidatorTest, AgreesWithReferenceOnRandomStrings) {
  std::mt19937 rng(12345);
  // Bytes biased towards the interesting ranges so valid sequences do occur.
  const uint8_t pool[] = {'a',  'Z',  0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
                          0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf3, 0xf4, 0xf5};
  for (int iter = 0; iter < 200000; ++iter) {
    std::string s(rng() % 24, '\0');
    for (char& c : s)
      c = static_cast<char>(pool[rng() % sizeof pool]);
    ASSERT_EQ(isValidUtf8(s), referenceValid(s));
  }
}

}  // namespace
}  // namespace wsr::ws
