#include "hub/ClientMessage.h"
#include "hub/JsonWriter.h"
#include "hub/ServerMessages.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace wsr::hub {
namespace {

constexpr size_t kMaxChannels = 4;

struct Result {
  bool ok = false;
  ClientMessage message;
  ClientMessageError error;
};

// Parses with the free function and with a reused parser, and checks both
// agree: the class is the fast path of the same rules.
Result parse(std::string_view text, size_t maxChannels = kMaxChannels) {
  Result result;
  result.ok = parseClientMessage(text, maxChannels, result.message, result.error);
  static_assert(std::is_move_constructible_v<ClientMessageParser>);
  ClientMessageParser parser;
  ClientMessage again;
  ClientMessageError againError;
  for (int round = 0; round < 2; ++round) {  // the second round reuses the buffers
    EXPECT_EQ(parser.parse(text, maxChannels, again, againError), result.ok) << text;
    EXPECT_EQ(again.channels, result.message.channels);
    EXPECT_EQ(again.id, result.message.id);
    EXPECT_EQ(againError.code, result.error.code);
    EXPECT_EQ(againError.message, result.error.message);
    EXPECT_EQ(againError.id, result.error.id);
  }
  return result;
}

// A failed parse with this code, whose message contains `mentions`.
void expectError(std::string_view text, std::string_view code, std::string_view mentions,
                 std::optional<int64_t> id = std::nullopt) {
  const Result result = parse(text);
  EXPECT_FALSE(result.ok) << text;
  EXPECT_EQ(result.error.code, code) << text;
  EXPECT_NE(result.error.message.find(mentions), std::string::npos)
      << text << " -> " << result.error.message;
  EXPECT_EQ(result.error.id, id) << text;
}

bool isValidJson(std::string_view text) {
  simdjson::dom::parser parser;
  return parser.parse(text.data(), text.size(), true).error() == simdjson::SUCCESS;
}

// Concatenation by appending: g++ 12 misreads "literal" + std::string (-Wrestrict).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts)
    out += part;
  return out;
}

// ---- Parsing: every op with every field ------------------------------------

TEST(ClientMessage, SubscribeWithEveryField) {
  const Result result = parse(
      R"({"op":"subscribe","id":1,"channels":["stock:AAPL","index"],"since":{"stock:AAPL":1042}})");
  ASSERT_TRUE(result.ok) << result.error.message;
  EXPECT_EQ(result.message.op, ClientOp::Subscribe);
  EXPECT_EQ(result.message.id, 1);
  EXPECT_EQ(result.message.channels, (std::vector<std::string>{"stock:AAPL", "index"}));
  ASSERT_EQ(result.message.since.size(), 1u);
  EXPECT_EQ(result.message.since[0].first, "stock:AAPL");
  EXPECT_EQ(result.message.since[0].second, 1042u);
}

TEST(ClientMessage, SubscribeWithoutIdOrSince) {
  const Result result = parse(R"({"op":"subscribe","channels":["market"]})");
  ASSERT_TRUE(result.ok);
  EXPECT_FALSE(result.message.id.has_value());
  EXPECT_TRUE(result.message.since.empty());
  EXPECT_EQ(result.message.channels, std::vector<std::string>{"market"});
}

TEST(ClientMessage, Unsubscribe) {
  const Result result = parse(R"({"op":"unsubscribe","id":2,"channels":["index"]})");
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.message.op, ClientOp::Unsubscribe);
  EXPECT_EQ(result.message.id, 2);
  EXPECT_EQ(result.message.channels, std::vector<std::string>{"index"});
}

TEST(ClientMessage, PingWithAndWithoutId) {
  Result result = parse(R"({"op":"ping","id":3})");
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.message.op, ClientOp::Ping);
  EXPECT_EQ(result.message.id, 3);
  result = parse(R"({"op":"ping"})");
  ASSERT_TRUE(result.ok);
  EXPECT_FALSE(result.message.id.has_value());
}

TEST(ClientMessage, Auth) {
  const Result result = parse(R"({"op":"auth","id":4,"token":"eyJhbGciOi.x.y"})");
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.message.op, ClientOp::Auth);
  EXPECT_EQ(result.message.id, 4);
  EXPECT_EQ(result.message.token, "eyJhbGciOi.x.y");
}

