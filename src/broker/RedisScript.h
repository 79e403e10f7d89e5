#pragma once
// The publish script: one publication, atomically. Loaded once per
// connection (SCRIPT LOAD), called by its SHA (EVALSHA), loaded again when
// Redis answers NOSCRIPT (it restarted, or SCRIPT FLUSH).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.h"

struct redisReply;

namespace wsr::broker {

// The Lua text (RedisScript.cpp says what it does).
std::string_view publishScript();
// KEYS[1] the seq hash, ARGV[1] an epoch: sets the seq to 0 if the epoch is
// still that one, so that the next publication starts a new epoch.
std::string_view restartNumberingScript();

// EVALSHA's arguments after the SHA: numkeys, the keys, then the values.
// `shardedPubsub` (Redis Cluster): the script publishes with SPUBLISH.
std::vector<std::string> publishArguments(std::string_view channel, std::string_view type,
                                          std::string_view key, std::string_view data, int64_t tsMs,
                                          const config::NamespaceConfig& settings,
                                          uint32_t channelTtlMs, bool shardedPubsub = false,
                                          uint64_t origin = 0, std::string_view traceparent = {});

struct PublishAnswer {
  uint64_t seq = 0;
  uint64_t epoch = 0;
};
// The script's answer {seq, epoch}; null (and `error` set) otherwise.
// `noScript` is set when Redis does not know the script.
std::optional<PublishAnswer> parsePublishAnswer(const redisReply* reply, std::string& error,
                                                bool& noScript);

}  // namespace wsr::broker
