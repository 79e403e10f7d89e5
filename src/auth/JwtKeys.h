#pragma once
// The keys JWTs are verified with. Each kind of key belongs to exactly one
// algorithm, so an HMAC secret is never used as a public key nor a public
// key's PEM text as an HMAC secret (the classic RS256/HS256 confusion):
//   HS256: secrets, one per line (old and new listed together during a
//          rotation), surrounding whitespace trimmed, blank lines skipped,
//          each at least 32 bytes (RFC 7518 §3.2);
//   RS256: PEM PUBLIC KEY blocks of RSA keys of at least 2048 bits;
//   ES256: PEM PUBLIC KEY blocks of EC keys on P-256 (prime256v1).
// A key set is immutable once built and shared by every worker; rotation
// builds a new one and swaps the pointer. Errors name the file, the line or
// block, and what was wrong, never a secret.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/EvpPkey.h"
#include "auth/JwtAlgorithm.h"

namespace wsr::auth {

// The bytes of one key file, and the name (usually its path) errors use.
struct JwtKeyText {
  std::string_view content;
  std::string_view name;
};

// Which key files there are; an absent one means that algorithm has no keys.
struct JwtKeyTexts {
  std::optional<JwtKeyText> hs256Secrets;
  std::optional<JwtKeyText> rs256PublicKeys;
  std::optional<JwtKeyText> es256PublicKeys;
};

// Paths of the key files; an empty path means that algorithm has no keys.
struct JwtKeyPaths {
  std::string hs256SecretsFile;
  std::string rs256PublicKeysFile;
  std::string es256PublicKeysFile;
};

inline constexpr size_t kMinHs256SecretBytes = 32;
inline constexpr int kMinRsaKeyBits = 2048;

class JwtKeySet {
 public:
  // The key set of `texts`; nullptr, with `error` set, when a given text
  // holds no usable key or a bad one, or when no text is given at all.
  static std::shared_ptr<const JwtKeySet> build(const JwtKeyTexts& texts, std::string& error);

  // Reads the files at `paths` and builds from their contents.
  static std::shared_ptr<const JwtKeySet> load(const JwtKeyPaths& paths, std::string& error);

  JwtKeySet(const JwtKeySet&) = delete;
  JwtKeySet& operator=(const JwtKeySet&) = delete;
  ~JwtKeySet();  // wipes the HMAC secrets from memory

  // How many keys verify `algorithm` (secrets for HS256).
  size_t keyCount(JwtAlgorithm algorithm) const;
  bool hasKeys(JwtAlgorithm algorithm) const { return keyCount(algorithm) > 0; }

  // Whether `signature` (decoded bytes) signs `signingInput` under any key
  // of `algorithm`'s kind. Any thread.
  bool verifySignature(JwtAlgorithm algorithm, std::string_view signingInput,
                       std::string_view signature) const;

 private:
  JwtKeySet() = default;

  std::vector<std::string> hs256Secrets_;
  std::vector<EvpPkeyPtr> rs256Keys_;
  std::vector<EvpPkeyPtr> es256Keys_;
};

}  // namespace wsr::auth
