#pragma once
// The publisher tokens of admin.publisher_token_file: one token per line,
// blank lines and surrounding whitespace ignored, so during a rotation the old
// and the new token can both be listed (and both accepted) for a while.
//
// Only SHA-256 digests are kept, and every check compares digests in constant
// time: neither the content nor the length of a guess shows in the timing.
// Tokens are never logged, and no error message quotes one.

#include <array>
#include <cstddef>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace wsr::admin {

// Whether a == b, in time that depends on neither content nor lengths (both
// are hashed with SHA-256 and the digests compared with CRYPTO_memcmp).
bool constantTimeEquals(std::string_view a, std::string_view b);

class PublisherTokens {
 public:
  explicit PublisherTokens(std::string path);

  PublisherTokens(const PublisherTokens&) = delete;
  PublisherTokens& operator=(const PublisherTokens&) = delete;

  const std::string& path() const { return path_; }

  // Reads the file again. Returns false, with `error` naming the file, when it
  // cannot be read or lists no token; the tokens loaded before stay in force,
  // so a half-written rotation never locks every publisher out. Any thread.
  bool reload(std::string& error);

  // Whether `token` is one of the listed tokens. Any thread.
  bool verify(std::string_view token) const;

  // How many distinct tokens are loaded.
  size_t size() const;

 private:
  using Digest = std::array<unsigned char, 32>;

  std::string path_;
  mutable std::shared_mutex mutex_;
  std::vector<Digest> digests_;
};

}  // namespace wsr::admin
