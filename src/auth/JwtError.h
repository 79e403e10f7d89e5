#pragma once
// Why a token was refused. The names are stable: they are metric labels
// (auth failures by reason) as well as log fields.

#include <cstdint>
#include <string_view>

namespace wsr::auth {

enum class JwtError : uint8_t {
  Malformed,            // not three base64url parts of JSON objects, a bad claim type, `crit`
  AlgorithmNotAllowed,  // `alg` not allowed, or no key for it
  BadSignature,
  Expired,
  NotYetValid,
  WrongIssuer,
  WrongAudience,
  InvalidSubject,
  TooLong,
};

// "malformed", "algorithm_not_allowed", "bad_signature", "expired",
// "not_yet_valid", "wrong_issuer", "wrong_audience", "invalid_subject",
// "too_long".
std::string_view jwtErrorName(JwtError error);

}  // namespace wsr::auth
