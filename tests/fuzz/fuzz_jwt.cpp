// libFuzzer target: JWT verification. The input is verified as a token at a
// fixed time against a fixed key set (an HS256 secret and an ES256 P-256
// public key; all three algorithms allowed, so RS256 exercises the "no key"
// path). Since random bytes never carry a valid signature, the input is also
// read as "<header JSON>\n<payload JSON>" (or just a payload), signed here
// with the HS256 secret and verified, which reaches the claim checks. And it
// is fed to the base64url decoder. Checked: what verifies obeys the claim
// rules, refusals explain themselves without quoting the token, and
// base64url decoding is canonical (decode then encode gives the input back).

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/Base64Url.h"
#include "auth/ChannelAccess.h"
#include "auth/JwtKeys.h"
#include "auth/JwtVerifier.h"

namespace {

using namespace wsr::auth;

constexpr int64_t kNow = 1'700'000'000;

// The seed corpus's valid tokens are signed with these (the EC private key
// was thrown away after signing).
constexpr std::string_view kHs256Secret = "wsrouter-fuzz-hs256-secret-0123456789abcdef";
constexpr std::string_view kEs256PublicKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEimHQL0KI/A58xOJyxCi/lfQE6FcK\n"
    "/Cb0n4F3EdtP+2bhqCeRLKJVbrnAWs2W5l/lzYuZyYBVYcSdJ6ac+Lw2Tw==\n"
    "-----END PUBLIC KEY-----\n";

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const JwtKeySet& keySet() {
  static const std::shared_ptr<const JwtKeySet> keys = [] {
    JwtKeyTexts texts;
    texts.hs256Secrets = JwtKeyText{kHs256Secret, "fuzz-hs256"};
    texts.es256PublicKeys = JwtKeyText{kEs256PublicKey, "fuzz-es256"};
    std::string error;
    auto built = JwtKeySet::build(texts, error);
    check(built != nullptr);
    return built;
  }();
  return *keys;
}

const JwtVerifier& verifier() {
  static const JwtVerifier instance = [] {
    JwtOptions options;
    options.algorithms = {JwtAlgorithm::HS256, JwtAlgorithm::RS256, JwtAlgorithm::ES256};
    return JwtVerifier(options);
  }();
  return instance;
}

void checkVerification(std::string_view token) {
  const JwtResult result = verifier().verify(token, kNow, keySet());
  if (result.ok()) {
    const Identity& identity = *result.identity;
    check(token.size() <= verifier().options().maxTokenBytes);
    check(isValidSubject(identity.subject));
    check(identity.expiresAt != 0 && identity.expiresAt > kNow - 30);  // exp is required
    check(identity.hasClaimValue("sub", identity.subject));
    // The subject always owns its user channel, whatever else the claims say.
    check(mayAccess(&identity, "user:" + identity.subject, {}).allowed);
    // A pattern, read as a channel name, matches itself; user:* never grants.
    if (identity.channels) {
      for (const std::string& pattern : *identity.channels) {
        if (pattern.substr(0, pattern.find(':')) == "user") continue;
        check(mayAccess(&identity, pattern, {}).allowed);
      }
    }
    return;
  }
  check(!jwtErrorName(result.error).empty());
  check(!result.message.empty());
  // A token (three parts) is never quoted; no message contains two dots.
  if (token.size() >= 16 && token.find('.') != token.rfind('.')) {
    check(result.message.find(token) == std::string::npos);
  }
}

// The input as header and payload JSON, HS256-signed with the key set's secret.
std::string signedToken(std::string_view input) {
  const size_t newline = input.find('\n');
  const std::string_view header =
      newline == std::string_view::npos ? R"({"alg":"HS256"})" : input.substr(0, newline);
  const std::string_view payload =
      newline == std::string_view::npos ? input : input.substr(newline + 1);
  std::string token = base64UrlEncode(header);
  token += '.';
  token += base64UrlEncode(payload);
  std::array<unsigned char, 32> mac{};
  unsigned int macBytes = 0;
  HMAC(EVP_sha256(), kHs256Secret.data(), static_cast<int>(kHs256Secret.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac.data(), &macBytes);
  token += '.';
  token += base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), macBytes));
  return token;
}

void checkBase64Url(std::string_view text) {
  std::string decoded;
  const bool ok = base64UrlDecode(text, decoded);
  check(ok == isBase64Url(text));
  if (ok) {
    check(base64UrlEncode(decoded) == text);
  } else {
    check(decoded.empty());
  }
  // Any bytes encode to text that decodes back to them.
  const std::string encoded = base64UrlEncode(text);
  check(isBase64Url(encoded));
  check(base64UrlDecode(encoded, decoded) && decoded == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  checkVerification(input);
  checkVerification(signedToken(input));
  checkBase64Url(input);
  return 0;
}
