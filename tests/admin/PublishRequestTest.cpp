#include "admin/PublishRequest.h"

#include <gtest/gtest.h>

#include <string>

namespace wsr::admin {
namespace {

using hub::PublishError;

TEST(AdminPublishRequest, ReadsEveryField) {
  const ParsedPublication parsed = parsePublishBody(
      R"({"channel":"stock:AAPL","type":"price_update","key":"AAPL","data":{"price":231.4}})");
  ASSERT_TRUE(parsed.ok()) << parsed.message;
  EXPECT_EQ(parsed.publication.channel, "stock:AAPL");
  EXPECT_EQ(parsed.publication.type, "price_update");
  EXPECT_EQ(parsed.publication.key, "AAPL");
  EXPECT_EQ(parsed.publication.data, R"({"price":231.4})");
  // The parser checked the name: the sink does not check it again.
  EXPECT_TRUE(parsed.publication.channelChecked);
}

TEST(AdminPublishRequest, TypeDefaultsToMessageAndKeyToNone) {
  const ParsedPublication parsed = parsePublishBody(R"({"data":1,"channel":"market"})");
  ASSERT_TRUE(parsed.ok()) << parsed.message;
  EXPECT_EQ(parsed.publication.type, "message");
  EXPECT_EQ(parsed.publication.key, "");
  EXPECT_EQ(parsed.publication.data, "1");
}

TEST(AdminPublishRequest, DataIsKeptByteForByte) {
  // Whitespace inside the value, number spelling, escapes and key order are
  // the publisher's; only whitespace around the value is not part of it.
  const std::string values[] = {
      R"({"a": 1.50})",
      "{\n  \"b\" : [ 1.0, 2E3, -0.0 ],\n  \"a\" : \"\\u00e9\\n\"\n}",
      R"([1, 2.50e3, {"x" :null}])",
      R"("text with \"quotes\"")",
      "1.50",
      "-0.0e-7",
      "true",
      "null",
      "{}",
      "[]",
  };
  for (const std::string& data : values) {
    for (const char* after : {"", " ", "\n\t ", ",\"type\":\"t\""}) {
      const std::string body = "{\"channel\":\"market\",\"data\": " + data + " " + after + "}";
      const ParsedPublication parsed = parsePublishBody(body);
      ASSERT_TRUE(parsed.ok()) << body << ": " << parsed.message;
      EXPECT_EQ(parsed.publication.data, data) << body;
    }
  }
}

TEST(AdminPublishRequest, EscapedFieldNamesAndUnknownFields) {
  const ParsedPublication parsed =
      parsePublishBody(R"({"ch\u0061nnel":"index","extra":{"deep":[1,2]},"data":[]})");
  ASSERT_TRUE(parsed.ok()) << parsed.message;
  EXPECT_EQ(parsed.publication.channel, "index");
  EXPECT_EQ(parsed.publication.data, "[]");
}

struct Refusal {
  std::string body;
  PublishError error;
  std::string mentions;
};

TEST(AdminPublishRequest, RefusesWithTheFieldNamed) {
  const Refusal refusals[] = {
      {"", PublishError::BadRequest, "not valid JSON"},
      {"not json", PublishError::BadRequest, "not valid JSON"},
      {R"({"channel":"market","data":{"a":tru}})", PublishError::BadRequest, "not valid JSON"},
      {R"({"channel":"market","data":{"a":1})", PublishError::BadRequest, "not valid JSON"},
      {R"({"channel":"market","data":1} {})", PublishError::BadRequest, "not valid JSON"},
      {R"({"channel":"market","data":01})", PublishError::BadRequest, "not valid JSON"},
      {"[1]", PublishError::BadRequest, "JSON object"},
      {R"("market")", PublishError::BadRequest, "JSON object"},
      {R"({"data":{}})", PublishError::BadRequest, "field 'channel' is missing"},
      {R"({"channel":5,"data":{}})", PublishError::BadRequest, "field 'channel' must be a string"},
      {R"({"channel":null,"data":{}})", PublishError::BadRequest, "field 'channel'"},
      {R"({"channel":"bad channel","data":{}})", PublishError::InvalidChannel, "field 'channel'"},
      {R"({"channel":"","data":{}})", PublishError::InvalidChannel, "field 'channel'"},
      {R"({"channel":":x","data":{}})", PublishError::InvalidChannel, "field 'channel'"},
      {R"({"channel":"a\u0000b","data":{}})", PublishError::InvalidChannel, "field 'channel'"},
      {"{\"channel\":\"" + std::string(129, 'a') + "\",\"data\":{}}", PublishError::InvalidChannel,
       "field 'channel'"},
      {R"({"channel":"market"})", PublishError::BadRequest, "field 'data' is missing"},
      {R"({"channel":"market","type":7,"data":{}})", PublishError::BadRequest, "field 'type'"},
      {R"({"channel":"market","type":"","data":{}})", PublishError::BadRequest, "field 'type'"},
      {R"({"channel":"market","type":"a b","data":{}})", PublishError::BadRequest, "field 'type'"},
      {R"({"channel":"market","type":"x\"y","data":{}})", PublishError::BadRequest, "field 'type'"},
      {"{\"channel\":\"market\",\"type\":\"" + std::string(65, 't') + "\",\"data\":{}}",
       PublishError::BadRequest, "field 'type'"},
      {R"({"channel":"market","key":1,"data":{}})", PublishError::BadRequest, "field 'key'"},
      {"{\"channel\":\"market\",\"key\":\"" + std::string(257, 'k') + "\",\"data\":{}}",
       PublishError::BadRequest, "field 'key'"},
      {R"({"channel":"market","channel":"index","data":{}})", PublishError::BadRequest,
       "field 'channel' appears twice"},
      {R"({"channel":"market","data":1,"data":2})", PublishError::BadRequest,
       "field 'data' appears twice"},
  };
  for (const Refusal& refusal : refusals) {
    const ParsedPublication parsed = parsePublishBody(refusal.body);
    EXPECT_EQ(parsed.error, refusal.error) << refusal.body;
    EXPECT_NE(parsed.message.find(refusal.mentions), std::string::npos)
        << refusal.body << " -> " << parsed.message;
  }
}

