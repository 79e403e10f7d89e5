#pragma once
// The JWS algorithms wsrouter verifies: HS256, RS256 and ES256, nothing else.
// "none" has no value here at all, so no code path can end up accepting an
// unsigned token; every other name is refused the same way.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsr::auth {

enum class JwtAlgorithm : uint8_t { HS256, RS256, ES256 };

// "HS256", "RS256", "ES256".
std::string_view jwtAlgorithmName(JwtAlgorithm algorithm);

// The algorithm of an exact (case-sensitive) JWS `alg` name; nullopt for
// "none" and every name that is not one of the three.
std::optional<JwtAlgorithm> jwtAlgorithmFromName(std::string_view name);

// A subset of the three algorithms.
class JwtAlgorithmSet {
 public:
  JwtAlgorithmSet() = default;
  JwtAlgorithmSet(std::initializer_list<JwtAlgorithm> algorithms);

  void insert(JwtAlgorithm algorithm) { bits_ |= bit(algorithm); }
  bool contains(JwtAlgorithm algorithm) const { return (bits_ & bit(algorithm)) != 0; }
  bool empty() const { return bits_ == 0; }

  bool operator==(const JwtAlgorithmSet&) const = default;

 private:
  static uint8_t bit(JwtAlgorithm algorithm) {
    return static_cast<uint8_t>(1U << static_cast<unsigned>(algorithm));
  }

  uint8_t bits_ = 0;
};

// For configuration: the set named by `names`. False, with `error` quoting
// the offending name, when a name is not HS256, RS256 or ES256 ("none" gets
// its own explanation) or when `names` is empty.
bool parseJwtAlgorithms(const std::vector<std::string>& names, JwtAlgorithmSet& out,
                        std::string& error);

}  // namespace wsr::auth
