#include "telemetry/Logger.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "text/JsonString.h"

namespace wsr::telemetry {
namespace {

int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void appendTime(std::string& out, int64_t wallMs) {
  const time_t seconds = static_cast<time_t>(wallMs / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];  // room for any int the compiler imagines
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(wallMs % 1000));
  out += text;
}

}  // namespace

std::string_view toString(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
  }
  return "info";
}

bool parseLogLevel(std::string_view text, LogLevel& level) {
  for (LogLevel candidate : {LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error}) {
    if (text == toString(candidate)) {
      level = candidate;
      return true;
    }
  }
  return false;
}

Logger::Logger(LogLevel level, int fd, uint32_t limitedPerSecond)
    : level_(level), fd_(fd), limitedPerSecond_(limitedPerSecond) {}

std::string Logger::format(int64_t wallMs, LogLevel level, std::string_view event,
                           std::initializer_list<LogField> fields, uint64_t suppressed) {
  std::string line = "{\"time\":\"";
  appendTime(line, wallMs);
  line += "\",\"level\":\"";
  line += toString(level);
  line += "\",\"event\":";
  text::appendJsonString(line, event);
  for (const LogField& field : fields) {
    line += ',';
    text::appendJsonString(line, field.key);
    line += ':';
    if (field.isNumber) {
      line += std::to_string(field.number);
    } else {
      text::appendJsonString(line, field.text);
    }
  }
  if (suppressed > 0) line += ",\"suppressed\":" + std::to_string(suppressed);
  line += '}';
  return line;
}

void Logger::write(LogLevel level, std::string_view event, std::initializer_list<LogField> fields,
                   uint64_t suppressed) {
  std::string line = format(wallClockMs(), level, event, fields, suppressed);
  line += '\n';
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: nothing better to do
    data += n;
    left -= static_cast<size_t>(n);
  }
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  write(level, event, fields, 0);
}

void Logger::logLimited(LogLevel level, std::string_view event,
                        std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  const int64_t second = wallClockMs() / 1000;
  int64_t window = window_.load(std::memory_order_relaxed);
  if (window != second && window_.compare_exchange_strong(window, second)) {
    usedInWindow_.store(0, std::memory_order_relaxed);
  }
  if (usedInWindow_.fetch_add(1, std::memory_order_relaxed) >= limitedPerSecond_) {
    suppressedPending_.fetch_add(1, std::memory_order_relaxed);
    suppressedTotal_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  write(level, event, fields, suppressedPending_.exchange(0, std::memory_order_relaxed));
}

}  // namespace wsr::telemetry
