#pragma once
// Test helpers for the JWT code: keys generated in-process, their PEM text,
// and tokens signed over any header and payload, well-formed or not.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "auth/Base64Url.h"
#include "auth/EvpPkey.h"

namespace wsr::auth::test {

inline EvpPkeyPtr generateRsaKey(unsigned bits) {
  EvpPkeyPtr key(EVP_RSA_gen(bits));
  if (!key) throw std::runtime_error("RSA key generation failed");
  return key;
}

// `curve` is an OpenSSL group name: "P-256", "P-384"...
inline EvpPkeyPtr generateEcKey(const char* curve) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  if (!key) throw std::runtime_error("EC key generation failed");
  return key;
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

inline std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

// The "-----BEGIN PUBLIC KEY-----" PEM of `key`.
inline std::string publicKeyPem(EVP_PKEY* key) {
  const std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), key) != 1) throw std::runtime_error("PEM write failed");
  return bioText(bio.get());
}

// The "-----BEGIN PRIVATE KEY-----" PEM of `key`.
inline std::string privateKeyPem(EVP_PKEY* key) {
  const std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("PEM write failed");
  }
  return bioText(bio.get());
}

inline std::string hmacSha256(std::string_view secret, std::string_view input) {
  std::array<unsigned char, 32> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &length);
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

// EVP_DigestSign with SHA-256: PKCS#1 v1.5 for RSA, DER ECDSA-Sig-Value for EC.
inline std::string digestSign(EVP_PKEY* key, std::string_view input) {
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                        EVP_MD_CTX_free);
  size_t length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &length, bytes, input.size()) != 1) {
    throw std::runtime_error("signing failed");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     bytes, input.size()) != 1) {
    throw std::runtime_error("signing failed");
  }
  signature.resize(length);
  return signature;
}

// DER ECDSA-Sig-Value -> the JWS form r || s, 32 bytes each.
inline std::string derToRawEcdsa(std::string_view der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  const std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> signature(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())), ECDSA_SIG_free);
  if (!signature) throw std::runtime_error("bad DER signature");
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(signature.get()), out, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(signature.get()), out + 32, 32);
  return raw;
}

// "base64url(header).base64url(payload)", the bytes a JWS signs.
inline std::string signingInput(std::string_view headerJson, std::string_view payloadJson) {
  return base64UrlEncode(headerJson) + "." + base64UrlEncode(payloadJson);
}

inline std::string withSignature(const std::string& input, std::string_view signature) {
  return input + "." + base64UrlEncode(signature);
}

inline constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";
inline constexpr std::string_view kRs256Header = R"({"alg":"RS256","typ":"JWT"})";
inline constexpr std::string_view kEs256Header = R"({"alg":"ES256","typ":"JWT"})";

inline std::string hs256Token(std::string_view secret, std::string_view payloadJson,
                              std::string_view headerJson = kHs256Header) {
  const std::string input = signingInput(headerJson, payloadJson);
  return withSignature(input, hmacSha256(secret, input));
}

inline std::string rs256Token(EVP_PKEY* key, std::string_view payloadJson,
                              std::string_view headerJson = kRs256Header) {
  const std::string input = signingInput(headerJson, payloadJson);
  return withSignature(input, digestSign(key, input));
}

inline std::string es256Token(EVP_PKEY* key, std::string_view payloadJson,
                              std::string_view headerJson = kEs256Header) {
  const std::string input = signingInput(headerJson, payloadJson);
  return withSignature(input, derToRawEcdsa(digestSign(key, input)));
}

// The same token with its ECDSA signature in DER form, which JWS forbids.
inline std::string es256TokenDerSignature(EVP_PKEY* key, std::string_view payloadJson) {
  const std::string input = signingInput(kEs256Header, payloadJson);
  return withSignature(input, digestSign(key, input));
}

// Keys shared by the tests: generating RSA keys is slow, so once per process.
struct TestKeys {
  EvpPkeyPtr rsa = generateRsaKey(2048);
  EvpPkeyPtr otherRsa = generateRsaKey(2048);
  EvpPkeyPtr ec = generateEcKey("P-256");
  EvpPkeyPtr otherEc = generateEcKey("P-256");
};

inline const TestKeys& testKeys() {
  static const TestKeys keys;
  return keys;
}

inline constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef-first";
inline constexpr std::string_view kOtherSecret = "fedcba9876543210fedcba9876543210-second";

}  // namespace wsr::auth::test
