#pragma once
// Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF), so a text message split over fragments, or inflated piece
// by piece, is refused as soon as its first bad byte arrives.

#include <cstdint>
#include <string_view>

namespace wsr::ws {

class Utf8Validator {
 public:
  // Checks the next bytes of the stream; false once the stream can no longer
  // be valid UTF-8 whatever follows. Stays false until reset().
  bool feed(std::string_view bytes);
  // True when everything fed so far is valid and ends on a code point boundary.
  bool complete() const { return state_ == kAccept; }
  void reset() { state_ = kAccept; }

 private:
  static constexpr uint8_t kAccept = 0;
  static constexpr uint8_t kReject = 1;
  uint8_t state_ = kAccept;
};

bool isValidUtf8(std::string_view bytes);

}  // namespace wsr::ws
