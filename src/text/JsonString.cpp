#include "text/JsonString.h"

#include <cstdint>

namespace wsr::text {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool needsWork(uint8_t c) {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

// The short escapes JSON has; 0 for the control characters written \u00XX.
char shortEscape(uint8_t c) {
  switch (c) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\t':
      return 't';
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    default:
      return 0;
  }
}

struct Sequence {
  size_t length;  // bytes: the character's, or the invalid sequence's
  bool valid;
};

// The UTF-8 sequence starting at text[i], a byte >= 0x80 (RFC 3629 table 3-7
// of the Unicode Standard): the second byte's range depends on the lead, so
// overlongs, surrogates and code points above U+10FFFF stop at it.
Sequence sequenceAt(std::string_view text, size_t i) {
  const auto lead = static_cast<uint8_t>(text[i]);
  size_t trailing = 0;
  uint8_t low = 0x80;  // the second byte's range
  uint8_t high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    trailing = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    trailing = 2;
    if (lead == 0xE0) low = 0xA0;   // overlong below
    if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates above
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    trailing = 3;
    if (lead == 0xF0) low = 0x90;   // overlong below
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return {1, false};  // a continuation byte, C0, C1, F5..FF
  }
  for (size_t k = 1; k <= trailing; ++k) {
    if (i + k >= text.size()) return {k, false};  // truncated
    const auto c = static_cast<uint8_t>(text[i + k]);
    if (c < low || c > high) return {k, false};
    low = 0x80;
    high = 0xBF;
  }
  return {trailing + 1, true};
}

}  // namespace

void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  size_t run = 0;  // start of the bytes not yet copied that need no work
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (!needsWork(c)) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const Sequence sequence = sequenceAt(text, i);
      if (sequence.valid) {
        i += sequence.length;  // a valid character: part of the run
        continue;
      }
      out.append(text.data() + run, i - run);
      out += kReplacement;
      run = i += sequence.length;
      continue;
    }
    out.append(text.data() + run, i - run);
    if (const char escape = shortEscape(c); escape != 0) {
      out += '\\';
      out += escape;
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
    run = ++i;
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

size_t jsonStringLength(std::string_view text) {
  size_t length = 2;  // the quotes
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (!needsWork(c)) {
      ++length;
      ++i;
    } else if (c < 0x80) {
      length += shortEscape(c) != 0 ? 2 : 6;
      ++i;
    } else {
      const Sequence sequence = sequenceAt(text, i);
      length += sequence.valid ? sequence.length : kReplacement.size();
      i += sequence.length;
    }
  }
  return length;
}

}  // namespace wsr::text
