#include "telemetry/ProcessMetrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <string>

namespace wsr::telemetry {
namespace {

// A real line of /proc/<pid>/stat, with a command name that has spaces and
// a ')' in it: utime 250, stime 50, starttime 12345, vsize 104857600, rss 2560.
constexpr const char* kStat =
    "4242 (ws (router) x) S 1 4242 4242 0 -1 4194560 1043 0 0 0 250 50 0 0 20 0 5 0 12345 "
    "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessMetrics, ParsesProcStatCountingFieldsFromTheLastParenthesis) {
  ProcessSample sample;
  ASSERT_TRUE(parseProcStat(kStat, 100, 4096, sample));
  EXPECT_DOUBLE_EQ(sample.cpuSeconds, 3.0);
  EXPECT_DOUBLE_EQ(sample.startTimeSeconds, 123.45);
  EXPECT_EQ(sample.virtualBytes, 104857600u);
  EXPECT_EQ(sample.residentBytes, 2560u * 4096u);
}

TEST(ProcessMetrics, RefusesTextThatIsNotProcStat) {
  ProcessSample sample;
  EXPECT_FALSE(parseProcStat("", 100, 4096, sample));
  EXPECT_FALSE(parseProcStat("4242 (short) S 1 2 3", 100, 4096, sample));
  EXPECT_FALSE(
      parseProcStat("4242 (x) S 1 4242 4242 0 -1 4194560 1043 0 0 0 ab 50 0 0 20 0 5 0 "
                    "12345 104857600 2560",
                    100, 4096, sample));
  EXPECT_FALSE(parseProcStat(kStat, 0, 4096, sample));
}

TEST(ProcessMetrics, ParsesTheBootTimeOfProcStat) {
  int64_t boot = 0;
  EXPECT_TRUE(parseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n", boot));
  EXPECT_EQ(boot, 1700000000);
  EXPECT_FALSE(parseBootTime("cpu  1 2 3\n", boot));
  EXPECT_FALSE(parseBootTime("btime soon\n", boot));
}

TEST(ProcessMetrics, SamplesThisProcess) {
  ProcessSample sample;
  ASSERT_TRUE(sampleThisProcess(sample));
  EXPECT_GT(sample.residentBytes, 0u);
  EXPECT_GE(sample.virtualBytes, sample.residentBytes);
  EXPECT_GE(sample.openFds, 3u);  // stdin, stdout, stderr at least
  EXPECT_GE(sample.maxFds, sample.openFds);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(sample.startTimeSeconds, now + 1);
  EXPECT_GT(sample.startTimeSeconds, now - 24 * 3600);  // this test binary started today
  // A descriptor more is seen.
  const int fd = ::dup(0);
  ProcessSample after;
  ASSERT_TRUE(sampleThisProcess(after));
  EXPECT_EQ(after.openFds, sample.openFds + 1);
  ::close(fd);
}

TEST(ProcessMetrics, FamiliesUseTheStandardNames) {
  ProcessSample sample;
  sample.cpuSeconds = 1.5;
  sample.residentBytes = 10;
  const auto families = processFamilies(sample);
  std::vector<std::string> names;
  for (const auto& family : families)
    names.push_back(family.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"process_cpu_seconds_total", "process_resident_memory_bytes",
                                      "process_virtual_memory_bytes", "process_open_fds",
                                      "process_max_fds", "process_start_time_seconds"}));
  EXPECT_EQ(families[0].metric[0].counter.value, 1.5);
  EXPECT_EQ(families[1].metric[0].gauge.value, 10);
  EXPECT_FALSE(ProcessCollector().Collect().empty());
}

}  // namespace
}  // namespace wsr::telemetry
