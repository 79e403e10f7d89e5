#pragma once
// Reads the public keys of a PEM file's text: one or more blocks labelled
// "PUBLIC KEY" (SubjectPublicKeyInfo), text outside the blocks ignored. A
// block with any other label (a private key, a certificate, PKCS#1 "RSA
// PUBLIC KEY") is an error rather than skipped, so a mistaken file is noticed
// at load time, not as tokens that silently stop verifying.

#include <string>
#include <string_view>
#include <vector>

#include "auth/EvpPkey.h"

namespace wsr::auth {

// Appends the keys of `pemText` to `keys`. False, with `error` naming
// `sourceName` and the block number, when a block is not a well-formed
// PUBLIC KEY or when there is no block at all.
bool readPemPublicKeys(std::string_view pemText, std::string_view sourceName,
                       std::vector<EvpPkeyPtr>& keys, std::string& error);

}  // namespace wsr::auth
