// The metric-label names of JwtError.

#include "auth/JwtError.h"

namespace wsr::auth {

std::string_view jwtErrorName(JwtError error) {
  switch (error) {
    case JwtError::Malformed:
      return "malformed";
    case JwtError::AlgorithmNotAllowed:
      return "algorithm_not_allowed";
    case JwtError::BadSignature:
      return "bad_signature";
    case JwtError::Expired:
      return "expired";
    case JwtError::NotYetValid:
      return "not_yet_valid";
    case JwtError::WrongIssuer:
      return "wrong_issuer";
    case JwtError::WrongAudience:
      return "wrong_audience";
    case JwtError::InvalidSubject:
      return "invalid_subject";
    case JwtError::TooLong:
      return "too_long";
  }
  return "unknown";
}

}  // namespace wsr::auth
