#pragma once
// The program's one JSON string escaper. Client messages, handshake refusal
// bodies and log lines all go through it, so whatever bytes a client sends
// (a request target, a channel name, an op) every JSON the program writes
// stays valid JSON in valid UTF-8, and all of it follows one policy:
//
//   - valid UTF-8 (RFC 3629) is copied as it is, DEL, U+2028 and U+2029
//     included: all are legal in a JSON string;
//   - `"` and `\` are escaped, and so are the control characters below 0x20
//     (\n \r \t \b \f, the others as \u00XX);
//   - each invalid UTF-8 sequence becomes one U+FFFD. A sequence is the
//     longest start of a valid character (a truncated "E2 82" is one), or
//     else one byte (a stray continuation byte, C0, C1, F5..FF, the first
//     byte of an overlong form, of a UTF-16 surrogate or of a code point
//     above U+10FFFF). This is the Unicode Standard's recommended practice
//     ("U+FFFD substitution of maximal subparts"), the one WHATWG decoders,
//     Python's errors="replace" and nlohmann::json's error_handler_t::replace
//     (the OTLP exporter) follow.
//
// No allocation beyond what `out` needs; no dependency on anything.

#include <cstddef>
#include <string>
#include <string_view>

namespace wsr::text {

// Appends `text` to `out` as a JSON string literal, quotes included.
void appendJsonString(std::string& out, std::string_view text);

// Exactly the number of bytes appendJsonString() appends for `text`, so a
// builder can reserve once.
size_t jsonStringLength(std::string_view text);

}  // namespace wsr::text
