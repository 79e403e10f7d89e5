#include "telemetry/MetricFamilies.h"

#include <gtest/gtest.h>

#include <array>
#include <limits>
#include <memory>
#include <stdexcept>

#include "telemetry/BuildInfo.h"
#include "telemetry/MetricsExposition.h"

namespace wsr::telemetry {
namespace {

class FixedCollector final : public prometheus::Collectable {
 public:
  explicit FixedCollector(std::vector<prometheus::MetricFamily> families)
      : families_(std::move(families)) {}
  std::vector<prometheus::MetricFamily> Collect() const override { return families_; }

 private:
  std::vector<prometheus::MetricFamily> families_;
};

TEST(MetricFamilies, HistogramBucketsAreCumulativeAndEndAtInfinity) {
  prometheus::MetricFamily family = histogramFamily("wsrouter_test_seconds", "A test.");
  const std::array<double, 2> bounds = {0.001, 0.01};
  const std::array<uint64_t, 3> counts = {2, 0, 3};
  addHistogram(family, bounds, counts, 1.5, {{"worker", "0"}});
  ASSERT_EQ(family.metric.size(), 1u);
  const auto& histogram = family.metric[0].histogram;
  ASSERT_EQ(histogram.bucket.size(), 3u);
  EXPECT_EQ(histogram.bucket[0].cumulative_count, 2u);
  EXPECT_EQ(histogram.bucket[0].upper_bound, 0.001);
  EXPECT_EQ(histogram.bucket[1].cumulative_count, 2u);
  EXPECT_EQ(histogram.bucket[2].cumulative_count, 5u);
  EXPECT_EQ(histogram.bucket[2].upper_bound, std::numeric_limits<double>::infinity());
  EXPECT_EQ(histogram.sample_count, 5u);
  EXPECT_EQ(histogram.sample_sum, 1.5);
  EXPECT_EQ(family.metric[0].label[0].name, "worker");
}

TEST(MetricFamilies, MismatchedCountsAndWrongTypesAreProgrammingErrors) {
  prometheus::MetricFamily histogram = histogramFamily("wsrouter_test_seconds", "A test.");
  const std::array<double, 2> bounds = {0.001, 0.01};
  const std::array<uint64_t, 2> counts = {1, 1};
  EXPECT_THROW(addHistogram(histogram, bounds, counts, 0), std::logic_error);
  EXPECT_THROW(addSample(histogram, 1), std::logic_error);
}

TEST(MetricsExposition, SerializesTheRegistryThenEachCollectorInTheTextFormat) {
  MetricsExposition exposition;
  registerBuildInfo(exposition.registry(), BuildInfo{"1.2.3", "abc1234", "gcc 12"});
  prometheus::MetricFamily counter = counterFamily("wsrouter_things_total", "Things.");
  addSample(counter, 3, {{"reason", "x\"y"}});
  addSample(counter, 0, {{"reason", "z"}});
  prometheus::MetricFamily gauge = gaugeFamily("wsrouter_level", "A level.");
  addSample(gauge, 2.5);
  exposition.add(std::make_shared<FixedCollector>(std::vector{counter, gauge}));

  const std::string text = exposition.text();
  EXPECT_NE(text.find("# TYPE wsrouter_build_info gauge\n"
                      "wsrouter_build_info{compiler=\"gcc 12\",revision=\"abc1234\","
                      "version=\"1.2.3\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# HELP wsrouter_things_total Things.\n"
                      "# TYPE wsrouter_things_total counter\n"
                      "wsrouter_things_total{reason=\"x\\\"y\"} 3\n"
                      "wsrouter_things_total{reason=\"z\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE wsrouter_level gauge\nwsrouter_level 2.5\n"), std::string::npos)
      << text;
  EXPECT_LT(text.find("wsrouter_build_info"), text.find("wsrouter_things_total"));
  EXPECT_EQ(MetricsExposition::kContentType, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(BuildInfo, ThisBuildNamesItsVersionRevisionAndCompiler) {
  const BuildInfo info = BuildInfo::ofThisBuild();
  EXPECT_FALSE(info.version.empty());
  EXPECT_NE(info.version, "unknown");  // CMake passes the project version
  EXPECT_FALSE(info.revision.empty());
  EXPECT_FALSE(info.compiler.empty());
}

}  // namespace
}  // namespace wsr::telemetry
