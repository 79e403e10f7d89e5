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
  EXPECT_EQ(args,
            (std::vector<std::string>{"3", "wsr:{market}:seq", "wsr:{market}:stream",
                                      "wsr:{market}:last", "wsr:{market}:msg", "1234", "snapshot",
                                      "k", "{}", "25", "1", "60000", "0", "77", "00-aa-bb-01"}));
  // Only the keys the channel has are declared (Redis Cluster answers
  // TRYAGAIN to a missing one while the slot migrates).
  settings.retainLast = false;
  settings.historySize = 0;
  const auto none = publishArguments("x", "message", "", "1", 5, settings, 1000, true);
  EXPECT_EQ(none, (std::vector<std::string>{"1", "wsr:{x}:seq", "wsr:{x}:msg", "5", "message", "",
                                            "1", "0", "0", "1000", "1", "0", "-"}));
  settings.retainLast = true;
  const auto retained = publishArguments("x", "message", "", "1", 5, settings, 1000);
  EXPECT_EQ(std::vector<std::string>(retained.begin(), retained.begin() + 3),
            (std::vector<std::string>{"2", "wsr:{x}:seq", "wsr:{x}:last"}));
}

TEST(RedisScript, TheScriptIsOneAtomicUnitThatPublishesLast) {
  const std::string_view script = publishScript();
  EXPECT_NE(script.find("HINCRBY"), std::string_view::npos);
  EXPECT_NE(script.find("'MAXLEN', '~'"), std::string_view::npos);
  EXPECT_LT(script.find("XADD"), script.find("PUBLISH"));
  EXPECT_LT(script.find("'SET'"), script.find("PUBLISH"));
  EXPECT_LT(script.find("'SET'"), script.find("SPUBLISH"));
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
