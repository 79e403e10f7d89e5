#pragma once
// A set of accepted tokens (auth.token_file, admin.publisher_token_file):
// one token per line, surrounding whitespace trimmed, blank lines and lines
// starting with '#' skipped, so during a rotation the old and the new token
// can both be listed for a while. Only SHA-256 digests are kept; a check
// hashes the candidate and compares it with every digest in constant time,
// without stopping at a match: neither which token matched nor any length
// shows in the timing. Immutable: a rotation builds a new set.

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wsr::auth {

// Whether a == b, in time that depends on neither content nor lengths (both
// are hashed with SHA-256 and the digests compared with CRYPTO_memcmp).
bool constantTimeEquals(std::string_view a, std::string_view b);

class TokenSet {
 public:
  // nullptr, with `error` naming `name` (the file), when no token is listed.
  static std::shared_ptr<const TokenSet> parse(std::string_view content, std::string_view name,
                                               std::string& error);

  bool contains(std::string_view token) const;
  size_t size() const { return digests_.size(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  std::vector<Digest> digests_;
};

}  // namespace wsr::auth
