// Building a JwtKeySet: parsing and vetting each kind of key file.

#include "auth/JwtKeys.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "auth/JwsSignature.h"
#include "auth/PemPublicKeys.h"
#include "text/Concat.h"
#include "text/Trim.h"

namespace wsr::auth {
namespace {

std::string quoted(std::string_view name) {
  return text::concat("'", name, "'");
}

bool readHs256Secrets(const JwtKeyText& text, std::vector<std::string>& secrets,
                      std::string& error) {
  const std::string where = text::concat("HS256 secret file '", text.name, "'");
  std::string_view rest = text.content;
  size_t lineNumber = 0;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const std::string_view line = text::trimWhitespace(rest.substr(0, newline));
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    ++lineNumber;
    if (line.empty()) continue;
    const std::string lineName = text::concat(where, ": line ", std::to_string(lineNumber));
    // A public key pasted here would make a "secret" anyone can read.
    if (line.starts_with("-----BEGIN")) {
      error = text::concat(lineName, " starts a PEM block; HS256 secrets are plain lines");
      return false;
    }
    if (line.size() < kMinHs256SecretBytes) {
      error = text::concat(lineName, " holds a secret shorter than ",
                           std::to_string(kMinHs256SecretBytes), " bytes");
      return false;
    }
    secrets.emplace_back(line);
  }
  if (secrets.empty()) {
    error = text::concat(where, " lists no secret");
    return false;
  }
  return true;
}

bool isP256(EVP_PKEY* key) {
  std::array<char, 64> group{};
  size_t length = 0;
  if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &length) != 1) return false;
  const int nid = OBJ_sn2nid(group.data());
  return nid == NID_X9_62_prime256v1 || EC_curve_nist2nid(group.data()) == NID_X9_62_prime256v1;
}

// Reads the PEM keys of `text` and checks each with `vet`, which returns
// what is wrong with a key, or an empty string.
template <typename Vet>
bool readPublicKeys(const JwtKeyText& text, std::string_view algorithm,
                    std::vector<EvpPkeyPtr>& keys, std::string& error, Vet vet) {
  std::string pemError;
  if (!readPemPublicKeys(text.content, text.name, keys, pemError)) {
    error = text::concat(algorithm, " ", pemError);
    return false;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string problem = vet(keys[i].get());
    if (!problem.empty()) {
      error = text::concat(algorithm, " public key file '", text.name, "': PEM block ",
                           std::to_string(i + 1), " ", problem);
      return false;
    }
  }
  return true;
}

std::string vetRsaKey(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) return "is not an RSA key";
  const int bits = EVP_PKEY_get_bits(key);
  if (bits < kMinRsaKeyBits) {
    return text::concat("is an RSA key of ", std::to_string(bits), " bits; at least ",
                        std::to_string(kMinRsaKeyBits), " are required");
  }
  return {};
}

std::string vetEcKey(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return "is not an EC key";
  if (!isP256(key)) return "is an EC key on another curve than P-256 (prime256v1)";
  return {};
}

inline constexpr std::streamoff kMaxKeyFileBytes = 1 << 20;

// Reads the whole file straight into `content`, with no intermediate buffer
// that would leave a copy of a secret behind.
bool readFile(const std::string& path, std::string& content, std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int savedErrno = errno;
    error =
        text::concat("cannot read JWT key file ", quoted(path), ": ", std::strerror(savedErrno));
    return false;
  }
  file.seekg(0, std::ios::end);
  const std::streamoff size = file.tellg();
  file.seekg(0, std::ios::beg);
  if (size < 0 || !file) {
    error = text::concat("cannot read JWT key file ", quoted(path), ": not a regular file");
    return false;
  }
  if (size > kMaxKeyFileBytes) {
    error = text::concat("JWT key file ", quoted(path), " is larger than 1 MiB");
    return false;
  }
  content.resize(static_cast<size_t>(size));
  file.read(content.data(), size);
  if (file.gcount() != size) {
    error = text::concat("cannot read JWT key file ", quoted(path), ": read error");
    return false;
  }
  return true;
}

// A string wiped before its memory is released: file contents may be secrets.
struct WipedString {
  WipedString() = default;
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  ~WipedString() { OPENSSL_cleanse(text.data(), text.size()); }

  std::string text;
};

}  // namespace

std::shared_ptr<const JwtKeySet> JwtKeySet::build(const JwtKeyTexts& texts, std::string& error) {
  if (!texts.hs256Secrets && !texts.rs256PublicKeys && !texts.es256PublicKeys) {
    error = "no JWT key file given (HS256 secrets, RS256 or ES256 public keys)";
    return nullptr;
  }
  std::shared_ptr<JwtKeySet> keys(new JwtKeySet());
  if (texts.hs256Secrets && !readHs256Secrets(*texts.hs256Secrets, keys->hs256Secrets_, error)) {
    return nullptr;
  }
  if (texts.rs256PublicKeys &&
      !readPublicKeys(*texts.rs256PublicKeys, "RS256", keys->rs256Keys_, error, vetRsaKey)) {
    return nullptr;
  }
  if (texts.es256PublicKeys &&
      !readPublicKeys(*texts.es256PublicKeys, "ES256", keys->es256Keys_, error, vetEcKey)) {
    return nullptr;
  }
  return keys;
}

std::shared_ptr<const JwtKeySet> JwtKeySet::load(const JwtKeyPaths& paths, std::string& error) {
  std::array<WipedString, 3> contents;
  JwtKeyTexts texts;
  const auto read = [&](const std::string& path, WipedString& content,
                        std::optional<JwtKeyText>& text) {
    if (path.empty()) return true;
    if (!readFile(path, content.text, error)) return false;
    text = JwtKeyText{content.text, path};
    return true;
  };
  if (!read(paths.hs256SecretsFile, contents[0], texts.hs256Secrets) ||
      !read(paths.rs256PublicKeysFile, contents[1], texts.rs256PublicKeys) ||
      !read(paths.es256PublicKeysFile, contents[2], texts.es256PublicKeys)) {
    return nullptr;
  }
  return build(texts, error);
}

JwtKeySet::~JwtKeySet() {
  for (std::string& secret : hs256Secrets_)
    OPENSSL_cleanse(secret.data(), secret.size());
}

size_t JwtKeySet::keyCount(JwtAlgorithm algorithm) const {
  switch (algorithm) {
    case JwtAlgorithm::HS256:
      return hs256Secrets_.size();
    case JwtAlgorithm::RS256:
      return rs256Keys_.size();
    case JwtAlgorithm::ES256:
      return es256Keys_.size();
  }
  return 0;
}

bool JwtKeySet::verifySignature(JwtAlgorithm algorithm, std::string_view signingInput,
                                std::string_view signature) const {
  switch (algorithm) {
    case JwtAlgorithm::HS256: {
      // Every secret is tried, without stopping at a match, so the timing
      // does not tell which one (old or new) matched.
      bool match = false;
      for (const std::string& secret : hs256Secrets_)
        match |= hs256SignatureMatches(secret, signingInput, signature);
      return match;
    }
    case JwtAlgorithm::RS256:
      for (const EvpPkeyPtr& key : rs256Keys_) {
        if (rs256SignatureMatches(key.get(), signingInput, signature)) return true;
      }
      return false;
    case JwtAlgorithm::ES256:
      for (const EvpPkeyPtr& key : es256Keys_) {
        if (es256SignatureMatches(key.get(), signingInput, signature)) return true;
      }
      return false;
  }
  return false;
}

}  // namespace wsr::auth
