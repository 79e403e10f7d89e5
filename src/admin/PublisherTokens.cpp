#include "admin/PublisherTokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

namespace wsr::admin {
namespace {

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view text) {
  Digest digest{};
  unsigned int length = 0;
  // EVP_Digest cannot fail for SHA-256 short of memory exhaustion; a zero
  // digest then simply matches nothing real.
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

bool digestsEqual(const Digest& a, const Digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view line) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const size_t first = line.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const size_t last = line.find_last_not_of(kSpace);
  return line.substr(first, last - first + 1);
}

}  // namespace

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return digestsEqual(sha256(a), sha256(b));
}

PublisherTokens::PublisherTokens(std::string path) : path_(std::move(path)) {}

bool PublisherTokens::reload(std::string& error) {
  std::ifstream file(path_, std::ios::binary);
  if (!file) {
    const int savedErrno = errno;
    error = "cannot read publisher token file '" + path_ + "': " + std::strerror(savedErrno);
    return false;
  }
  std::vector<Digest> digests;
  std::string line;
  while (std::getline(file, line)) {
    const std::string_view token = trim(line);
    if (token.empty()) continue;
    const Digest digest = sha256(token);
    if (std::find(digests.begin(), digests.end(), digest) == digests.end()) {
      digests.push_back(digest);
    }
  }
  if (file.bad()) {
    error = "cannot read publisher token file '" + path_ + "': read error";
    return false;
  }
  if (digests.empty()) {
    error = "publisher token file '" + path_ + "' lists no token";
    return false;
  }
  std::unique_lock lock(mutex_);
  digests_ = std::move(digests);
  return true;
}

bool PublisherTokens::verify(std::string_view token) const {
  if (token.empty()) return false;
  const Digest presented = sha256(token);
  std::shared_lock lock(mutex_);
  // Every listed digest is compared, without stopping at a match, so the
  // timing does not tell which line (old or new token) matched.
  bool match = false;
  for (const Digest& digest : digests_)
    match |= digestsEqual(presented, digest);
  return match;
}

size_t PublisherTokens::size() const {
  std::shared_lock lock(mutex_);
  return digests_.size();
}

}  // namespace wsr::admin
