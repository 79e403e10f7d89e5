#pragma once
// JSON lines on stdout: {"time":"2026-11-22T09:30:00.123Z","level":"warn",
// "event":"connection_refused","reason":"too_many_connections",...}. One
// write() per line, so lines from different threads never interleave.
//
// Events a client can cause at will (refusals, bad tokens) go through
// logLimited(): at most `limitedPerSecond` such lines a second, the rest
// counted and reported as "suppressed" on the next line that gets through,
// so an attack cannot turn the log into a denial of service of its own.
// Callers never pass tokens; request targets go through
// auth::loggableTarget() first. Strings are escaped by text::appendJsonString:
// bytes that are not UTF-8 (a client's request target) become U+FFFD, so
// every line is valid JSON whatever a client sent.

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace wsr::telemetry {

enum class LogLevel { Debug, Info, Warn, Error };
std::string_view toString(LogLevel level);
// "debug", "info", "warn" or "error"; false for anything else.
bool parseLogLevel(std::string_view text, LogLevel& level);

struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), text(v) {}
  LogField(std::string_view k, const char* v) : key(k), text(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), text(v) {}
  LogField(std::string_view k, int64_t v) : key(k), number(v), isNumber(true) {}
  LogField(std::string_view k, uint64_t v)
      : key(k), number(static_cast<int64_t>(v)), isNumber(true) {}
  LogField(std::string_view k, int v) : key(k), number(v), isNumber(true) {}
  LogField(std::string_view k, unsigned v) : key(k), number(v), isNumber(true) {}

  std::string_view key;
  std::string_view text;
  int64_t number = 0;
  bool isNumber = false;
};

class Logger {
 public:
  // Writes to `fd` (stdout by default); lines below `level` are skipped.
  explicit Logger(LogLevel level = LogLevel::Info, int fd = 1, uint32_t limitedPerSecond = 20);
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool enabled(LogLevel level) const { return level >= level_; }
  void setLevel(LogLevel level) { level_ = level; }

  // Any thread.
  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
  // Same, within the shared per-second budget for client-caused events.
  void logLimited(LogLevel level, std::string_view event,
                  std::initializer_list<LogField> fields = {});

  // Lines logLimited() has dropped so far.
  uint64_t suppressed() const { return suppressedTotal_.load(std::memory_order_relaxed); }

  // The line log() would write, without the newline; for tests.
  static std::string format(int64_t wallMs, LogLevel level, std::string_view event,
                            std::initializer_list<LogField> fields, uint64_t suppressed = 0);

 private:
  void write(LogLevel level, std::string_view event, std::initializer_list<LogField> fields,
             uint64_t suppressed);

  std::atomic<LogLevel> level_;
  int fd_;
  uint32_t limitedPerSecond_;
  std::atomic<int64_t> window_{0};  // the second the budget counts
  std::atomic<uint32_t> usedInWindow_{0};
  std::atomic<uint64_t> suppressedPending_{0};
  std::atomic<uint64_t> suppressedTotal_{0};
};

}  // namespace wsr::telemetry
