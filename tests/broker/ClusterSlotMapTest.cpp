#include "broker/ClusterSlotMap.h"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <string>

namespace wsr::broker {
namespace {

// A reply as hiredis reads it off the wire.
struct Parsed {
  explicit Parsed(const std::string& resp) {
    redisReader* reader = redisReaderCreate();
    redisReaderFeed(reader, resp.data(), resp.size());
    void* out = nullptr;
    if (redisReaderGetReply(reader, &out) == REDIS_OK) reply = static_cast<redisReply*>(out);
    redisReaderFree(reader);
  }
  ~Parsed() {
    if (reply != nullptr) freeReplyObject(reply);
  }
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;
  redisReply* reply = nullptr;
};

std::string range(int start, int end, const std::string& host, int port) {
  const std::string id(40, 'a');
  return "*3\r\n:" + std::to_string(start) + "\r\n:" + std::to_string(end) + "\r\n*3\r\n$" +
         std::to_string(host.size()) + "\r\n" + host + "\r\n:" + std::to_string(port) +
         "\r\n$40\r\n" + id + "\r\n";
}

TEST(ClusterSlotMap, EverySlotHasItsMaster) {
  // Three masters, one of them serving two ranges (a slot moved to it).
  const Parsed parsed(
      "*4\r\n" + range(0, 5460, "127.0.0.1", 7000) + range(5461, 10922, "127.0.0.1", 7001) +
      range(10923, 15307, "10.0.0.3", 7002) + range(15308, 16383, "127.0.0.1", 7000));
  ASSERT_NE(parsed.reply, nullptr);
  std::string error;
  const auto map = ClusterSlotMap::parse(parsed.reply, error);
  ASSERT_NE(map, nullptr) << error;
  EXPECT_EQ(map->masters(),
            (std::vector<std::string>{"127.0.0.1:7000", "127.0.0.1:7001", "10.0.0.3:7002"}));
  EXPECT_EQ(map->owner(0), "127.0.0.1:7000");
  EXPECT_EQ(map->owner(5461), "127.0.0.1:7001");
  EXPECT_EQ(map->owner(15307), "10.0.0.3:7002");
  EXPECT_EQ(map->owner(16383), "127.0.0.1:7000");
  EXPECT_EQ(map->ownerOfChannel("stock:AAPL"), map->owner(channelSlot("stock:AAPL")));
}

TEST(ClusterSlotMap, AnUnservedSlotOrAnErrorIsNoMap) {
  std::string error;
  const Parsed partial("*1\r\n" + range(0, 100, "h", 1));
  EXPECT_EQ(ClusterSlotMap::parse(partial.reply, error), nullptr);
  EXPECT_NE(error.find("slot 101 is not served"), std::string::npos) << error;
  const Parsed refused("-ERR This instance has cluster support disabled\r\n");
  EXPECT_EQ(ClusterSlotMap::parse(refused.reply, error), nullptr);
  EXPECT_NE(error.find("cluster support disabled"), std::string::npos) << error;
}

}  // namespace
}  // namespace wsr::broker