TEST(ClientMessage, Resume) {
  const Result result = parse(R"({"op":"resume","id":5,"session":"s-9f2c","resume":"r-71d0"})");
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.message.op, ClientOp::Resume);
  EXPECT_EQ(result.message.id, 5);
  EXPECT_EQ(result.message.session, "s-9f2c");
  EXPECT_EQ(result.message.resume, "r-71d0");
}

TEST(ClientMessage, IdRange) {
  EXPECT_EQ(parse(R"({"op":"ping","id":-7})").message.id, -7);
  EXPECT_EQ(parse(R"({"op":"ping","id":0})").message.id, 0);
  EXPECT_EQ(parse(R"({"op":"ping","id":9223372036854775807})").message.id, INT64_MAX);
  EXPECT_EQ(parse(R"({"op":"ping","id":-9223372036854775808})").message.id, INT64_MIN);
}

TEST(ClientMessage, UnknownFieldsAreIgnored) {
  const Result result = parse(
      R"({"v":2,"op":"subscribe","extra":{"deep":[1,{"x":null}]},"channels":["a"],"token":5})");
  ASSERT_TRUE(result.ok) << result.error.message;
  EXPECT_EQ(result.message.channels, std::vector<std::string>{"a"});
  // Fields of other ops are not looked at either.
  EXPECT_TRUE(parse(R"({"op":"ping","channels":7,"since":"x","session":false})").ok);
  EXPECT_TRUE(parse(R"({"op":"unsubscribe","channels":["a"],"since":[1]})").ok);
}

TEST(ClientMessage, WhitespaceAroundTheObjectIsFine) {
  EXPECT_TRUE(parse(" \n\t{ \"op\" : \"ping\" }\r\n ").ok);
}

// One rule for clients and publishers: a field the protocol reads, given
// twice, is refused, naming it (JSON readers disagree on which one counts).
TEST(ClientMessage, AFieldGivenTwiceIsRefusedNamingIt) {
  Result result = parse(R"({"op":"subscribe","id":7,"op":"ping","channels":["a"]})");
  ASSERT_FALSE(result.ok);
  EXPECT_EQ(result.error.code, "BAD_REQUEST");
  EXPECT_EQ(result.error.message, "field 'op' appears twice");
  EXPECT_EQ(result.error.id, 7);  // the id is unambiguous: echoed

  result = parse(R"({"op":"ping","id":1,"id":2})");
  ASSERT_FALSE(result.ok);
  EXPECT_EQ(result.error.message, "field 'id' appears twice");
  EXPECT_FALSE(result.error.id.has_value());  // which one would be the client's?

  result = parse(R"({"op":"subscribe","channels":["a"],"channels":["b"]})");
  ASSERT_FALSE(result.ok);
  EXPECT_EQ(result.error.message, "field 'channels' appears twice");

  result = parse(R"({"op":"subscribe","channels":["a"],"since":{"a":1,"a":5}})");
  ASSERT_FALSE(result.ok);
  EXPECT_EQ(result.error.message, "field 'since' names channel 'a' twice");
}

TEST(ClientMessage, AnUnreadFieldGivenTwiceIsIgnoredLikeAnyUnknownField) {
  const Result result = parse(R"({"op":"ping","id":3,"x":1,"x":2})");
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.message.id, 3);
}

TEST(ClientMessage, DuplicateChannelsAreKept) {
  // The hub dedups; the parser reports what was sent.
  const Result result = parse(R"({"op":"subscribe","channels":["a","a","b"]})");
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.message.channels, (std::vector<std::string>{"a", "a", "b"}));
}

TEST(ClientMessage, ChannelNamesAreNotValidatedHere) {
  const Result result = parse(R"({"op":"subscribe","channels":["", "no spaces!"]})");
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.message.channels, (std::vector<std::string>{"", "no spaces!"}));
}

TEST(ClientMessage, EscapesAndUnicodeInStringsAreDecoded) {
  const Result result = parse(
      R"({"op":"subscribe","channels":["a\"b","c\\d","\u00e9t\u00E9","\ud83d\ude00","naïve","x\/y","\n\t"]})",
      16);
  ASSERT_TRUE(result.ok) << result.error.message;
  EXPECT_EQ(result.message.channels,
            (std::vector<std::string>{"a\"b", "c\\d", "\xC3\xA9t\xC3\xA9", "\xF0\x9F\x98\x80",
                                      "na\xC3\xAFve", "x/y", "\n\t"}));
  const Result nul = parse(R"({"op":"subscribe","channels":["a\u0000b"]})");
  ASSERT_TRUE(nul.ok);
  EXPECT_EQ(nul.message.channels[0], std::string("a\0b", 3));
}

