#pragma once
// Base64url without padding (RFC 4648 §5, as JWS uses it, RFC 7515 §2).
// Decoding is strict so that one token has exactly one spelling: only the
// alphabet A-Z a-z 0-9 - _ is accepted; '=', '+', '/', whitespace, a length
// that no byte string encodes to (length % 4 == 1) and non-zero unused
// trailing bits are all refused.

#include <string>
#include <string_view>

namespace wsr::auth {

// Whether `text` is a canonical unpadded base64url encoding. No allocation.
bool isBase64Url(std::string_view text);

// Replaces `out` with the bytes `text` encodes; false (and `out` empty) when
// `text` is not canonical unpadded base64url. `out` keeps its capacity, so a
// reused buffer does not allocate again.
bool base64UrlDecode(std::string_view text, std::string& out);

// The canonical unpadded base64url encoding of `bytes`.
std::string base64UrlEncode(std::string_view bytes);

}  // namespace wsr::auth
