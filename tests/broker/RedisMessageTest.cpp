// The message format on Redis (pub/sub, stream, retained value): what the
// publish script writes is what decodeRedisMessage reads.

#include "broker/RedisMessage.h"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

#include "broker/RedisKeys.h"
#include "telemetry/TraceContext.h"

namespace wsr::broker {
namespace {

// The broker.publish span's context, as the Redis broker hands it on.
telemetry::TraceContext spanContext(std::string_view traceparent) {
  std::optional<telemetry::TraceContext> context = telemetry::parseTraceparent(traceparent);
  EXPECT_TRUE(context) << traceparent;
  return context.value_or(telemetry::TraceContext{});
}

TEST(RedisMessage, RoundTripsEveryField) {
  const telemetry::TraceContext trace =
      spanContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  const std::string bytes =
      encodeRedisMessage(1051, 1764000000123456, 1763790000456, "price_update", "AAPL",
                         R"({"price":231.4,"note":"a b\nc"})", 987654321, trace);
  EXPECT_EQ(bytes,
            "1051 1764000000123456 1763790000456 price_update 4 987654321 "
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\nAAPL"
            R"({"price":231.4,"note":"a b\nc"})");
  const auto decoded = decodeRedisMessage(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->seq, 1051u);
  EXPECT_EQ(decoded->epoch, 1764000000123456u);
  EXPECT_EQ(decoded->tsMs, 1763790000456);
  EXPECT_EQ(decoded->origin, 987654321u);
  EXPECT_EQ(decoded->publication.trace, trace);
  EXPECT_EQ(decoded->publication.type, "price_update");
  EXPECT_EQ(decoded->publication.key, "AAPL");
  EXPECT_EQ(decoded->publication.data, R"({"price":231.4,"note":"a b\nc"})");
}

TEST(RedisMessage, WithoutATraceTheFieldIsADash) {
  const std::string bytes = encodeRedisMessage(1, 2, 3, "message", "", "{}", 4);
  EXPECT_EQ(bytes, "1 2 3 message 0 4 -\n{}");
  const auto decoded = decodeRedisMessage(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->origin, 4u);
  EXPECT_FALSE(decoded->publication.trace.valid());
}

// The trace is only for spans: one that does not parse (another tool wrote
// it) is no trace, and the publication is still delivered.
TEST(RedisMessage, AnUnreadableTraceIsNoTrace) {
  const auto decoded = decodeRedisMessage("1 2 3 message 0 4 00-aa-bb-01\n{}");
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->publication.trace.valid());
  EXPECT_EQ(decoded->publication.data, "{}");
}

// Streams and retained values written before the origin and trace fields
// are read as they were, with no origin.
TEST(RedisMessage, TheEarlierFormIsStillRead) {
  const auto decoded = decodeRedisMessage("1051 17 99 price_update 4\nAAPL{}");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->seq, 1051u);
  EXPECT_EQ(decoded->origin, 0u);
  EXPECT_EQ(decoded->publication.key, "AAPL");
  EXPECT_EQ(decoded->publication.data, "{}");
}

// The key is counted, not delimited: spaces, newlines and digits in it are
// kept as they are, and an empty one is empty.
TEST(RedisMessage, KeysMayHoldAnything) {
  for (const std::string key : {"", "a b", "x\ny", "12 3\n", "{\"k\":1}"}) {
    const auto decoded = decodeRedisMessage(encodeRedisMessage(7, 9, 1, "message", key, "[1]"));
    ASSERT_TRUE(decoded) << key;
    EXPECT_EQ(decoded->publication.key, key);
    EXPECT_EQ(decoded->publication.data, "[1]");
  }
}

