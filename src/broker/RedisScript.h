#pragma once
// The publish script: a run of publications of one channel (one, often),
// atomically. Loaded once per
// connection (SCRIPT LOAD), called by its SHA (EVALSHA), loaded again when
// Redis answers NOSCRIPT (it restarted, or SCRIPT FLUSH).

#include <cstdint>
#include <optional>
#include <span>
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

// One publication of a run (the channel is the run's).
struct RunEntry {
  std::string_view type;
  std::string_view key;
  std::string_view data;
  uint64_t origin = 0;
  std::string_view traceparent;  // empty: none
};

// EVALSHA's arguments after the SHA for a run of publications of
// `channel`, numbered in the order given: numkeys, the keys, then the
// values. `shardedPubsub` (Redis Cluster): the script publishes with
// SPUBLISH. `entries` must not be empty.
std::vector<std::string> publishRunArguments(std::string_view channel,
                                             std::span<const RunEntry> entries, int64_t tsMs,
                                             const config::NamespaceConfig& settings,
                                             uint32_t channelTtlMs, bool shardedPubsub = false);
// The same for a run of one.
std::vector<std::string> publishArguments(std::string_view channel, std::string_view type,
                                          std::string_view key, std::string_view data, int64_t tsMs,
                                          const config::NamespaceConfig& settings,
                                          uint32_t channelTtlMs, bool shardedPubsub = false,
                                          uint64_t origin = 0, std::string_view traceparent = {});

struct PublishAnswer {
  uint64_t seq = 0;  // the run's first; the others follow it
  uint64_t epoch = 0;
  // Subscriptions the run's pub/sub message reached (PUBLISH's answer: in
  // practice instances subscribed to the channel); -1 when not told.
  int64_t receivers = -1;
};
// The script's answer {first seq, epoch, receivers}; null (and `error`
// set) otherwise.
// `noScript` is set when Redis does not know the script.
std::optional<PublishAnswer> parsePublishAnswer(const redisReply* reply, std::string& error,
                                                bool& noScript);

}  // namespace wsr::broker
