// JWT verification: structural checks first (no allocation, no parsing), then
// the header, the signature, and only then the claims.

#include "auth/JwtVerifier.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "auth/Base64Url.h"
#include "text/Concat.h"

namespace wsr::auth {
namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinSeconds = std::numeric_limits<int64_t>::min();

JwtResult refuse(JwtError error, std::string message) {
  JwtResult result;
  result.error = error;
  result.message = std::move(message);
  return result;
}

// The JSON object encoded by a base64url part; nullopt when it is not one.
std::optional<Json> decodeObject(std::string_view part) {
  std::string text;
  if (!base64UrlDecode(part, text)) return std::nullopt;
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;
  return value;
}

// A NumericDate claim in whole seconds. A fractional value is rounded to the
// stricter side: down for `exp`, up for `nbf`. False when not a number.
bool readSeconds(const Json& value, bool roundUp, int64_t& seconds) {
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    seconds = value.get<int64_t>();
    return true;
  }
  if (value.is_number_unsigned()) {
    const auto unsignedSeconds = value.get<uint64_t>();
    seconds = unsignedSeconds > static_cast<uint64_t>(kMaxSeconds)
                  ? kMaxSeconds
                  : static_cast<int64_t>(unsignedSeconds);
    return true;
  }
  if (value.is_number_float()) {
    const double rounded =
        roundUp ? std::ceil(value.get<double>()) : std::floor(value.get<double>());
    // 2^63 is exactly representable; anything at or past it saturates.
    constexpr double kLimit = 9223372036854775808.0;
    if (rounded >= kLimit) {
      seconds = kMaxSeconds;
    } else if (rounded < -kLimit) {
      seconds = kMinSeconds;
    } else {
      seconds = static_cast<int64_t>(rounded);
    }
    return true;
  }
  return false;
}

int64_t saturatingAdd(int64_t a, int64_t nonNegative) {
  return a > kMaxSeconds - nonNegative ? kMaxSeconds : a + nonNegative;
}

int64_t saturatingSubtract(int64_t a, int64_t nonNegative) {
  return a < kMinSeconds + nonNegative ? kMinSeconds : a - nonNegative;
}

// ASCII case-insensitive equality that, unlike strcasecmp, does not stop at
// an embedded NUL.
bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool isSubjectCharacter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '@' || c == '-';
}

bool audienceContains(const Json& payload, const std::string& audience) {
  const auto aud = payload.find("aud");
  if (aud == payload.end()) return false;
  if (aud->is_string()) return aud->get_ref<const std::string&>() == audience;
  if (!aud->is_array()) return false;
  return std::any_of(aud->begin(), aud->end(), [&](const Json& element) {
    return element.is_string() && element.get_ref<const std::string&>() == audience;
  });
}

// The text hasClaimValue compares with; nullopt for objects and null.
std::optional<std::string> scalarText(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  return std::nullopt;
}

void addClaimValues(const Json& payload, Identity& identity) {
  for (const auto& [name, value] : payload.items()) {
    if (value.is_array()) {
      for (const Json& element : value) {
        if (auto text = scalarText(element)) identity.addClaimValue(name, std::move(*text));
      }
    } else if (auto text = scalarText(value)) {
      identity.addClaimValue(name, std::move(*text));
    }
  }
}

}  // namespace

bool isValidSubject(std::string_view subject) {
  return !subject.empty() && subject.size() <= kMaxSubjectBytes &&
         std::all_of(subject.begin(), subject.end(), isSubjectCharacter);
}