TEST(AdminPublishRequest, LimitsAreInclusive) {
  const std::string body = "{\"channel\":\"" + std::string(128, 'c') + "\",\"type\":\"" +
                           std::string(64, 't') + "\",\"key\":\"" + std::string(256, 'k') +
                           "\",\"data\":0}";
  const ParsedPublication parsed = parsePublishBody(body);
  ASSERT_TRUE(parsed.ok()) << parsed.message;
  EXPECT_EQ(parsed.publication.type, std::string(64, 't'));
  EXPECT_EQ(parsed.publication.key.size(), 256u);
}

TEST(AdminPublishRequest, MessageTypeRule) {
  EXPECT_TRUE(isValidMessageType("price_update"));
  EXPECT_TRUE(isValidMessageType("a.b-C_9"));
  EXPECT_FALSE(isValidMessageType(""));
  EXPECT_FALSE(isValidMessageType("a:b"));
  EXPECT_FALSE(isValidMessageType("é"));
  EXPECT_TRUE(isValidMessageType(std::string(64, 'a')));
  EXPECT_FALSE(isValidMessageType(std::string(65, 'a')));
}

TEST(AdminPublishBatch, OneEntryPerMessageInOrder) {
  const ParsedBatch batch = parseBatchBody(R"({"messages":[
      {"channel":"stock:AAPL","data":{"p": 1.50}},
      {"data":{}},
      7,
      {"channel":"x","channel":"y","data":1},
      {"channel":"bad name","data":{}},
      {"channel":"index","type":"snap","data":[1, 2]}
    ],"extra":true})");
  ASSERT_TRUE(batch.ok()) << batch.message;
  ASSERT_EQ(batch.messages.size(), 6u);
  EXPECT_TRUE(batch.messages[0].ok());
  EXPECT_EQ(batch.messages[0].publication.data, R"({"p": 1.50})");
  EXPECT_NE(batch.messages[1].message.find("field 'channel' is missing"), std::string::npos);
  EXPECT_NE(batch.messages[2].message.find("JSON object"), std::string::npos);
  EXPECT_NE(batch.messages[3].message.find("appears twice"), std::string::npos);
  EXPECT_EQ(batch.messages[4].error, PublishError::InvalidChannel);
  ASSERT_TRUE(batch.messages[5].ok()) << batch.messages[5].message;
  EXPECT_EQ(batch.messages[5].publication.channel, "index");
  EXPECT_EQ(batch.messages[5].publication.type, "snap");
  EXPECT_EQ(batch.messages[5].publication.data, "[1, 2]");
  EXPECT_TRUE(batch.messages[0].publication.channelChecked);
  EXPECT_TRUE(batch.messages[5].publication.channelChecked);
}

TEST(AdminPublishBatch, WholeRequestErrors) {
  const Refusal refusals[] = {
      {"nope", PublishError::BadRequest, "not valid JSON"},
      {R"({"messages":[{"channel":"a","data":tru}]})", PublishError::BadRequest, "not valid JSON"},
      {"[]", PublishError::BadRequest, "JSON object"},
      {"{}", PublishError::BadRequest, "field 'messages' is missing"},
      {R"({"messages":{}})", PublishError::BadRequest, "field 'messages' must be an array"},
      {R"({"messages":[],"messages":[]})", PublishError::BadRequest, "appears twice"},
  };
  for (const Refusal& refusal : refusals) {
    const ParsedBatch batch = parseBatchBody(refusal.body);
    EXPECT_EQ(batch.error, refusal.error) << refusal.body;
    EXPECT_TRUE(batch.messages.empty());
    EXPECT_NE(batch.message.find(refusal.mentions), std::string::npos)
        << refusal.body << " -> " << batch.message;
  }
}

