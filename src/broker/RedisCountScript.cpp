#include "broker/RedisCountScript.h"

#include <hiredis/hiredis.h>

namespace wsr::broker {
namespace {

// KEYS: the window's count. ARGV: the amount, the TTL in ms.
constexpr std::string_view kScript = R"lua(
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return total
)lua";

}  // namespace

std::string_view countScript() {
  return kScript;
}

std::vector<std::string> countCommand(const std::string& key, uint32_t amount, int64_t ttlMs) {
  return {"EVAL", std::string(kScript), "1", key, std::to_string(amount), std::to_string(ttlMs)};
}

std::optional<uint64_t> parseCountAnswer(const redisReply* reply, std::string& error) {
  if (reply == nullptr) {
    error = "no answer from Redis";
    return std::nullopt;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    error.assign(reply->str, reply->len);
    return std::nullopt;
  }
  if (reply->type != REDIS_REPLY_INTEGER || reply->integer < 0) {
    error = "unexpected answer from the count script";
    return std::nullopt;
  }
  return static_cast<uint64_t>(reply->integer);
}

}  // namespace wsr::broker