TEST(ClientMessage, SinceValues) {
  const Result result = parse(
      R"({"op":"subscribe","channels":["a","b","c"],"since":{"a":0,"b":18446744073709551615,"c":7}})");
  ASSERT_TRUE(result.ok) << result.error.message;
  ASSERT_EQ(result.message.since.size(), 3u);
  EXPECT_EQ(result.message.since[0], (std::pair<std::string, uint64_t>{"a", 0}));
  EXPECT_EQ(result.message.since[1], (std::pair<std::string, uint64_t>{"b", UINT64_MAX}));
  EXPECT_EQ(result.message.since[2], (std::pair<std::string, uint64_t>{"c", 7}));
  // -0 is an integer, zero.
  const Result zero = parse(R"({"op":"subscribe","channels":["a"],"since":{"a":-0}})");
  ASSERT_TRUE(zero.ok);
  EXPECT_EQ(zero.message.since[0].second, 0u);
  // An empty object asks for nothing.
  const Result empty = parse(R"({"op":"subscribe","channels":["a"],"since":{}})");
  ASSERT_TRUE(empty.ok);
  EXPECT_TRUE(empty.message.since.empty());
  // Keys for channels not in the request are kept (the hub ignores them).
  const Result other = parse(R"({"op":"subscribe","channels":["a"],"since":{"z":1}})");
  ASSERT_TRUE(other.ok);
  EXPECT_EQ(other.message.since[0].first, "z");
}

TEST(ClientMessage, MaxChannels) {
  EXPECT_TRUE(parse(R"({"op":"subscribe","channels":["a","b","c","d"]})").ok);
  expectError(R"({"op":"subscribe","id":9,"channels":["a","b","c","d","e"]})", "BAD_REQUEST",
              "at most 4 channels per request", 9);
  expectError(R"({"op":"unsubscribe","channels":["a","b","c","d","e"]})", "BAD_REQUEST",
              "at most 4 channels per request");
  expectError(R"({"op":"subscribe","channels":["a"],"since":{"a":1,"b":1,"c":1,"d":1,"e":1}})",
              "BAD_REQUEST", "at most 4 channels per request");
  // The limit is the caller's.
  const Result one = parse(R"({"op":"subscribe","channels":["a","b"]})", 1);
  EXPECT_FALSE(one.ok);
  EXPECT_EQ(one.error.message, "at most 1 channels per request");
}

TEST(ClientMessage, ReusedParserResetsTheOutput) {
  ClientMessageParser parser;
  ClientMessage message;
  ClientMessageError error;
  ASSERT_TRUE(parser.parse(R"({"op":"subscribe","id":1,"channels":["a","b"],"since":{"a":1}})", 8,
                           message, error));
  ASSERT_TRUE(parser.parse(R"({"op":"ping"})", 8, message, error));
  EXPECT_EQ(message.op, ClientOp::Ping);
  EXPECT_FALSE(message.id.has_value());
  EXPECT_TRUE(message.channels.empty());
  EXPECT_TRUE(message.since.empty());
  ASSERT_FALSE(parser.parse(R"({"op":"nope","id":3})", 8, message, error));
  ASSERT_TRUE(parser.parse(R"({"op":"auth","token":"t"})", 8, message, error));
  EXPECT_TRUE(error.code.empty());
  EXPECT_FALSE(error.id.has_value());
  // A big message, then a small one: the buffers stay usable.
  std::string big = R"({"op":"ping","pad":")" + std::string(100000, 'x') + "\"}";
  EXPECT_TRUE(parser.parse(big, 8, message, error));
  EXPECT_TRUE(parser.parse(R"({"op":"ping"})", 8, message, error));
  // Movable, for a worker that owns one.
  ClientMessageParser moved = std::move(parser);
  EXPECT_TRUE(moved.parse(R"({"op":"ping"})", 8, message, error));
  EXPECT_TRUE(
      parser.parse(R"({"op":"ping"})", 8, message, error));  // NOLINT(bugprone-use-after-move)
}

