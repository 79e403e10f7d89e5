// Algorithm names, both ways, and the configuration parse.

#include "auth/JwtAlgorithm.h"

#include <strings.h>

#include "text/Concat.h"

namespace wsr::auth {

std::string_view jwtAlgorithmName(JwtAlgorithm algorithm) {
  switch (algorithm) {
    case JwtAlgorithm::HS256:
      return "HS256";
    case JwtAlgorithm::RS256:
      return "RS256";
    case JwtAlgorithm::ES256:
      return "ES256";
  }
  return "unknown";
}

std::optional<JwtAlgorithm> jwtAlgorithmFromName(std::string_view name) {
  for (const JwtAlgorithm algorithm :
       {JwtAlgorithm::HS256, JwtAlgorithm::RS256, JwtAlgorithm::ES256}) {
    if (name == jwtAlgorithmName(algorithm)) return algorithm;
  }
  return std::nullopt;
}

JwtAlgorithmSet::JwtAlgorithmSet(std::initializer_list<JwtAlgorithm> algorithms) {
  for (const JwtAlgorithm algorithm : algorithms)
    insert(algorithm);
}

bool parseJwtAlgorithms(const std::vector<std::string>& names, JwtAlgorithmSet& out,
                        std::string& error) {
  if (names.empty()) {
    error = "no JWT algorithm listed (expected one or more of HS256, RS256, ES256)";
    return false;
  }
  JwtAlgorithmSet set;
  for (const std::string& name : names) {
    if (strcasecmp(name.c_str(), "none") == 0) {
      error =
          text::concat("JWT algorithm '", name, "' is never allowed: unsigned tokens are refused");
      return false;
    }
    const std::optional<JwtAlgorithm> algorithm = jwtAlgorithmFromName(name);
    if (!algorithm) {
      error = text::concat("unknown JWT algorithm '", name, "' (expected HS256, RS256 or ES256)");
      return false;
    }
    set.insert(*algorithm);
  }
  out = set;
  return true;
}

}  // namespace wsr::auth
