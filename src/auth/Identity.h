#pragma once
// Who a verified token speaks for: what the channel permission check and the
// connection's expiry need from its claims, in plain types (no JSON).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsr::auth {

struct Identity {
  std::string subject;    // `sub`: owns the channel user:<subject>
  int64_t expiresAt = 0;  // `exp` in Unix seconds; 0: the token does not expire
  // The `channels` claim: patterns of the channels this token may use;
  // nullopt when the claim is absent (no restriction beyond the others).
  std::optional<std::vector<std::string>> channels;

  // Records that claim `name` has `value` (a string, or the JSON text of a
  // number or boolean); an array claim records one value per element. The
  // verifier records every top-level claim, registered ones (sub, iss...)
  // included; objects and nulls are not recorded.
  void addClaimValue(std::string name, std::string value);

  // Whether claim `name` is `value`, or is an array containing it.
  bool hasClaimValue(std::string_view name, std::string_view value) const;

 private:
  std::vector<std::pair<std::string, std::string>> claimValues_;
};

}  // namespace wsr::auth