// ---- Parsing: errors --------------------------------------------------------

TEST(ClientMessage, InvalidJson) {
  for (std::string_view text :
       {"", " ", "{", "{\"op\":\"ping\"", "{\"op\":\"ping\",}", "{op:\"ping\"}",
        "{\"op\":\"ping\"} x", "{\"op\":'ping'}", "{\"op\":\"ping\"}{}", "nul",
        "{\"op\":\"p\x01ng\"}", "{\"op\":\"\xFF\"}", "{\"op\":\"\\x\"}"}) {
    const Result result = parse(text);
    EXPECT_FALSE(result.ok) << text;
    EXPECT_EQ(result.error.code, "BAD_REQUEST") << text;
    EXPECT_EQ(result.error.message, "message is not valid JSON") << text;
    EXPECT_FALSE(result.error.id.has_value());
  }
}

TEST(ClientMessage, NotAnObject) {
  for (std::string_view text : {"[]", "[{\"op\":\"ping\"}]", "\"ping\"", "1", "null", "true"}) {
    expectError(text, "BAD_REQUEST", "must be a JSON object");
  }
}

TEST(ClientMessage, DeeplyNestedJsonIsRefusedWithoutCrashing) {
  for (size_t depth : {100u, 2000u, 100000u}) {
    const std::string arrays = std::string(depth, '[') + std::string(depth, ']');
    EXPECT_FALSE(parse(arrays).ok);
    const std::string nested =
        R"({"op":"ping","x":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
    const Result result = parse(nested);
    if (!result.ok) {
      EXPECT_EQ(result.error.code, "BAD_REQUEST");
    }
    const std::string unbalanced = std::string(depth, '{');
    EXPECT_FALSE(parse(unbalanced).ok);
  }
}

TEST(ClientMessage, MissingOp) {
  expectError(R"({})", "BAD_REQUEST", "field 'op' is required");
  expectError(R"({"id":7,"channels":["a"]})", "BAD_REQUEST", "field 'op' is required", 7);
}

TEST(ClientMessage, OpOfTheWrongType) {
  for (std::string_view text : {R"({"op":1,"id":2})", R"({"op":null,"id":2})",
                                R"({"op":["ping"],"id":2})", R"({"op":{"x":1},"id":2})"}) {
    expectError(text, "BAD_REQUEST", "field 'op' must be a string", 2);
  }
}

TEST(ClientMessage, UnknownOp) {
  expectError(R"({"op":"publish","id":8})", "UNKNOWN_OP", "unknown op 'publish'", 8);
  expectError(R"({"op":"PING"})", "UNKNOWN_OP", "'PING'");
  expectError(R"({"op":""})", "UNKNOWN_OP", "unknown op ''");
}

TEST(ClientMessage, UnknownOpIsTruncatedAndMadeSafe) {
  const std::string longOp(1000, 'x');
  Result result = parse(R"({"op":")" + longOp + "\"}");
  ASSERT_FALSE(result.ok);
  EXPECT_EQ(result.error.code, "UNKNOWN_OP");
  EXPECT_NE(result.error.message.find(cat({"'", std::string(64, 'x'), "...'"})), std::string::npos)
      << result.error.message;
  EXPECT_EQ(result.error.message.find(std::string(65, 'x')), std::string::npos);

  // Not cut inside a multi-byte character: 63 ASCII bytes then a 2-byte é.
  result = parse(R"({"op":")" + std::string(63, 'x') + "\xC3\xA9" + "zzz\"}");
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.message.find(cat({"'", std::string(63, 'x'), "...'"})), std::string::npos)
      << result.error.message;

  // Control characters (decoded from escapes) do not reach the answer.
  result = parse(R"({"op":"a\nb\u0000c\u007f"})");
  ASSERT_FALSE(result.ok);
  EXPECT_NE(result.error.message.find("'a?b?c?'"), std::string::npos) << result.error.message;
  EXPECT_TRUE(isValidJson(errorMessage(std::nullopt, result.error.code, result.error.message)));
}

