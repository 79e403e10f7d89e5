// The keys and the count script of the limits shared by the instances.

#include "broker/RedisCountScript.h"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include "broker/RedisKeys.h"

namespace wsr::broker {
namespace {

TEST(RedisCountScript, AKeyNamesTheKindTheClientAndTheWindow) {
  EXPECT_EQ(limitKey("connection_attempts", "198.51.100.7", 29940030),
            "wsr:limit:{limits}:connection_attempts:198.51.100.7:29940030");
  // An IPv6 address's colons are left as they are: the window is the last field.
  EXPECT_EQ(limitKey("messages", "2001:db8::1", 5), "wsr:limit:{limits}:messages:2001:db8::1:5");
}

TEST(RedisCountScript, TheCommandIsOneEvalOfOneKey) {
  const auto command = countCommand("wsr:limit:messages:a:1", 7, 120000);
  ASSERT_EQ(command.size(), 6u);
  EXPECT_EQ(command[0], "EVAL");
  EXPECT_EQ(command[1], countScript());
  EXPECT_EQ(command[2], "1");
  EXPECT_EQ(command[3], "wsr:limit:messages:a:1");
  EXPECT_EQ(command[4], "7");
  EXPECT_EQ(command[5], "120000");
}

TEST(RedisCountScript, TheScriptSetsTheExpiryWhenItCreatesTheKey) {
  const std::string_view script = countScript();
  EXPECT_LT(script.find("INCRBY"), script.find("PEXPIRE"));
  EXPECT_NE(script.find("total == tonumber(ARGV[1])"), std::string_view::npos);
}

TEST(RedisCountScript, ReadsTheTotal) {
  redisReply reply{};
  reply.type = REDIS_REPLY_INTEGER;
  reply.integer = 42;
  std::string error;
  EXPECT_EQ(parseCountAnswer(&reply, error), 42u);
}

TEST(RedisCountScript, AnErrorOrAnythingElseIsNoTotal) {
  std::string text = "ERR wrong number of arguments";
  redisReply failure{};
  failure.type = REDIS_REPLY_ERROR;
  failure.str = text.data();
  failure.len = text.size();
  std::string error;
  EXPECT_FALSE(parseCountAnswer(&failure, error));
  EXPECT_EQ(error, text);
  redisReply nil{};
  nil.type = REDIS_REPLY_NIL;
  EXPECT_FALSE(parseCountAnswer(&nil, error));
  EXPECT_EQ(error, "unexpected answer from the count script");
  EXPECT_FALSE(parseCountAnswer(nullptr, error));
}

}  // namespace
}  // namespace wsr::broker
