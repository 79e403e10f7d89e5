#pragma once
// The standard process_* metrics every Prometheus client library exposes
// (CPU, memory, descriptors, start time), read from /proc at scrape time,
// so the usual dashboards work unchanged. Linux only.

#include <cstdint>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace wsr::telemetry {

struct ProcessSample {
  double cpuSeconds = 0;        // user + system
  double startTimeSeconds = 0;  // since the epoch
  uint64_t virtualBytes = 0;
  uint64_t residentBytes = 0;
  uint64_t openFds = 0;
  uint64_t maxFds = 0;  // the soft RLIMIT_NOFILE
};

// The fields of /proc/<pid>/stat this needs, with the clock tick and page
// size of the machine: cpuSeconds, startTimeSeconds (since boot, not yet
// since the epoch), virtualBytes, residentBytes. False when the text is not
// of that format. The command name may hold spaces and parentheses: fields
// are counted from its last ')'.
bool parseProcStat(std::string_view text, long ticksPerSecond, long pageSize, ProcessSample& out);
// The boot time (seconds since the epoch) from /proc/stat's "btime" line.
bool parseBootTime(std::string_view procStat, int64_t& bootTime);

// This process, now: /proc/self/stat, /proc/stat, /proc/self/fd and
// getrlimit. False when /proc cannot be read (the sample is then partial).
bool sampleThisProcess(ProcessSample& out);

// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds; nothing when /proc is unreadable.
std::vector<prometheus::MetricFamily> processFamilies(const ProcessSample& sample);

class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace wsr::telemetry