TEST(ClientMessage, IdMustBeAnInteger) {
  for (std::string_view text :
       {R"({"op":"ping","id":"1"})", R"({"op":"ping","id":1.5})", R"({"op":"ping","id":1.0})",
        R"({"op":"ping","id":1e3})", R"({"op":"ping","id":null})", R"({"op":"ping","id":true})",
        R"({"op":"ping","id":[1]})", R"({"op":"ping","id":9223372036854775808})",
        R"({"op":"ping","id":18446744073709551615})"}) {
    expectError(text, "BAD_REQUEST", "field 'id' must be an integer");
  }
  // The id is checked first: a bad id with an unknown op is about the id.
  expectError(R"({"op":"nope","id":"x"})", "BAD_REQUEST", "field 'id'");
}

TEST(ClientMessage, ChannelsErrors) {
  for (std::string_view op : {"subscribe", "unsubscribe"}) {
    const std::string head = R"({"id":11,"op":")" + std::string(op) + "\"";
    expectError(head + "}", "BAD_REQUEST", "field 'channels' is required", 11);
    for (std::string_view channels : {R"("stock:AAPL")", "[]", "[1]", R"(["a",2])", R"(["a",null])",
                                      R"([["a"]])", "{}", "null"}) {
      expectError(head + R"(,"channels":)" + std::string(channels) + "}", "BAD_REQUEST",
                  "field 'channels' must be a non-empty array of strings", 11);
    }
  }
}

TEST(ClientMessage, SinceErrors) {
  const std::string head = R"({"op":"subscribe","id":12,"channels":["a"],"since":)";
  for (std::string_view since : {"[]", "1", R"("a")", "null", R"([{"a":1}])"}) {
    expectError(head + std::string(since) + "}", "BAD_REQUEST",
                "field 'since' must be an object of channel to non-negative integer", 12);
  }
  for (std::string_view since : {R"({"a":-1})", R"({"a":1.5})", R"({"a":"1"})", R"({"a":null})",
                                 R"({"a":1e2})", R"({"a":{}})", R"({"a":1,"b":true})"}) {
    expectError(head + std::string(since) + "}", "BAD_REQUEST",
                "field 'since' must map each channel to a non-negative integer", 12);
  }
}

TEST(ClientMessage, AuthErrors) {
  expectError(R"({"op":"auth","id":13})", "BAD_REQUEST", "field 'token' is required", 13);
  for (std::string_view token : {R"("")", "1", "null", R"(["t"])"}) {
    expectError(R"({"op":"auth","id":13,"token":)" + std::string(token) + "}", "BAD_REQUEST",
                "field 'token' must be a non-empty string", 13);
  }
}

TEST(ClientMessage, ResumeErrors) {
  expectError(R"({"op":"resume","id":14,"resume":"r"})", "BAD_REQUEST",
              "field 'session' is required", 14);
  expectError(R"({"op":"resume","id":14,"session":"s"})", "BAD_REQUEST",
              "field 'resume' is required", 14);
  expectError(R"({"op":"resume","id":14,"session":1,"resume":"r"})", "BAD_REQUEST",
              "field 'session' must be a string", 14);
  expectError(R"({"op":"resume","id":14,"session":"s","resume":false})", "BAD_REQUEST",
              "field 'resume' must be a string", 14);
}

TEST(ClientMessage, ErrorAnswersEchoTheId) {
  const Result result = parse(R"({"op":"nope","id":42})");
  ASSERT_FALSE(result.ok);
  EXPECT_EQ(errorMessage(result.error.id, result.error.code, result.error.message),
            R"({"type":"error","id":42,"code":"UNKNOWN_OP","message":"unknown op 'nope' )"
            R"x((expected subscribe, unsubscribe, ping, auth or resume)"})x");
}

// ---- Strings the server escapes parse back --------------------------------

TEST(ClientMessage, EscapedStringsRoundTripThroughTheParser) {
  // Every byte value, as a channel name: what is escaped parses back.
  std::string all;
  for (int c = 1; c < 0x80; ++c)
    all += static_cast<char>(c);
  all += "\xC3\xA9\xF0\x9F\x98\x80";
  std::string text = R"({"op":"subscribe","channels":[)";
  appendJsonString(text, all);
  text += "]}";
  const Result result = parse(text);
  ASSERT_TRUE(result.ok) << result.error.message;
  EXPECT_EQ(result.message.channels[0], all);
}

}  // namespace
}  // namespace wsr::hub
