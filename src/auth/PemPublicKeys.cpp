// PEM blocks are read generically (PEM_read_bio) and checked one by one,
// because PEM_read_bio_PUBKEY silently skips blocks with other labels.

#include "auth/PemPublicKeys.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <memory>

#include "text/Concat.h"

namespace wsr::auth {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

// One PEM block as PEM_read_bio hands it out; every part freed on scope exit.
struct PemBlock {
  PemBlock() = default;
  PemBlock(const PemBlock&) = delete;
  PemBlock& operator=(const PemBlock&) = delete;
  ~PemBlock() {
    OPENSSL_free(label);
    OPENSSL_free(headers);
    OPENSSL_free(data);
  }

  char* label = nullptr;
  char* headers = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
};

// Whether the last OpenSSL error only says "no more PEM blocks".
bool reachedEndOfBlocks() {
  const unsigned long code = ERR_peek_last_error();
  return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

}  // namespace

bool readPemPublicKeys(std::string_view pemText, std::string_view sourceName,
                       std::vector<EvpPkeyPtr>& keys, std::string& error) {
  const std::string where = text::concat("public key file '", sourceName, "'");
  if (pemText.size() > static_cast<size_t>(INT_MAX)) {
    error = text::concat(where, " is too large");
    return false;
  }
  const std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(pemText.data(), static_cast<int>(pemText.size())));
  if (!bio) {
    error = text::concat("cannot read ", where, ": out of memory");
    return false;
  }
  ERR_clear_error();
  size_t blockNumber = 0;
  for (;;) {
    PemBlock block;
    if (PEM_read_bio(bio.get(), &block.label, &block.headers, &block.data, &block.length) != 1) {
      const bool atEnd = reachedEndOfBlocks();
      ERR_clear_error();
      if (atEnd && blockNumber > 0) return true;
      error = atEnd ? text::concat(where, " contains no PEM PUBLIC KEY block")
                    : text::concat(where, ": PEM block ", std::to_string(blockNumber + 1),
                                   " is malformed");
      return false;
    }
    ++blockNumber;
    const std::string blockName = text::concat(where, ": PEM block ", std::to_string(blockNumber));
    if (std::string_view(block.label) != PEM_STRING_PUBLIC) {
      error = text::concat(blockName, " is labelled '", block.label, "', expected 'PUBLIC KEY'");
      return false;
    }
    const unsigned char* cursor = block.data;
    EvpPkeyPtr key(d2i_PUBKEY(nullptr, &cursor, block.length));
    ERR_clear_error();
    if (!key || cursor != block.data + block.length) {
      error = text::concat(blockName, " is not a valid public key");
      return false;
    }
    keys.push_back(std::move(key));
  }
}

}  // namespace wsr::auth
