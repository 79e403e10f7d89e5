#include "auth/SecretFile.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "text/Concat.h"

namespace wsr::auth {

SecretFile::SecretFile(std::string path, Parser parser)
    : path_(std::move(path)), parser_(std::move(parser)) {}

std::string SecretFile::lastError() const {
  std::lock_guard lock(errorMutex_);
  return lastError_;
}

void SecretFile::fail(std::string& error, std::string message) {
  error = std::move(message);
  failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(errorMutex_);
  lastError_ = error;
}

bool SecretFile::load(std::string& error) {
  seen_ = Identity{};
  return read(error) != Change::Failed;
}

SecretFile::Change SecretFile::check(std::string& error) {
  struct stat st {};
  Identity now;
  if (::stat(path_.c_str(), &st) == 0) {
    now = Identity{st.st_dev, st.st_ino, st.st_size,
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  }
  if (now == seen_) return Change::None;
  return read(error);
}

SecretFile::Change SecretFile::read(std::string& error) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    const int saved = errno;
    seen_ = Identity{};
    fail(error, text::concat(path_, ": ", std::strerror(saved)));
    return Change::Failed;
  }
  const Identity identity{
      st.st_dev, st.st_ino, st.st_size,
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  seen_ = identity;
  if (!S_ISREG(st.st_mode)) {
    fail(error, text::concat(path_, ": not a regular file"));
    return Change::Failed;
  }
  if (static_cast<size_t>(st.st_size) > kMaxBytes) {
    fail(error, text::concat(path_, ": larger than 1 MiB"));
    return Change::Failed;
  }
  std::ifstream file(path_, std::ios::binary);
  std::ostringstream text;
  if (!file || !(text << file.rdbuf())) {
    if (st.st_size == 0 && file) {
      fail(error, text::concat(path_, ": empty"));
    } else {
      fail(error, text::concat(path_, ": cannot be read: ", std::strerror(errno)));
    }
    return Change::Failed;
  }
  const std::string content = text.str();
  Digest digest{};
  unsigned int length = 0;
  EVP_Digest(content.data(), content.size(), digest.data(), &length, EVP_sha256(), nullptr);
  if (loaded() && digest == digest_) return Change::None;  // touched, not changed
  std::string parseError;
  if (!parser_(content, parseError)) {
    fail(error, parseError.starts_with(path_) ? parseError : text::concat(path_, ": ", parseError));
    return Change::Failed;
  }
  digest_ = digest;
  if (loaded_.exchange(true, std::memory_order_acq_rel)) {
    reloads_.fetch_add(1, std::memory_order_relaxed);
  }
  return Change::Reloaded;
}

}  // namespace wsr::auth