TEST(AdminPublishBatch, MoreMessagesThanTheCapIsTooLargeNamingTheCap) {
  const std::string three = R"({"messages":[{"channel":"a","data":1},7,{"data":{}}]})";
  const ParsedBatch atCap = parseBatchBody(three, 3);
  ASSERT_TRUE(atCap.ok()) << atCap.message;
  EXPECT_EQ(atCap.messages.size(), 3u);

  const ParsedBatch over = parseBatchBody(three, 2);
  EXPECT_EQ(over.error, PublishError::TooLarge);
  EXPECT_TRUE(over.messages.empty());
  EXPECT_NE(over.message.find("admin.max_batch_messages (2)"), std::string::npos) << over.message;
}

TEST(AdminPublishBatch, EmptyListIsFine) {
  const ParsedBatch batch = parseBatchBody(R"({"messages":[]})");
  EXPECT_TRUE(batch.ok());
  EXPECT_TRUE(batch.messages.empty());
}

}  // namespace
}  // namespace wsr::admin

namespace wsr::admin {
namespace {

// A reused parser answers each body as a fresh one does, whatever came
// before it (a bigger body, an error, a batch).
TEST(PublishParserTest, AReusedParserAnswersLikeAFreshOne) {
  const std::vector<std::string> bodies = {
      R"({"channel":"a","data":{"big":")" + std::string(5000, 'x') + R"("}})",
      R"({"channel":"b","data":1})",
      "not json",
      R"({"channel":"c","type":"t","key":"k","data":[1, 2.50]})",
      R"({"op":"publish","id":3,"channel":"d","data":true})",
      R"({"messages":[{"channel":"e","data":1},{"channel":"bad one","data":2}]})",
      R"({"channel":"f"})",
  };
  PublishParser reused;
  for (int round = 0; round < 2; ++round) {
    for (const std::string& body : bodies) {
      const ParsedPublication fresh = parsePublishBody(body);
      const ParsedPublication again = reused.publication(body);
      EXPECT_EQ(again.error, fresh.error) << body;
      EXPECT_EQ(again.message, fresh.message) << body;
      EXPECT_EQ(again.publication.channel, fresh.publication.channel) << body;
      EXPECT_EQ(again.publication.data, fresh.publication.data) << body;
      const ParsedFrame frame = reused.frame(body);
      EXPECT_EQ(frame.publication.message, parsePublishFrame(body).publication.message) << body;
      EXPECT_EQ(frame.id, parsePublishFrame(body).id) << body;
      const ParsedBatch batch = reused.batch(body);
      const ParsedBatch freshBatch = parseBatchBody(body);
      EXPECT_EQ(batch.message, freshBatch.message) << body;
      ASSERT_EQ(batch.messages.size(), freshBatch.messages.size()) << body;
      for (size_t i = 0; i < batch.messages.size(); ++i)
        EXPECT_EQ(batch.messages[i].publication.data, freshBatch.messages[i].publication.data);
    }
  }
  EXPECT_EQ(reused.publication(bodies[3]).publication.data, "[1, 2.50]");
}

// A body lent with its padding reserved is parsed where it lies, with the
// same result; the loan is for one call, and a body without the padding
// (or another text) is copied as before.
TEST(PublishParserTest, ALentBodyParsesAsACopiedOne) {
  const std::string text =
      R"({"messages":[{"channel":"a","data":{"x": 1.50}},{"channel":"b","data":2}]})";
  std::string padded;
  padded.reserve(text.size() + PublishParser::kBodyPadding);
  padded = text;
  std::string tight = text;
  tight.shrink_to_fit();
  PublishParser parser;
  for (const std::string* body : {&padded, &tight, &padded}) {
    parser.lend(*body);
    const ParsedBatch batch = parser.batch(*body);
    ASSERT_TRUE(batch.ok()) << batch.message;
    ASSERT_EQ(batch.messages.size(), 2u);
    EXPECT_EQ(batch.messages[0].publication.data, "{\"x\": 1.50}");
    EXPECT_EQ(batch.messages[1].publication.channel, "b");
  }
  parser.lend(padded);
  EXPECT_EQ(parser.publication(R"({"channel":"c","data":3})").publication.channel, "c");
  EXPECT_EQ(parser.publication(padded).error, hub::PublishError::BadRequest);
}

}  // namespace
}  // namespace wsr::admin
