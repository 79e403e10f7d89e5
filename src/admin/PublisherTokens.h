#pragma once
// The publisher tokens of admin.publisher_token_file (auth::TokenSet: one
// per line, so during a rotation the old and the new token are both
// accepted). The file is an auth::SecretFile: the app registers it with its
// SecretWatcher, which re-reads it when its Secret rotates; a broken new file
// keeps the tokens in force. Tokens are never logged, and no error message
// quotes one.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/SecretFile.h"
#include "auth/TokenSet.h"

namespace wsr::admin {

using auth::constantTimeEquals;

class PublisherTokens {
 public:
  explicit PublisherTokens(std::string path);

  PublisherTokens(const PublisherTokens&) = delete;
  PublisherTokens& operator=(const PublisherTokens&) = delete;

  const std::string& path() const { return file_.path(); }

  // Reads the file again. Returns false, with `error` naming the file, when it
  // cannot be read or lists no token; the tokens loaded before stay in force,
  // so a half-written rotation never locks every publisher out. Any thread.
  bool reload(std::string& error) { return file_.load(error); }

  // Whether `token` is one of the listed tokens. Any thread.
  bool verify(std::string_view token) const;

  // Changes whenever the tokens do (a reload), so that a check remembered
  // under one generation is not trusted under the next. Any thread.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // How many distinct tokens are loaded.
  size_t size() const;

  auth::SecretFile& secretFile() { return file_; }

 private:
  std::atomic<std::shared_ptr<const auth::TokenSet>> tokens_;
  std::atomic<uint64_t> generation_{0};
  auth::SecretFile file_;
};

}  // namespace wsr::admin
