#include "telemetry/Sampler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "telemetry/IdGenerator.h"

namespace wsr::telemetry {
namespace {

TraceContext parent(bool sampled) {
  TraceContext context;
  context.traceId = newTraceId();
  context.spanId = newSpanId();
  context.flags = sampled ? kSampledFlag : 0;
  return context;
}

// A trace id whose last 8 bytes are `low` (big-endian), the part the ratio
// sampler reads.
TraceId traceIdWithLow(uint64_t low) {
  TraceId id{};
  id[0] = 0x42;  // the high half is not read
  for (int i = 0; i < 8; ++i)
    id[15 - i] = static_cast<uint8_t>(low >> (8 * i));
  return id;
}

double sampledShare(const Sampler& sampler, int traces) {
  int sampled = 0;
  for (int i = 0; i < traces; ++i)
    sampled += sampler.shouldSample(TraceContext{}, newTraceId()) ? 1 : 0;
  return static_cast<double>(sampled) / traces;
}

TEST(Sampler, DefaultIsParentBasedAlwaysOn) {
  std::vector<std::string> warnings;
  const Sampler sampler = Sampler::fromEnvironment("", "", warnings);
  EXPECT_EQ(sampler.kind(), Sampler::Kind::ParentBasedAlwaysOn);
  EXPECT_EQ(sampler.name(), "parentbased_always_on");
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(sampler.shouldSample(TraceContext{}, newTraceId()));  // a root
  EXPECT_TRUE(sampler.shouldSample(parent(true), newTraceId()));
  EXPECT_FALSE(sampler.shouldSample(parent(false), newTraceId()));
}

TEST(Sampler, AlwaysOnAndAlwaysOffIgnoreTheParent) {
  std::vector<std::string> warnings;
  const Sampler on = Sampler::fromEnvironment("always_on", "", warnings);
  const Sampler off = Sampler::fromEnvironment("always_off", "", warnings);
  EXPECT_TRUE(warnings.empty());
  for (const TraceContext& p : {TraceContext{}, parent(true), parent(false)}) {
    EXPECT_TRUE(on.shouldSample(p, newTraceId()));
    EXPECT_FALSE(off.shouldSample(p, newTraceId()));
  }
}

TEST(Sampler, ParentBasedAlwaysOffSamplesOnlySampledParents) {
  std::vector<std::string> warnings;
  const Sampler sampler = Sampler::fromEnvironment("parentbased_always_off", "", warnings);
  EXPECT_FALSE(sampler.shouldSample(TraceContext{}, newTraceId()));
  EXPECT_TRUE(sampler.shouldSample(parent(true), newTraceId()));
  EXPECT_FALSE(sampler.shouldSample(parent(false), newTraceId()));
}

TEST(Sampler, TraceIdRatioIsDeterministicOnTheTraceId) {
  const Sampler half(Sampler::Kind::TraceIdRatio, 0.5);
  // Below half of 2^63 after the shift: sampled; above: not.
  EXPECT_TRUE(half.shouldSample(TraceContext{}, traceIdWithLow(0)));
  EXPECT_TRUE(half.shouldSample(TraceContext{}, traceIdWithLow(0x7fffffffffffffffULL)));
  EXPECT_FALSE(half.shouldSample(TraceContext{}, traceIdWithLow(0x8000000000000000ULL)));
  EXPECT_FALSE(half.shouldSample(TraceContext{}, traceIdWithLow(0xffffffffffffffffULL)));
  // The same id always gets the same answer, whatever the parent says (not parent-based).
  const TraceId id = newTraceId();
  const bool first = half.shouldSample(TraceContext{}, id);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(half.shouldSample(TraceContext{}, id), first);
    EXPECT_EQ(half.shouldSample(parent(!first), id), first);
  }
}

TEST(Sampler, HigherRatiosSampleASuperset) {
  const Sampler low(Sampler::Kind::TraceIdRatio, 0.1);
  const Sampler high(Sampler::Kind::TraceIdRatio, 0.3);
  for (int i = 0; i < 5000; ++i) {
    const TraceId id = newTraceId();
    if (low.shouldSample(TraceContext{}, id)) {
      EXPECT_TRUE(high.shouldSample(TraceContext{}, id));
    }
  }
}

TEST(Sampler, RatioSamplesAboutThatShare) {
  EXPECT_NEAR(sampledShare(Sampler(Sampler::Kind::TraceIdRatio, 0.25), 20000), 0.25, 0.03);
  EXPECT_EQ(sampledShare(Sampler(Sampler::Kind::TraceIdRatio, 0.0), 1000), 0.0);
  EXPECT_EQ(sampledShare(Sampler(Sampler::Kind::TraceIdRatio, 1.0), 1000), 1.0);
}

TEST(Sampler, ParentBasedTraceIdRatioUsesTheRatioForRootsOnly) {
  std::vector<std::string> warnings;
  const Sampler sampler = Sampler::fromEnvironment("parentbased_traceidratio", "0", warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(sampler.ratio(), 0.0);
  EXPECT_FALSE(sampler.shouldSample(TraceContext{}, newTraceId()));
  EXPECT_TRUE(sampler.shouldSample(parent(true), newTraceId()));
  EXPECT_FALSE(sampler.shouldSample(parent(false), newTraceId()));
  const Sampler all = Sampler::fromEnvironment("parentbased_traceidratio", "1", warnings);
  EXPECT_TRUE(all.shouldSample(TraceContext{}, newTraceId()));
}

TEST(Sampler, RatioArgument) {
  std::vector<std::string> warnings;
  EXPECT_EQ(Sampler::fromEnvironment("traceidratio", "0.25", warnings).ratio(), 0.25);
  EXPECT_EQ(Sampler::fromEnvironment("traceidratio", "", warnings).ratio(), 1.0);  // the default
  EXPECT_TRUE(warnings.empty());
  for (const char* bad : {"1.5", "-0.1", "half", "0.5x", "nan", "inf"}) {
    warnings.clear();
    const Sampler sampler = Sampler::fromEnvironment("traceidratio", bad, warnings);
    EXPECT_EQ(sampler.kind(), Sampler::Kind::TraceIdRatio) << bad;
    EXPECT_EQ(sampler.ratio(), 1.0) << bad;
    ASSERT_EQ(warnings.size(), 1u) << bad;
    EXPECT_NE(warnings[0].find("OTEL_TRACES_SAMPLER_ARG"), std::string::npos);
  }
}

TEST(Sampler, UnknownSamplerWarnsAndUsesTheDefault) {
  std::vector<std::string> warnings;
  const Sampler sampler = Sampler::fromEnvironment("jaeger_remote", "", warnings);
  EXPECT_EQ(sampler.kind(), Sampler::Kind::ParentBasedAlwaysOn);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("jaeger_remote"), std::string::npos);
  EXPECT_NE(warnings[0].find("parentbased_always_on"), std::string::npos);
}

}  // namespace
}  // namespace wsr::telemetry
