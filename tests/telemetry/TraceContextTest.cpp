#include "telemetry/TraceContext.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "telemetry/IdGenerator.h"

namespace wsr::telemetry {
namespace {

// The example of the W3C Trace Context recommendation.
constexpr const char* kExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, ParsesTheSpecExample) {
  const auto context = parseTraceparent(kExample);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(toHex(context->traceId), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(toHex(context->spanId), "00f067aa0ba902b7");
  EXPECT_TRUE(context->sampled());
  EXPECT_TRUE(context->valid());
  EXPECT_EQ(formatTraceparent(*context), kExample);
}

TEST(Traceparent, NotSampled) {
  const auto context = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(context.has_value());
  EXPECT_FALSE(context->sampled());
  EXPECT_EQ(formatTraceparent(*context), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

TEST(Traceparent, KeepsOnlyTheSampledFlag) {
  // 0x03: sampled plus a flag this version does not define.
  const auto context = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(context->flags, kSampledFlag);
  const auto unsampled =
      parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe");
  ASSERT_TRUE(unsampled.has_value());
  EXPECT_EQ(unsampled->flags, 0);
}

TEST(Traceparent, SurroundingWhitespaceIsAllowed) {
  EXPECT_TRUE(parseTraceparent(std::string(" \t") + kExample + " ").has_value());
}

TEST(Traceparent, FutureVersionsAreParsedLeniently) {
  // A later version may be longer: the first four fields are read, the rest ignored.
  const auto longer =
      parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future");
  ASSERT_TRUE(longer.has_value());
  EXPECT_EQ(toHex(longer->traceId), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(longer->sampled());
  EXPECT_TRUE(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
  // ...but what follows the flags must be a new field.
  EXPECT_FALSE(parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
  // Children are always written as version 00.
  EXPECT_EQ(formatTraceparent(*longer).substr(0, 3), "00-");
}

TEST(Traceparent, RejectsEveryInvalidForm) {
  const char* invalid[] = {
      "",
      "00",
      // version ff is forbidden; versions are hex
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // version 00 has exactly four fields
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
      // all-zero ids
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      // uppercase hex (the spec's HEXDIGLC) and non-hex
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
      "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bx-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
      // wrong lengths
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b77-01",
      // separators
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      "004bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
  };
  for (const char* header : invalid) {
    EXPECT_FALSE(parseTraceparent(header).has_value()) << header;
  }
}

TEST(TraceContext, DefaultIsInvalid) {
  TraceContext context;
  EXPECT_FALSE(context.valid());
  EXPECT_FALSE(context.sampled());
}

TEST(Hex, RoundTripsAndRejects) {
  TraceId trace{};
  ASSERT_TRUE(fromHex("0102030405060708090a0b0c0d0e0fff", trace));
  EXPECT_EQ(trace[0], 1);
  EXPECT_EQ(trace[15], 0xff);
  EXPECT_EQ(toHex(trace), "0102030405060708090a0b0c0d0e0fff");
  SpanId span{};
  EXPECT_FALSE(fromHex("0102", span));
  EXPECT_FALSE(fromHex("010203040506070G", span));
  EXPECT_TRUE(fromHex("a1b2c3d4e5f60718", span));
  EXPECT_EQ(toHex(span), "a1b2c3d4e5f60718");
}

TEST(IdGenerator, IdsAreNonZeroAndDistinct) {
  std::set<std::string> traces;
  std::set<std::string> spans;
  for (int i = 0; i < 10000; ++i) {
    const TraceId trace = newTraceId();
    const SpanId span = newSpanId();
    ASSERT_FALSE(isZero(trace));
    ASSERT_FALSE(isZero(span));
    traces.insert(toHex(trace));
    spans.insert(toHex(span));
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

}  // namespace
}  // namespace wsr::telemetry
