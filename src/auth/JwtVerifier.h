#pragma once
// JWT verification (RFC 7519 with JWS compact serialisation, RFC 7515) for
// the handshake and the in-band `auth` refresh. The header is trusted for one
// thing only, choosing among the allowed algorithms for which keys are
// loaded; the payload is not looked at before its signature verifies.
//
// The order of the checks is part of the contract (it decides the reason a
// bad token is counted under): length cap; three dot-separated base64url
// parts; header object with an allowed `alg` that has keys; no `crit`; `typ`,
// if present, "JWT"; signature; payload object; `exp`; `nbf`; `iss`; `aud`;
// `sub`; `channels`.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "auth/Identity.h"
#include "auth/JwtAlgorithm.h"
#include "auth/JwtError.h"
#include "auth/JwtKeys.h"

namespace wsr::auth {

inline constexpr size_t kMaxSubjectBytes = 128;

struct JwtOptions {
  JwtAlgorithmSet algorithms;           // empty: every token is refused
  int64_t leewaySeconds = 30;           // clock skew tolerated on `exp` and `nbf`
  std::optional<std::string> issuer;    // when set, `iss` must equal it
  std::optional<std::string> audience;  // when set, `aud` (string or array) must contain it
  bool requireExpiry = true;            // a token without `exp` is malformed
  size_t maxTokenBytes = 8192;
};

struct JwtResult {
  std::optional<Identity> identity;      // set when the token is valid
  JwtError error = JwtError::Malformed;  // why not, when it is not
  std::string message;                   // for people; never contains the token

  bool ok() const { return identity.has_value(); }
};

class JwtVerifier {
 public:
  explicit JwtVerifier(JwtOptions options) : options_(std::move(options)) {}

  const JwtOptions& options() const { return options_; }

  // Verifies `token` at Unix time `nowSeconds` against `keys`. Any thread.
  JwtResult verify(std::string_view token, int64_t nowSeconds, const JwtKeySet& keys) const;

 private:
  JwtOptions options_;
};

// Whether `subject` is a valid `sub`: 1 to 128 characters of [A-Za-z0-9_.@-],
// so that user:<sub> is a valid channel name.
bool isValidSubject(std::string_view subject);

}  // namespace wsr::auth