JwtResult JwtVerifier::verify(std::string_view token, int64_t nowSeconds,
                              const JwtKeySet& keys) const {
  if (token.size() > options_.maxTokenBytes) {
    return refuse(JwtError::TooLong,
                  text::concat("token is ", std::to_string(token.size()), " bytes; at most ",
                               std::to_string(options_.maxTokenBytes), " are accepted"));
  }
  const size_t firstDot = token.find('.');
  const size_t secondDot =
      firstDot == std::string_view::npos ? std::string_view::npos : token.find('.', firstDot + 1);
  if (secondDot == std::string_view::npos ||
      token.find('.', secondDot + 1) != std::string_view::npos) {
    return refuse(JwtError::Malformed, "token is not three dot-separated parts");
  }
  const std::string_view headerPart = token.substr(0, firstDot);
  const std::string_view payloadPart = token.substr(firstDot + 1, secondDot - firstDot - 1);
  const std::string_view signaturePart = token.substr(secondDot + 1);
  if (headerPart.empty() || payloadPart.empty() || !isBase64Url(headerPart) ||
      !isBase64Url(payloadPart) || !isBase64Url(signaturePart)) {
    return refuse(JwtError::Malformed, "token part is empty or not base64url");
  }

  const std::optional<Json> header = decodeObject(headerPart);
  if (!header) return refuse(JwtError::Malformed, "token header is not a JSON object");
  const auto alg = header->find("alg");
  const std::optional<JwtAlgorithm> algorithm =
      alg != header->end() && alg->is_string()
          ? jwtAlgorithmFromName(alg->get_ref<const std::string&>())
          : std::nullopt;
  if (!algorithm || !options_.algorithms.contains(*algorithm)) {
    return refuse(JwtError::AlgorithmNotAllowed, "token algorithm is not allowed");
  }
  if (!keys.hasKeys(*algorithm)) {
    return refuse(
        JwtError::AlgorithmNotAllowed,
        text::concat("no key is loaded for token algorithm ", jwtAlgorithmName(*algorithm)));
  }
  // No header extension is understood, so none may be declared critical.
  if (header->contains("crit")) {
    return refuse(JwtError::Malformed, "token header declares critical extensions ('crit')");
  }
  const auto typ = header->find("typ");
  if (typ != header->end() &&
      !(typ->is_string() && equalsIgnoringCase(typ->get_ref<const std::string&>(), "JWT"))) {
    return refuse(JwtError::Malformed, "token header 'typ' is not JWT");
  }

  std::string signature;
  (void)base64UrlDecode(signaturePart, signature);  // checked by isBase64Url above
  if (!keys.verifySignature(*algorithm, token.substr(0, secondDot), signature)) {
    return refuse(JwtError::BadSignature, "token signature does not verify");
  }

  const std::optional<Json> payload = decodeObject(payloadPart);
  if (!payload) return refuse(JwtError::Malformed, "token payload is not a JSON object");
  const int64_t leeway = std::max<int64_t>(options_.leewaySeconds, 0);

  Identity identity;
  const auto exp = payload->find("exp");
  if (exp == payload->end()) {
    if (options_.requireExpiry) return refuse(JwtError::Malformed, "token has no 'exp' claim");
  } else {
    int64_t expiresAt = 0;
    if (!readSeconds(*exp, /*roundUp=*/false, expiresAt)) {
      return refuse(JwtError::Malformed, "token claim 'exp' is not a number");
    }
    if (nowSeconds >= saturatingAdd(expiresAt, leeway)) {
      return refuse(JwtError::Expired,
                    text::concat("token expired at ", std::to_string(expiresAt)));
    }
    identity.expiresAt = expiresAt;
  }
  const auto nbf = payload->find("nbf");
  if (nbf != payload->end()) {
    int64_t notBefore = 0;
    if (!readSeconds(*nbf, /*roundUp=*/true, notBefore)) {
      return refuse(JwtError::Malformed, "token claim 'nbf' is not a number");
    }
    if (nowSeconds < saturatingSubtract(notBefore, leeway)) {
      return refuse(JwtError::NotYetValid,
                    text::concat("token is not valid before ", std::to_string(notBefore)));
    }
  }
  if (options_.issuer) {
    const auto iss = payload->find("iss");
    if (iss == payload->end() || !iss->is_string() ||
        iss->get_ref<const std::string&>() != *options_.issuer) {
      return refuse(JwtError::WrongIssuer, "token issuer ('iss') is not the expected one");
    }
  }
  if (options_.audience && !audienceContains(*payload, *options_.audience)) {
    return refuse(JwtError::WrongAudience, "token audience ('aud') does not include this service");
  }
  const auto sub = payload->find("sub");
  if (sub == payload->end() || !sub->is_string() ||
      !isValidSubject(sub->get_ref<const std::string&>())) {
    return refuse(JwtError::InvalidSubject,
                  "token subject ('sub') is not 1 to 128 characters of [A-Za-z0-9_.@-]");
  }
  identity.subject = sub->get<std::string>();
  const auto channels = payload->find("channels");
  if (channels != payload->end()) {
    if (!channels->is_array() ||
        !std::all_of(channels->begin(), channels->end(),
                     [](const Json& pattern) { return pattern.is_string(); })) {
      return refuse(JwtError::Malformed, "token claim 'channels' is not an array of strings");
    }
    identity.channels = channels->get<std::vector<std::string>>();
  }
  addClaimValues(*payload, identity);

  JwtResult result;
  result.identity = std::move(identity);
  return result;
}

}  // namespace wsr::auth
