// The publish script's arguments and the reading of its answer.

#include "broker/RedisScript.h"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <cstring>

namespace wsr::broker {
namespace {

TEST(RedisScript, ArgumentsNameTheChannelsKeysAndTheNamespacesSettings) {
  config::NamespaceConfig settings;
  settings.historySize = 25;
  settings.retainLast = true;
  const auto args = publishArguments("market", "snapshot", "k", "{}", 1234, settings, 60000, false,
                                     77, "00-aa-bb-01");
  EXPECT_EQ(args, (std::vector<std::string>{"3", "wsr:{market}:seq", "wsr:{market}:stream",
                                            "wsr:{market}:last", "wsr:{market}:msg", "1234", "25",
                                            "1", "60000", "0", "1", "snapshot", "k", "{}", "77",
                                            "00-aa-bb-01"}));
  // Only the keys the channel has are declared (Redis Cluster answers
  // TRYAGAIN to a missing one while the slot migrates).
  settings.retainLast = false;
  settings.historySize = 0;
  const auto none = publishArguments("x", "message", "", "1", 5, settings, 1000, true);
  EXPECT_EQ(none, (std::vector<std::string>{"1", "wsr:{x}:seq", "wsr:{x}:msg", "5", "0", "0",
                                            "1000", "1", "1", "message", "", "1", "0", "-"}));
  settings.retainLast = true;
  const auto retained = publishArguments("x", "message", "", "1", 5, settings, 1000);
  EXPECT_EQ(std::vector<std::string>(retained.begin(), retained.begin() + 3),
            (std::vector<std::string>{"2", "wsr:{x}:seq", "wsr:{x}:last"}));
}

TEST(RedisScript, ARunCarriesEachPublicationInOrderUnderOneChannel) {
  config::NamespaceConfig settings;
  settings.historySize = 10;
  const RunEntry entries[] = {{"quote", "a", "1", 10, "00-aa-bb-01"},
                              {"trade", "", "[2]", 11, ""},
                              {"quote", "a b", "{\"x\":3}", 12, "00-cc-dd-00"}};
  const auto args = publishRunArguments("m:1", entries, 99, settings, 500, false);
  EXPECT_EQ(args, (std::vector<std::string>{
                      "2",
                      "wsr:{m:1}:seq",
                      "wsr:{m:1}:stream",
                      "wsr:{m:1}:msg",
                      "99",
                      "10",
                      "0",
                      "500",
                      "0",
                      "3",  // n
                      "quote",
                      "a",
                      "1",
                      "10",
                      "00-aa-bb-01",  // first
                      "trade",
                      "",
                      "[2]",
                      "11",
                      "-",  // second
                      "quote",
                      "a b",
                      "{\"x\":3}",
                      "12",
                      "00-cc-dd-00"  // third
                  }));
}

TEST(RedisScript, TheScriptIsOneAtomicUnitThatPublishesLast) {
  const std::string_view script = publishScript();
  EXPECT_NE(script.find("HINCRBY"), std::string_view::npos);
  EXPECT_NE(script.find("'MAXLEN', '~'"), std::string_view::npos);
  EXPECT_LT(script.find("XADD"), script.find("PUBLISH"));
  EXPECT_LT(script.find("'SET'"), script.find("PUBLISH"));
  EXPECT_LT(script.find("'SET'"), script.find("SPUBLISH"));
  // A run is numbered by one HINCRBY and published as one message.
  EXPECT_NE(script.find("'HINCRBY', KEYS[1], 'seq', n"), std::string_view::npos);
  EXPECT_EQ(script.find("'PUBLISH'"), script.rfind("'PUBLISH'"));
  EXPECT_EQ(script.find("'SET'"), script.rfind("'SET'"));
}

// Replies built by hand, as hiredis would hand them over.
struct FakeReply {
  redisReply reply{};
  std::vector<redisReply*> children;
  std::string text;
};

redisReply integer(long long value) {
  redisReply r{};
  r.type = REDIS_REPLY_INTEGER;
  r.integer = value;
  return r;
}

redisReply string(std::string& text, int type = REDIS_REPLY_STRING) {
  redisReply r{};
  r.type = type;
  r.str = text.data();
  r.len = text.size();
  return r;
}

TEST(RedisScript, ReadsSeqAndEpoch) {
  std::string epochText = "1764000000123456";
  redisReply seq = integer(42);
  redisReply epoch = string(epochText);
  redisReply* elements[] = {&seq, &epoch};
  redisReply array{};
  array.type = REDIS_REPLY_ARRAY;
  array.elements = 2;
  array.element = elements;
  std::string error;
  bool noScript = true;
  const auto answer = parsePublishAnswer(&array, error, noScript);
  ASSERT_TRUE(answer) << error;
  EXPECT_FALSE(noScript);
  EXPECT_EQ(answer->seq, 42u);
  EXPECT_EQ(answer->epoch, 1764000000123456u);
  EXPECT_EQ(answer->receivers, -1);  // the script before runs did not say
}

TEST(RedisScript, ReadsHowManySubscriptionsTheRunReached) {
  std::string epochText = "1764000000123456";
  for (long long count : {0LL, 3LL}) {
    redisReply seq = integer(7);
    redisReply epoch = string(epochText);
    redisReply receivers = integer(count);
    redisReply* elements[] = {&seq, &epoch, &receivers};
    redisReply array{};
    array.type = REDIS_REPLY_ARRAY;
    array.elements = 3;
    array.element = elements;
    std::string error;
    bool noScript = false;
    const auto answer = parsePublishAnswer(&array, error, noScript);
    ASSERT_TRUE(answer) << error;
    EXPECT_EQ(answer->seq, 7u);
    EXPECT_EQ(answer->receivers, count);
  }
}

TEST(RedisScript, NoScriptIsToldApartFromOtherErrors) {
  std::string noScriptText = "NOSCRIPT No matching script. Please use EVAL.";
  redisReply noScriptReply = string(noScriptText, REDIS_REPLY_ERROR);
  std::string error;
  bool noScript = false;
  EXPECT_FALSE(parsePublishAnswer(&noScriptReply, error, noScript));
  EXPECT_TRUE(noScript);
  std::string oomText = "OOM command not allowed when used memory > 'maxmemory'.";
  redisReply oom = string(oomText, REDIS_REPLY_ERROR);
  EXPECT_FALSE(parsePublishAnswer(&oom, error, noScript));
  EXPECT_FALSE(noScript);
  EXPECT_EQ(error, oomText);
  EXPECT_FALSE(parsePublishAnswer(nullptr, error, noScript));
}

TEST(RedisScript, RefusesAnswersOfAnotherShape) {
  std::string bad = "abc";
  redisReply seq = integer(1);
  redisReply zero = integer(0);
  redisReply epoch = string(bad);
  std::string error;
  bool noScript = false;
  for (auto pair : {std::pair{&seq, &epoch}, std::pair{&zero, &epoch}}) {
    redisReply* elements[] = {pair.first, pair.second};
    redisReply array{};
    array.type = REDIS_REPLY_ARRAY;
    array.elements = 2;
    array.element = elements;
    EXPECT_FALSE(parsePublishAnswer(&array, error, noScript));
  }
  redisReply lone = integer(5);
  EXPECT_FALSE(parsePublishAnswer(&lone, error, noScript));
}

}  // namespace
}  // namespace wsr::broker
