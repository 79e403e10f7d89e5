#include "broker/RedisScript.h"

#include <hiredis/hiredis.h>

#include <charconv>

#include "broker/RedisKeys.h"

namespace wsr::broker {
namespace {

// KEYS: the seq hash, then the stream when history is kept (ARGV[6] > 0),
// then the retained value when kept (ARGV[7] == '1'): only keys that exist
// while the channel lives are declared, since Redis Cluster answers
// TRYAGAIN to a script naming a missing key while its slot migrates.
// ARGV: pub/sub channel, ts, type, key, data, history size, retain (0/1),
// ttl ms, sharded pub/sub (1: SPUBLISH, Redis Cluster; 0: PUBLISH), the
// publication's origin id, its traceparent (or '-'). The
// pub/sub channel is no key: it has the keys' hash tag, so SPUBLISH goes
// to the slot the script runs on.
// The epoch is the Redis clock in microseconds when the channel's first
// seq was given: a Redis that lost its data (or a channel that expired)
// starts with another one. A new numbering also drops a stream or value
// left over from the old one (XADD needs increasing ids).
constexpr std::string_view kScript = R"lua(
local history = tonumber(ARGV[6])
local next_key = 2
local stream, last
if history > 0 then
  stream = KEYS[next_key]
  next_key = next_key + 1
end
if ARGV[7] == '1' then
  last = KEYS[next_key]
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if seq == 1 or not epoch then
  local t = redis.call('TIME')
  epoch = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[1], 'epoch', epoch)
  if stream then redis.call('DEL', stream) end
  if last then redis.call('DEL', last) end
end
local ttl = tonumber(ARGV[8])
local message = string.format('%d', seq) .. ' ' .. epoch .. ' ' .. ARGV[2] .. ' ' .. ARGV[3] ..
  ' ' .. string.format('%d', #ARGV[4]) .. ' ' .. ARGV[10] .. ' ' .. ARGV[11] .. '\n' ..
  ARGV[4] .. ARGV[5]
redis.call('PEXPIRE', KEYS[1], ttl)
if stream then
  redis.call('XADD', stream, 'MAXLEN', '~', history, '0-' .. string.format('%d', seq), 'm', message)
  redis.call('PEXPIRE', stream, ttl)
end
if last then
  redis.call('SET', last, message, 'PX', ttl)
end
if ARGV[9] == '1' then
  redis.call('SPUBLISH', ARGV[1], message)
else
  redis.call('PUBLISH', ARGV[1], message)
end
return {seq, epoch}
)lua";

bool toNumber(std::string_view text, uint64_t& out) {
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), out);
  return status == std::errc() && end == text.data() + text.size();
}

}  // namespace

constexpr std::string_view kRestartNumbering = R"lua(
if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'seq', 0)
  return 1
end
return 0
)lua";

std::string_view publishScript() {
  return kScript;
}

std::string_view restartNumberingScript() {
  return kRestartNumbering;
}

std::vector<std::string> publishArguments(std::string_view channel, std::string_view type,
                                          std::string_view key, std::string_view data, int64_t tsMs,
                                          const config::NamespaceConfig& settings,
                                          uint32_t channelTtlMs, bool shardedPubsub,
                                          uint64_t origin, std::string_view traceparent) {
  std::vector<std::string> args{"1", seqKey(channel)};
  if (settings.historySize > 0) args.push_back(streamKey(channel));
  if (settings.retainLast) args.push_back(lastKey(channel));
  args[0] = std::to_string(args.size() - 1);
  for (std::string value :
       {pubsubChannel(channel), std::to_string(tsMs), std::string(type), std::string(key),
        std::string(data), std::to_string(settings.historySize),
        std::string(settings.retainLast ? "1" : "0"), std::to_string(channelTtlMs),
        std::string(shardedPubsub ? "1" : "0"), std::to_string(origin),
        traceparent.empty() ? std::string("-") : std::string(traceparent)}) {
    args.push_back(std::move(value));
  }
  return args;
}

std::optional<PublishAnswer> parsePublishAnswer(const redisReply* reply, std::string& error,
                                                bool& noScript) {
  noScript = false;
  if (reply == nullptr) {
    error = "no answer from Redis";
    return std::nullopt;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    error.assign(reply->str, reply->len);
    noScript = error.starts_with("NOSCRIPT");
    return std::nullopt;
  }
  PublishAnswer answer;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[0]->integer <= 0 ||
      reply->element[1]->type != REDIS_REPLY_STRING ||
      !toNumber(std::string_view(reply->element[1]->str, reply->element[1]->len), answer.epoch)) {
    error = "unexpected answer from the publish script";
    return std::nullopt;
  }
  answer.seq = static_cast<uint64_t>(reply->element[0]->integer);
  return answer;
}

}  // namespace wsr::broker