// A run (one pub/sub message for consecutive publications of a channel):
// every message of it, in order, each with its own fields.
TEST(RedisMessage, ARunIsReadAsItsMessagesInOrder) {
  const std::vector<std::string> messages = {
      encodeRedisMessage(5, 9, 100, "quote", "a\n7 b", "{}", 1,
                         spanContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")),
      encodeRedisMessage(6, 9, 100, "trade", "", "[1]", 2),
      encodeRedisMessage(7, 9, 100, "quote", "*2\n", "\"x\"", 3)};
  const std::string run = encodeRedisRun(messages);
  EXPECT_TRUE(run.starts_with("*3\n" + std::to_string(messages[0].size()) + "\n" + messages[0]));
  const auto decoded = decodeRedisMessages(run);
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->size(), 3u);
  EXPECT_EQ((*decoded)[0].seq, 5u);
  EXPECT_EQ((*decoded)[0].publication.key, "a\n7 b");
  EXPECT_EQ(telemetry::formatTraceparent((*decoded)[0].publication.trace),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  EXPECT_FALSE((*decoded)[1].publication.trace.valid());
  EXPECT_EQ((*decoded)[1].seq, 6u);
  EXPECT_EQ((*decoded)[1].origin, 2u);
  EXPECT_EQ((*decoded)[1].publication.data, "[1]");
  EXPECT_EQ((*decoded)[2].seq, 7u);
  EXPECT_EQ((*decoded)[2].publication.key, "*2\n");
  EXPECT_EQ((*decoded)[2].publication.data, "\"x\"");
  // A single message is a run of one.
  const auto one = decodeRedisMessages(messages[1]);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().seq, 6u);
}

TEST(RedisMessage, RefusesARunThatIsNotOne) {
  const std::string a = encodeRedisMessage(1, 2, 3, "message", "", "{}", 4);
  const std::string len = std::to_string(a.size());
  for (const std::string& bytes : std::vector<std::string>{
           std::string("*"), "*0\n", "*x\n", "*2\n" + len + "\n" + a,  // fewer than told
           "*1\n" + len + "\n" + a + "junk",                           // more than told
           "*1\n" + std::to_string(a.size() + 1) + "\n" + a,           // longer than there
           "*1\n3\nabc", "*99999999999\n" + len + "\n" + a}) {
    EXPECT_FALSE(decodeRedisMessages(bytes)) << bytes;
  }
}

TEST(RedisMessage, RefusesWhatIsNotOne) {
  for (const std::string bytes :
       {"", "1 2 3", "1 2 3 message", "1 2 3 message 5\nabc", "x 2 3 message 0\n{}",
        "1 y 3 message 0\n{}", "1 2 z message 0\n{}", "0 2 3 message 0\n{}", "1 2 3  0\n{}",
        "-1 2 3 message 0\n{}", "1 2 3 message -1\n{}", "1 2 3 message 0 5\n{}",
        "1 2 3 message 0 x -\n{}", "1 2 3 message 0 5 \n{}", "1 2 3 message 0 5 a b\n{}"}) {
    EXPECT_FALSE(decodeRedisMessage(bytes)) << bytes;
  }
}

TEST(RedisKeys, EveryKeyOfAChannelSharesOneHashTag) {
  EXPECT_EQ(seqKey("stock:AAPL"), "wsr:{stock:AAPL}:seq");
  EXPECT_EQ(streamKey("stock:AAPL"), "wsr:{stock:AAPL}:stream");
  EXPECT_EQ(lastKey("stock:AAPL"), "wsr:{stock:AAPL}:last");
  EXPECT_EQ(pubsubChannel("stock:AAPL"), "wsr:{stock:AAPL}:msg");
  EXPECT_EQ(channelOfPubsub("wsr:{stock:AAPL}:msg"), "stock:AAPL");
  EXPECT_EQ(channelOfPubsub("wsr:{}:msg"), "");
  EXPECT_EQ(channelOfPubsub("other:{a}:msg"), "");
  EXPECT_EQ(channelOfPubsub("wsr:{a}:stream"), "");
}

}  // namespace
}  // namespace wsr::broker
