#pragma once
// One file mounted from a Kubernetes Secret (or written by hand), re-read
// when it changes. Kubernetes updates a Secret volume by writing a new
// timestamped directory and renaming the `..data` symlink onto it; the file
// path (`tokens -> ..data/tokens`) never changes, only what it resolves to.
// check() therefore compares what stat() finds through the symlinks (device,
// inode, size, modification time), and then the content's digest, so a
// swap, an in-place rewrite and a touch are told apart.
//
// The owner's parse callback installs the new value (typically swapping a
// shared_ptr). When the new content is missing, empty or does not parse, the
// value in force stays, the failure is counted and kept as lastError(); the
// next change is tried again.

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace wsr::auth {

class SecretFile {
 public:
  // Returns false, with `error` set, when the content is unusable.
  using Parser = std::function<bool(const std::string& content, std::string& error)>;
  static constexpr size_t kMaxBytes = 1 << 20;

  SecretFile(std::string path, Parser parser);
  SecretFile(const SecretFile&) = delete;
  SecretFile& operator=(const SecretFile&) = delete;

  const std::string& path() const { return path_; }

  // Reads the file now (the first time, or on request). False, with `error`
  // naming the file, when it is missing, unreadable, empty, too large or does
  // not parse (counted as a failure).
  bool load(std::string& error);
  // Re-reads the file if it changed. Returns true when a new value was
  // installed; on a failure `error` says why (and the old value stays).
  enum class Change { None, Reloaded, Failed };
  Change check(std::string& error);

  bool loaded() const { return loaded_.load(std::memory_order_acquire); }
  uint64_t reloads() const { return reloads_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  std::string lastError() const;

 private:
  struct Identity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = -1;
    int64_t mtimeNs = 0;
    bool operator==(const Identity&) const = default;
  };
  using Digest = std::array<unsigned char, 32>;

  Change read(std::string& error);
  void fail(std::string& error, std::string message);

  const std::string path_;
  const Parser parser_;
  // Touched only by the caller of load()/check() (one thread at a time).
  Identity seen_;
  Digest digest_{};
  std::atomic<bool> loaded_{false};
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> failures_{0};
  mutable std::mutex errorMutex_;
  std::string lastError_;
};

}  // namespace wsr::auth
