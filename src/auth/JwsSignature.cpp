// JWS signature checks on OpenSSL 3's EVP interface.

#include "auth/JwsSignature.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <memory>

namespace wsr::auth {
namespace {

constexpr size_t kSha256Bytes = 32;
constexpr size_t kP256CoordinateBytes = 32;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* signature) const { ECDSA_SIG_free(signature); }
};
struct BignumDeleter {
  void operator()(BIGNUM* number) const { BN_free(number); }
};
struct OpenSslBytesDeleter {
  void operator()(unsigned char* bytes) const { OPENSSL_free(bytes); }
};

const unsigned char* bytesOf(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// EVP_DigestVerify with SHA-256; `signature` in the key type's native form
// (PKCS#1 v1.5 block for RSA, DER ECDSA-Sig-Value for EC).
bool digestVerify(EVP_PKEY* key, std::string_view signingInput, const unsigned char* signature,
                  size_t signatureBytes) {
  const std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> context(EVP_MD_CTX_new());
  if (!context) return false;
  if (EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1) return false;
  return EVP_DigestVerify(context.get(), signature, signatureBytes, bytesOf(signingInput),
                          signingInput.size()) == 1;
}

}  // namespace

bool hs256SignatureMatches(std::string_view secret, std::string_view signingInput,
                           std::string_view signature) {
  if (signature.size() != kSha256Bytes) return false;
  std::array<unsigned char, kSha256Bytes> expected{};
  unsigned int expectedBytes = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), bytesOf(signingInput),
           signingInput.size(), expected.data(), &expectedBytes) == nullptr ||
      expectedBytes != kSha256Bytes) {
    return false;
  }
  return CRYPTO_memcmp(expected.data(), signature.data(), kSha256Bytes) == 0;
}

bool rs256SignatureMatches(EVP_PKEY* rsaKey, std::string_view signingInput,
                           std::string_view signature) {
  if (signature.empty()) return false;
  return digestVerify(rsaKey, signingInput, bytesOf(signature), signature.size());
}

bool es256SignatureMatches(EVP_PKEY* ecKey, std::string_view signingInput,
                           std::string_view signature) {
  if (signature.size() != 2 * kP256CoordinateBytes) return false;
  std::unique_ptr<BIGNUM, BignumDeleter> r(
      BN_bin2bn(bytesOf(signature), kP256CoordinateBytes, nullptr));
  std::unique_ptr<BIGNUM, BignumDeleter> s(
      BN_bin2bn(bytesOf(signature) + kP256CoordinateBytes, kP256CoordinateBytes, nullptr));
  const std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> ecdsa(ECDSA_SIG_new());
  if (!r || !s || !ecdsa) return false;
  // ECDSA_SIG_set0 takes ownership of r and s only when it succeeds.
  if (ECDSA_SIG_set0(ecdsa.get(), r.get(), s.get()) != 1) return false;
  (void)r.release();
  (void)s.release();
  unsigned char* der = nullptr;
  const int derBytes = i2d_ECDSA_SIG(ecdsa.get(), &der);
  const std::unique_ptr<unsigned char, OpenSslBytesDeleter> ownedDer(der);
  if (derBytes <= 0) return false;
  return digestVerify(ecKey, signingInput, ownedDer.get(), static_cast<size_t>(derBytes));
}

}  // namespace wsr::auth
