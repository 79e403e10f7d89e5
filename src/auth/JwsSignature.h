#pragma once
// The three JWS signature checks (RFC 7518 §3), one key at a time. Each
// takes the signing input (the ASCII "header.payload") and the decoded
// signature bytes, and only ever answers yes or no: which step failed is of
// no use to the caller and of some use to an attacker.

#include <openssl/types.h>

#include <string_view>

namespace wsr::auth {

// HMAC-SHA-256 under `secret`, compared in constant time (CRYPTO_memcmp).
bool hs256SignatureMatches(std::string_view secret, std::string_view signingInput,
                           std::string_view signature);

// RSASSA-PKCS1-v1_5 with SHA-256 under an RSA public key.
bool rs256SignatureMatches(EVP_PKEY* rsaKey, std::string_view signingInput,
                           std::string_view signature);

// ECDSA P-256 with SHA-256 under an EC public key. The signature is the JWS
// form, the raw 64 bytes r || s; any other length, the DER form included, is
// refused, so a token has one valid spelling.
bool es256SignatureMatches(EVP_PKEY* ecKey, std::string_view signingInput,
                           std::string_view signature);

}  // namespace wsr::auth
