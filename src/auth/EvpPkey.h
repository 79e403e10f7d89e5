#pragma once
// Ownership of OpenSSL's EVP_PKEY: freed exactly once, when the owner goes.

#include <openssl/evp.h>

#include <memory>

namespace wsr::auth {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

}  // namespace wsr::auth
