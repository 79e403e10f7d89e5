#include "broker/RedisScript.h"

#include <hiredis/hiredis.h>

#include <charconv>

#include "broker/RedisKeys.h"

namespace wsr::broker {
namespace {

// One run of publications of ONE channel (so the script names the keys of
// one hash tag, one slot, as Redis Cluster requires), numbered in order.
// KEYS: the seq hash, then the stream when history is kept (ARGV[3] > 0),
// then the retained value when kept (ARGV[4] == '1'): only keys that exist
// while the channel lives are declared, since Redis Cluster answers
// TRYAGAIN to a script naming a missing key while its slot migrates.
// ARGV: pub/sub channel, ts, history size, retain (0/1), ttl ms, sharded
// pub/sub (1: SPUBLISH, Redis Cluster; 0: PUBLISH), n; then n times five:
// type, key, data, the publication's origin id, its traceparent (or '-').
// The pub/sub channel is no key: it has the keys' hash tag, so SPUBLISH
// goes to the slot the script runs on.
// One HINCRBY by n numbers the run; each message is XADDed on its own (the
// stream keeps single messages, so history reads do not change); the
// retained value is set once (the last), each key's expiry once, and the
// run is published as ONE pub/sub message (RedisMessage.h's run form; a
// single publication in the single form): one PUBLISH per run instead of
// per publication is most of what a run saves in Redis.
// The epoch is the Redis clock in microseconds when the channel's first
// seq was given: a Redis that lost its data (or a channel that expired)
// starts with another one. A new numbering also drops a stream or value
// left over from the old one (XADD needs increasing ids).
// Answer: {first seq, epoch, receiving subscriptions (PUBLISH's answer)}.
constexpr std::string_view kScript = R"lua(
local history = tonumber(ARGV[3])
local next_key = 2
local stream, last
if history > 0 then
  stream = KEYS[next_key]
  next_key = next_key + 1
end
if ARGV[4] == '1' then
  last = KEYS[next_key]
end
local n = tonumber(ARGV[7])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', n)
local first = seq - n + 1
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if first == 1 or not epoch then
  local t = redis.call('TIME')
  epoch = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[1], 'epoch', epoch)
  if stream then redis.call('DEL', stream) end
  if last then redis.call('DEL', last) end
end
local ttl = tonumber(ARGV[5])
local head = ' ' .. epoch .. ' ' .. ARGV[2] .. ' '
local messages = {}
for i = 0, n - 1 do
  local at = 8 + 5 * i
  local key = ARGV[at + 1]
  local id = string.format('%d', first + i)
  local message = id .. head .. ARGV[at] .. ' ' .. string.format('%d', #key) .. ' ' ..
    ARGV[at + 3] .. ' ' .. ARGV[at + 4] .. '\n' .. key .. ARGV[at + 2]
  if stream then
    redis.call('XADD', stream, 'MAXLEN', '~', history, '0-' .. id, 'm', message)
  end
  messages[i + 1] = message
end
redis.call('PEXPIRE', KEYS[1], ttl)
if stream then redis.call('PEXPIRE', stream, ttl) end
if last then
  redis.call('SET', last, messages[n], 'PX', ttl)
end
local payload = messages[1]
if n > 1 then
  local parts = {'*' .. string.format('%d', n) .. '\n'}
  for i = 1, n do
    parts[#parts + 1] = string.format('%d', #messages[i]) .. '\n'
    parts[#parts + 1] = messages[i]
  end
  payload = table.concat(parts)
end
local receivers
if ARGV[6] == '1' then
  receivers = redis.call('SPUBLISH', ARGV[1], payload)
else
  receivers = redis.call('PUBLISH', ARGV[1], payload)
end
return {first, epoch, receivers}
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

std::vector<std::string> publishRunArguments(std::string_view channel,
                                             std::span<const RunEntry> entries, int64_t tsMs,
                                             const config::NamespaceConfig& settings,
                                             uint32_t channelTtlMs, bool shardedPubsub) {
  std::vector<std::string> args{"1", seqKey(channel)};
  args.reserve(11 + 5 * entries.size());
  if (settings.historySize > 0) args.push_back(streamKey(channel));
  if (settings.retainLast) args.push_back(lastKey(channel));
  args[0] = std::to_string(args.size() - 1);
  args.push_back(pubsubChannel(channel));
  args.push_back(std::to_string(tsMs));
  args.push_back(std::to_string(settings.historySize));
  args.emplace_back(settings.retainLast ? "1" : "0");
  args.push_back(std::to_string(channelTtlMs));
  args.emplace_back(shardedPubsub ? "1" : "0");
  args.push_back(std::to_string(entries.size()));
  for (const RunEntry& entry : entries) {
    args.emplace_back(entry.type);
    args.emplace_back(entry.key);
    args.emplace_back(entry.data);
    args.push_back(std::to_string(entry.origin));
    args.emplace_back(entry.traceparent.empty() ? std::string_view("-") : entry.traceparent);
  }
  return args;
}

std::vector<std::string> publishArguments(std::string_view channel, std::string_view type,
                                          std::string_view key, std::string_view data, int64_t tsMs,
                                          const config::NamespaceConfig& settings,
                                          uint32_t channelTtlMs, bool shardedPubsub,
                                          uint64_t origin, std::string_view traceparent) {
  const RunEntry entry{type, key, data, origin, traceparent};
  return publishRunArguments(channel, {&entry, 1}, tsMs, settings, channelTtlMs, shardedPubsub);
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
  // {first seq, epoch, receivers}; {seq, epoch} from the script before runs.
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 || reply->elements > 3 ||
      reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[0]->integer <= 0 ||
      reply->element[1]->type != REDIS_REPLY_STRING ||
      !toNumber(std::string_view(reply->element[1]->str, reply->element[1]->len), answer.epoch)) {
    error = "unexpected answer from the publish script";
    return std::nullopt;
  }
  answer.seq = static_cast<uint64_t>(reply->element[0]->integer);
  if (reply->elements == 3 && reply->element[2]->type == REDIS_REPLY_INTEGER &&
      reply->element[2]->integer >= 0) {
    answer.receivers = reply->element[2]->integer;
  }
  return answer;
}

}  // namespace wsr::broker
