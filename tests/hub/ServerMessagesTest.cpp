// The server's messages: each one valid JSON with exactly PROTOCOL.md's
// fields; the data envelope keeps the publisher's data byte for byte.

#include "hub/ServerMessages.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "text/JsonString.h"

namespace wsr::hub {
namespace {

bool isValidJson(std::string_view text) {
  simdjson::dom::parser parser;
  return parser.parse(text.data(), text.size(), true).error() == simdjson::SUCCESS;
}

TEST(ServerMessages, Welcome) {
  EXPECT_EQ(welcomeMessage("s-9f2c", "r-71d0", 25000, 1763790000123),
            R"({"type":"welcome","session":"s-9f2c","resume":"r-71d0","heartbeat_ms":25000,)"
            R"("server_time":1763790000123})");
  EXPECT_EQ(welcomeMessage("", "", 0, -5),
            R"({"type":"welcome","session":"","resume":"","heartbeat_ms":0,"server_time":-5})");
}

TEST(ServerMessages, Subscribed) {
  EXPECT_EQ(subscribedMessage(1, "stock:AAPL", 1050, true),
            R"({"type":"subscribed","id":1,"channel":"stock:AAPL","seq":1050,"recovered":true})");
  EXPECT_EQ(subscribedMessage(1, "stock:AAPL", 1050, false),
            R"({"type":"subscribed","id":1,"channel":"stock:AAPL","seq":1050,"recovered":false})");
  EXPECT_EQ(subscribedMessage(std::nullopt, "market", 0, std::nullopt),
            R"({"type":"subscribed","channel":"market","seq":0})");
  EXPECT_EQ(subscribedMessage(-3, "m", UINT64_MAX, std::nullopt),
            R"({"type":"subscribed","id":-3,"channel":"m","seq":18446744073709551615})");
}

TEST(ServerMessages, Unsubscribed) {
  EXPECT_EQ(unsubscribedMessage(2, "index"), R"({"type":"unsubscribed","id":2,"channel":"index"})");
  EXPECT_EQ(unsubscribedMessage(std::nullopt, "index"),
            R"({"type":"unsubscribed","channel":"index"})");
}

TEST(ServerMessages, Pong) {
  EXPECT_EQ(pongMessage(3, 1763790000789), R"({"type":"pong","id":3,"server_time":1763790000789})");
  EXPECT_EQ(pongMessage(std::nullopt, 1), R"({"type":"pong","server_time":1})");
  EXPECT_EQ(pongMessage(INT64_MIN, INT64_MAX),
            R"({"type":"pong","id":-9223372036854775808,"server_time":9223372036854775807})");
}

TEST(ServerMessages, Error) {
  EXPECT_EQ(errorMessage(1, "FORBIDDEN", "channel user:7 is not allowed for this token"),
            R"({"type":"error","id":1,"code":"FORBIDDEN","message":"channel user:7 is not )"
            R"(allowed for this token"})");
  EXPECT_EQ(errorMessage(std::nullopt, "BAD_REQUEST", "field 'op' is required"),
            R"({"type":"error","code":"BAD_REQUEST","message":"field 'op' is required"})");
  EXPECT_EQ(errorMessage(std::nullopt, "X", "say \"hi\""),
            R"({"type":"error","code":"X","message":"say \"hi\""})");
}

TEST(ServerMessages, Gap) {
  EXPECT_EQ(
      gapMessage("stock:AAPL", 1052, 1060, "slow_consumer"),
      R"({"type":"gap","channel":"stock:AAPL","from":1052,"to":1060,"reason":"slow_consumer"})");
}

TEST(ServerMessages, DataMessageKeepsDataByteForByte) {
  EXPECT_EQ(dataMessage("price_update", "stock:AAPL", 1051, 1763790000456,
                        R"({"price":231.4,"volume":1200})"),
            R"({"type":"price_update","channel":"stock:AAPL","seq":1051,"ts":1763790000456,)"
            R"("data":{"price":231.4,"volume":1200}})");
  const std::string data = "{\"a\": 1.50, \"b\":[1,2]}";
  const std::string message = dataMessage("message", "index", 1, 2, data);
  EXPECT_EQ(message, R"({"type":"message","channel":"index","seq":1,"ts":2,"data":)" + data + "}");
  // Reserved once, exactly (libstdc++ reserves what is asked for).
  EXPECT_EQ(message.capacity(), message.size());
  // Scalars and strings are JSON too.
  EXPECT_EQ(dataMessage("t", "c", 0, -1, "\"x\\u00e9\""),
            R"({"type":"t","channel":"c","seq":0,"ts":-1,"data":"x\u00e9"})");
}

TEST(ServerMessages, DataMessageEscapesTheTypeAndReservesEnough) {
  const std::string type = "q\"\\\n\x01\xC3\xA9\xFF";
  const std::string message = dataMessage(type, "c", UINT64_MAX, INT64_MIN, "[]");
  EXPECT_EQ(message, R"({"type":"q\"\\\n\u0001)"
                     "\xC3\xA9\xEF\xBF\xBD"
                     R"(","channel":"c","seq":18446744073709551615,"ts":-9223372036854775808,)"
                     R"("data":[]})");
  EXPECT_TRUE(isValidJson(message));
}

// What the hub writes into a frame's payload: exactly size() bytes, the
// same as the envelope built field by field through the program's one
// escaper, whatever the type and channel hold.
TEST(ServerMessages, DataEnvelopeWritesExactlyItsSizeInPlace) {
  const std::string names[] = {"price_update",         "stock:AAPL", "",        "q\"\\\n\x01\x7f",
                               "\xC3\xA9\xF0\x9F\x98", "\xFF",       "a\tb\"c", "\xE2\x80\xA8"};
  for (const std::string& type : names) {
    for (const std::string& channel : names) {
      std::string expected = "{\"type\":";
      text::appendJsonString(expected, type);
      expected += ",\"channel\":";
      text::appendJsonString(expected, channel);
      expected += R"(,"seq":42,"ts":-7,"data":{"x":[1, 2]}})";

      const DataEnvelope envelope(type, channel, 42, -7, R"({"x":[1, 2]})");
      ASSERT_EQ(envelope.size(), expected.size()) << type << " / " << channel;
      // Guard bytes either side: nothing is written outside size().
      std::string out(envelope.size() + 2, '#');
      envelope.writeTo(out.data() + 1);
      EXPECT_EQ(out.front(), '#');
      EXPECT_EQ(out.back(), '#');
      EXPECT_EQ(out.substr(1, envelope.size()), expected) << type << " / " << channel;
      EXPECT_EQ(dataMessage(type, channel, 42, -7, R"({"x":[1, 2]})"), expected);
      EXPECT_TRUE(isValidJson(expected));
    }
  }
}

}  // namespace
}  // namespace wsr::hub
