#include "ws/Utf8Validator.h"

#include <array>
#include <cstring>

namespace wsr::ws {
namespace {

// A byte-class DFA in the style of Hoehrmann's decoder: each byte maps to a
// class, and (state, class) to the next state. The classes are chosen so the
// second byte of E0, ED, F0 and F4 sequences can be range-checked, which is
// what rejects overlongs, surrogates and code points above U+10FFFF at the
// first byte that makes them impossible.
enum Class : uint8_t {
  kAscii,    // 00-7F
  kCont80,   // 80-8F
  kCont90,   // 90-9F
  kContA0,   // A0-BF
  kLead2,    // C2-DF
  kLeadE0,   // E0: second byte A0-BF (else overlong)
  kLead3,    // E1-EC, EE-EF
  kLeadED,   // ED: second byte 80-9F (else surrogate)
  kLeadF0,   // F0: second byte 90-BF (else overlong)
  kLead4,    // F1-F3
  kLeadF4,   // F4: second byte 80-8F (else above U+10FFFF)
  kInvalid,  // C0, C1, F5-FF
  kClassCount
};

// States 0 and 1 are the header's kAccept and kReject.
enum State : uint8_t {
  kAccept,
  kReject,
  kNeed1,    // one continuation byte left
  kNeed2,    // two continuation bytes left
  kNeed3,    // three continuation bytes left
  kAfterE0,  // then A0-BF
  kAfterED,  // then 80-9F
  kAfterF0,  // then 90-BF
  kAfterF4,  // then 80-8F
  kStateCount
};

constexpr std::array<uint8_t, 256> makeClasses() {
  std::array<uint8_t, 256> classes{};
  for (int b = 0; b < 256; ++b) {
    uint8_t c = kInvalid;
    if (b <= 0x7F)
      c = kAscii;
    else if (b <= 0x8F)
      c = kCont80;
    else if (b <= 0x9F)
      c = kCont90;
    else if (b <= 0xBF)
      c = kContA0;
    else if (b <= 0xC1)
      c = kInvalid;
    else if (b <= 0xDF)
      c = kLead2;
    else if (b == 0xE0)
      c = kLeadE0;
    else if (b == 0xED)
      c = kLeadED;
    else if (b <= 0xEF)
      c = kLead3;
    else if (b == 0xF0)
      c = kLeadF0;
    else if (b <= 0xF3)
      c = kLead4;
    else if (b == 0xF4)
      c = kLeadF4;
    classes[b] = c;
  }
  return classes;
}

using Transitions = std::array<std::array<uint8_t, kClassCount>, kStateCount>;

constexpr Transitions makeTransitions() {
  Transitions t{};
  for (auto& row : t)
    row.fill(kReject);
  t[kAccept][kAscii] = kAccept;
  t[kAccept][kLead2] = kNeed1;
  t[kAccept][kLeadE0] = kAfterE0;
  t[kAccept][kLead3] = kNeed2;
  t[kAccept][kLeadED] = kAfterED;
  t[kAccept][kLeadF0] = kAfterF0;
  t[kAccept][kLead4] = kNeed3;
  t[kAccept][kLeadF4] = kAfterF4;
  for (uint8_t c : {kCont80, kCont90, kContA0}) {
    t[kNeed1][c] = kAccept;
    t[kNeed2][c] = kNeed1;
    t[kNeed3][c] = kNeed2;
  }
  t[kAfterE0][kContA0] = kNeed1;
  t[kAfterED][kCont80] = kNeed1;
  t[kAfterED][kCont90] = kNeed1;
  t[kAfterF0][kCont90] = kNeed2;
  t[kAfterF0][kContA0] = kNeed2;
  t[kAfterF4][kCont80] = kNeed2;
  return t;
}

constexpr std::array<uint8_t, 256> kClasses = makeClasses();
constexpr Transitions kTransitions = makeTransitions();
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

}  // namespace

bool Utf8Validator::feed(std::string_view bytes) {
  uint8_t state = state_;
  if (state == kReject) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p != end) {
    if (state == kAccept) {
      // Most payloads are JSON, mostly ASCII: skip it a word at a time.
      while (end - p >= 8) {
        uint64_t word;
        std::memcpy(&word, p, sizeof word);
        if ((word & kHighBits) != 0) break;
        p += 8;
      }
      while (p != end && *p < 0x80)
        ++p;
      if (p == end) break;
    }
    state = kTransitions[state][kClasses[*p++]];
    if (state == kReject) break;
  }
  state_ = state;
  return state != kReject;
}

bool isValidUtf8(std::string_view bytes) {
  Utf8Validator validator;
  return validator.feed(bytes) && validator.complete();
}

}  // namespace wsr::ws
