// Claim lookups: a linear scan, since a token carries a handful of claims.

#include "auth/Identity.h"

namespace wsr::auth {

void Identity::addClaimValue(std::string name, std::string value) {
  claimValues_.emplace_back(std::move(name), std::move(value));
}

bool Identity::hasClaimValue(std::string_view name, std::string_view value) const {
  for (const auto& [claim, claimValue] : claimValues_) {
    if (claim == name && claimValue == value) return true;
  }
  return false;
}

}  // namespace wsr::auth
