#include "auth/SecretWatcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>

#include "text/Concat.h"

namespace wsr::auth {
namespace {

constexpr uint32_t kDirectoryEvents = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE |
                                      IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_DELETE_SELF |
                                      IN_MOVE_SELF;

std::string directoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

SecretWatcher::SecretWatcher(std::chrono::milliseconds interval, Report report)
    : interval_(interval), report_(std::move(report)) {}

SecretWatcher::~SecretWatcher() {
  stop();
}

void SecretWatcher::watch(SecretFile& file) {
  files_.push_back(Watched{&file, directoryOf(file.path())});
}

void SecretWatcher::addWatches() {
  for (Watched& watched : files_) {
    // A directory that cannot be watched (missing yet) is left to the
    // periodic re-check, which retries the watch too.
    if (watched.watch < 0) {
      watched.watch =
          inotify_add_watch(inotify_.get(), watched.directory.c_str(), kDirectoryEvents);
    }
  }
}

void SecretWatcher::start() {
  if (thread_.joinable()) return;
  inotify_ = net::Fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  wake_ = net::Fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (inotify_) addWatches();
  thread_ = std::thread([this] { run(); });
}

void SecretWatcher::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

void SecretWatcher::checkAll(const std::string* directory) {
  for (Watched& watched : files_) {
    if (directory != nullptr && watched.directory != *directory) continue;
    std::string error;
    switch (watched.file->check(error)) {
      case SecretFile::Change::None:
        break;
      case SecretFile::Change::Reloaded:
        if (report_) report_(*watched.file, true, text::concat(watched.file->path(), ": reloaded"));
        break;
      case SecretFile::Change::Failed:
        if (report_)
          report_(*watched.file, false,
                  text::concat(error, "; the previous contents stay in force"));
        break;
    }
  }
}

void SecretWatcher::run() {
  auto nextCheck = std::chrono::steady_clock::now() + interval_;
  alignas(inotify_event) char buffer[4096];
  for (;;) {
    pollfd fds[2] = {{wake_.get(), POLLIN, 0}, {inotify_.get(), POLLIN, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        nextCheck - std::chrono::steady_clock::now());
    const int timeout =
        static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), INT_MAX)));
    const int ready = ::poll(fds, inotify_ ? 2 : 1, timeout);
    if (ready < 0 && errno != EINTR) return;
    if ((fds[0].revents & POLLIN) != 0) return;  // stop()
    if (ready > 0 && (fds[1].revents & POLLIN) != 0) {
      // Which directories changed; each is re-checked once per batch.
      std::vector<const std::string*> changed;
      ssize_t n = 0;
      while ((n = ::read(inotify_.get(), buffer, sizeof buffer)) > 0) {
        for (ssize_t at = 0; at < n;) {
          const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
          for (Watched& watched : files_) {
            if (watched.watch != event->wd) continue;
            if ((event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0)
              watched.watch = -1;
            bool seen = false;
            for (const std::string* d : changed)
              seen = seen || *d == watched.directory;
            if (!seen) changed.push_back(&watched.directory);
          }
          at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
      }
      for (const std::string* directory : changed)
        checkAll(directory);
    }
    if (std::chrono::steady_clock::now() >= nextCheck) {
      if (inotify_) addWatches();
      checkAll(nullptr);
      nextCheck = std::chrono::steady_clock::now() + interval_;
    }
  }
}

}  // namespace wsr::auth
