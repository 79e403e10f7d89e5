#pragma once
// Watches SecretFiles and re-checks them when their directory changes. The
// inotify watch is on the file's directory, not the file: Kubernetes swaps
// the `..data` symlink there, and an event for any entry re-checks every file
// of that directory (SecretFile::check() decides whether anything changed).
// A periodic re-check of every file is the safety net for what inotify does
// not see (a directory replaced as a whole, a watch limit reached).
//
// One thread; reports each reload and each failure through the callback
// (the app logs it). Stops and joins on destruction.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/SecretFile.h"
#include "net/Fd.h"

namespace wsr::auth {

class SecretWatcher {
 public:
  using Report = std::function<void(const SecretFile& file, bool ok, std::string_view message)>;

  explicit SecretWatcher(std::chrono::milliseconds interval = std::chrono::seconds(10),
                         Report report = nullptr);
  SecretWatcher(const SecretWatcher&) = delete;
  SecretWatcher& operator=(const SecretWatcher&) = delete;
  ~SecretWatcher();

  // Before start(); the file must outlive the watcher.
  void watch(SecretFile& file);
  void start();
  void stop();

 private:
  struct Watched {
    SecretFile* file;
    std::string directory;
    int watch = -1;
  };
  void run();
  void checkAll(const std::string* directory);
  void addWatches();

  const std::chrono::milliseconds interval_;
  const Report report_;
  std::vector<Watched> files_;
  net::Fd inotify_;
  net::Fd wake_;  // eventfd: stop()
  std::thread thread_;
};

}  // namespace wsr::auth
