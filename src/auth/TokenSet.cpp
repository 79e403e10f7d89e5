#include "auth/TokenSet.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "text/Concat.h"
#include "text/Trim.h"

namespace wsr::auth {
namespace {

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view text) {
  Digest digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

}  // namespace

bool constantTimeEquals(std::string_view a, std::string_view b) {
  const Digest da = sha256(a);
  const Digest db = sha256(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

std::shared_ptr<const TokenSet> TokenSet::parse(std::string_view content, std::string_view name,
                                                std::string& error) {
  auto set = std::shared_ptr<TokenSet>(new TokenSet());
  while (!content.empty()) {
    const size_t newline = content.find('\n');
    const std::string_view line = text::trimWhitespace(content.substr(0, newline));
    content.remove_prefix(newline == std::string_view::npos ? content.size() : newline + 1);
    if (line.empty() || line.front() == '#') continue;
    const Digest digest = sha256(line);
    if (std::find(set->digests_.begin(), set->digests_.end(), digest) == set->digests_.end()) {
      set->digests_.push_back(digest);
    }
  }
  if (set->digests_.empty()) {
    error = text::concat(name, " lists no token (one per line; blank and # lines are skipped)");
    return nullptr;
  }
  return set;
}

bool TokenSet::contains(std::string_view token) const {
  const Digest candidate = sha256(token);
  int found = 0;
  for (const Digest& digest : digests_) {
    found |= static_cast<int>(CRYPTO_memcmp(digest.data(), candidate.data(), digest.size()) == 0);
  }
  return found != 0;
}

}  // namespace wsr::auth
