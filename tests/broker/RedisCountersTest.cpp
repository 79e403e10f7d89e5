// RedisCounters without a Redis to reach: every addition is answered at
// once with nothing (the local limits decide), before and after the thread
// has found Redis unreachable, and after stop(). The counting itself, with a
// real redis-server, is tests/e2e/router/test_redis_limits.py's.

#include "broker/RedisCounters.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

namespace wsr::broker {
namespace {

TEST(RedisCounters, UnreachableRedisAnswersNothingAtOnce) {
  config::Config config;
  config.broker.type = config::BrokerType::Redis;
  config.broker.redis.addresses = {"127.0.0.1:1"};  // nothing listens on port 1
  config.broker.redis.connectTimeoutMs = 100;
  telemetry::Logger logger(telemetry::LogLevel::Error);
  RedisCounters counters(config, logger);

  auto addNow = [&] {
    int calls = 0;
    std::optional<uint64_t> answer = 1;
    counters.add(hub::SharedLimit::ConnectionAttempts, "192.0.2.1", 1,
                 [&](std::optional<uint64_t> total) {
                   ++calls;
                   answer = total;
                 });
    // Answered on this thread, before add() returned.
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(answer, std::nullopt);
  };
  addNow();  // not started
  counters.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (counters.errors() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(counters.errors(), 0u);  // it tried and failed
  EXPECT_FALSE(counters.connected());
  addNow();
  counters.stop();
  addNow();
}

}  // namespace
}  // namespace wsr::broker
