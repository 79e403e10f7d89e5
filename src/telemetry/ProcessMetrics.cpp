#include "telemetry/ProcessMetrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

#include "telemetry/MetricFamilies.h"

namespace wsr::telemetry {
namespace {

// /proc/<pid>/stat fields (proc(5), numbered from 1), counted after the
// command name, whose field is 2: the state is field 3.
constexpr size_t kFirstFieldAfterName = 3;
constexpr size_t kUtime = 14;
constexpr size_t kStime = 15;
constexpr size_t kStartTime = 22;
constexpr size_t kVsize = 23;
constexpr size_t kRss = 24;

bool parseNumber(std::string_view text, uint64_t& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool readFile(const char* path, std::string& out) {
  std::ifstream file(path);
  if (!file) return false;
  std::ostringstream text;
  text << file.rdbuf();
  out = text.str();
  return true;
}

uint64_t countOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  uint64_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;  // not the one reading the directory
}

}  // namespace

bool parseProcStat(std::string_view text, long ticksPerSecond, long pageSize, ProcessSample& out) {
  const size_t nameEnd = text.rfind(')');
  if (nameEnd == std::string_view::npos || ticksPerSecond <= 0 || pageSize <= 0) return false;
  std::string_view rest = text.substr(nameEnd + 1);
  uint64_t utime = 0;
  uint64_t stime = 0;
  uint64_t start = 0;
  uint64_t vsize = 0;
  uint64_t rss = 0;
  size_t field = kFirstFieldAfterName;
  size_t found = 0;
  while (field <= kRss) {
    const size_t begin = rest.find_first_not_of(" \n");
    if (begin == std::string_view::npos) return false;
    rest.remove_prefix(begin);
    const size_t length = std::min(rest.find_first_of(" \n"), rest.size());
    const std::string_view value = rest.substr(0, length);
    rest.remove_prefix(length);
    uint64_t* target = field == kUtime       ? &utime
                       : field == kStime     ? &stime
                       : field == kStartTime ? &start
                       : field == kVsize     ? &vsize
                       : field == kRss       ? &rss
                                             : nullptr;
    if (target != nullptr) {
      if (!parseNumber(value, *target)) return false;
      ++found;
    }
    ++field;
  }
  if (found != 5) return false;
  const auto ticks = static_cast<double>(ticksPerSecond);
  out.cpuSeconds = static_cast<double>(utime + stime) / ticks;
  out.startTimeSeconds = static_cast<double>(start) / ticks;
  out.virtualBytes = vsize;
  out.residentBytes = rss * static_cast<uint64_t>(pageSize);
  return true;
}

bool parseBootTime(std::string_view procStat, int64_t& bootTime) {
  constexpr std::string_view kKey = "btime ";
  size_t at = 0;
  while (at < procStat.size()) {
    const size_t lineEnd = std::min(procStat.find('\n', at), procStat.size());
    const std::string_view line = procStat.substr(at, lineEnd - at);
    if (line.starts_with(kKey)) {
      uint64_t value = 0;
      if (!parseNumber(line.substr(kKey.size()), value)) return false;
      bootTime = static_cast<int64_t>(value);
      return true;
    }
    at = lineEnd + 1;
  }
  return false;
}

bool sampleThisProcess(ProcessSample& out) {
  std::string stat;
  std::string system;
  int64_t bootTime = 0;
  if (!readFile("/proc/self/stat", stat) || !readFile("/proc/stat", system) ||
      !parseProcStat(stat, ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE), out) ||
      !parseBootTime(system, bootTime)) {
    return false;
  }
  out.startTimeSeconds += static_cast<double>(bootTime);
  out.openFds = countOpenFds();
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) out.maxFds = limit.rlim_cur;
  return true;
}

std::vector<prometheus::MetricFamily> processFamilies(const ProcessSample& sample) {
  std::vector<prometheus::MetricFamily> out;
  auto add = [&out](prometheus::MetricFamily family, double value) {
    addSample(family, value);
    out.push_back(std::move(family));
  };
  add(counterFamily("process_cpu_seconds_total",
                    "Total user and system CPU time spent in seconds."),
      sample.cpuSeconds);
  add(gaugeFamily("process_resident_memory_bytes", "Resident memory size in bytes."),
      static_cast<double>(sample.residentBytes));
  add(gaugeFamily("process_virtual_memory_bytes", "Virtual memory size in bytes."),
      static_cast<double>(sample.virtualBytes));
  add(gaugeFamily("process_open_fds", "Number of open file descriptors."),
      static_cast<double>(sample.openFds));
  add(gaugeFamily("process_max_fds", "Maximum number of open file descriptors."),
      static_cast<double>(sample.maxFds));
  add(gaugeFamily("process_start_time_seconds",
                  "Start time of the process since unix epoch in seconds."),
      sample.startTimeSeconds);
  return out;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  ProcessSample sample;
  if (!sampleThisProcess(sample)) return {};
  return processFamilies(sample);
}

}  // namespace wsr::telemetry
