#pragma once
// The count script of the limits shared by the instances: adds to one
// window's count and returns the total, setting the key's expiry when the
// addition created it, in one atomic step (a key never outlives its TTL,
// even if the connection drops between the two). Sent whole with EVAL:
// Redis caches it by its digest, and a Redis that restarted needs no
// reload.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;

namespace wsr::broker {

std::string_view countScript();

// EVAL's arguments: the script, numkeys, the key, the amount, the TTL.
std::vector<std::string> countCommand(const std::string& key, uint32_t amount, int64_t ttlMs);

// The total the script answered; null (and `error` set) otherwise.
std::optional<uint64_t> parseCountAnswer(const redisReply* reply, std::string& error);

}  // namespace wsr::broker
