#include "config/CrossKeyChecks.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace wsr::config {

void checkAcrossKeys(const Config& config, const std::string& source,
                     std::vector<ConfigError>& errors) {
  auto fail = [&](std::string path, std::string value, std::string expected) {
    ConfigError error;
    error.kind = ConfigError::Kind::BadValue;
    error.path = std::move(path);
    error.value = std::move(value);
    error.where = source;
    error.expected = std::move(expected);
    errors.push_back(std::move(error));
  };
  if (config.admin.port != 0 && config.admin.port == config.server.port) {
    fail("admin.port", std::to_string(config.admin.port), "a port other than server.port");
  }
  if (config.admin.publishBacklog > config.limits.workerInboxMessages) {
    // Past the inbox's cap the workers shed before the backlog is ever
    // reached: publishers would never be told to back off.
    fail("admin.publish_backlog", std::to_string(config.admin.publishBacklog),
         "at most limits.worker_inbox_messages (" +
             std::to_string(config.limits.workerInboxMessages) + "), or 0");
  }
  if (config.admin.publishBacklogMs != 0 && config.limits.workerInboxMaxDelayMs != 0 &&
      config.admin.publishBacklogMs >= config.limits.workerInboxMaxDelayMs) {
    // Publications would be shed by age before publishers are told.
    fail("admin.publish_backlog_ms", std::to_string(config.admin.publishBacklogMs),
         "less than limits.worker_inbox_max_delay_ms (" +
             std::to_string(config.limits.workerInboxMaxDelayMs) + "), or 0");
  }
  const RedisConfig& redis = config.broker.redis;
  if (redis.mode == RedisMode::Cluster && redis.database != 0) {
    // Redis Cluster has database 0 only (SELECT is refused).
    fail("broker.redis.database", std::to_string(redis.database),
         "0 (broker.redis.mode is cluster: Redis Cluster has database 0 only)");
  }
  if (config.broker.type == BrokerType::Redis && redis.addresses.empty()) {
    fail("broker.redis.addresses", "[]", "one host:port (broker.type is redis)");
  }
  if (redis.mode == RedisMode::Sharded) {
    // One address would be standalone under another name; a repeated one
    // would be two shards on one Redis, with two owners for its channels'
    // pub/sub messages.
    std::string listed;
    for (const std::string& address : redis.addresses)
      listed += (listed.empty() ? "" : ", ") + address;
    if (redis.addresses.size() < 2) {
      fail("broker.redis.addresses", "[" + listed + "]",
           "at least two host:port (broker.redis.mode is sharded: one Redis per address)");
    }
    for (size_t i = 0; i < redis.addresses.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (redis.addresses[i] == redis.addresses[j]) {
          fail("broker.redis.addresses", redis.addresses[i],
               "each address once (broker.redis.mode is sharded: one Redis per address)");
        }
      }
    }
  }
  const AuthConfig& auth = config.auth;
  if (auth.mode == AuthMode::Token && auth.tokenFile.empty()) {
    fail("auth.token_file", "", "the path of the token file (auth.mode is token)");
  }
  if (auth.mode != AuthMode::Jwt) return;
  if (auth.jwt.algorithms.empty()) {
    fail("auth.jwt.algorithms", "[]", "at least one of HS256, RS256, ES256 (auth.mode is jwt)");
  }
  const std::pair<const char*, const std::string*> keyFiles[] = {
      {"HS256", &auth.jwt.hs256SecretFile},
      {"RS256", &auth.jwt.rs256PublicKeyFile},
      {"ES256", &auth.jwt.es256PublicKeyFile},
  };
  const auto& allowed = auth.jwt.algorithms;
  for (const auto& [algorithm, file] : keyFiles) {
    const bool isAllowed = std::find(allowed.begin(), allowed.end(), algorithm) != allowed.end();
    std::string key = std::string(algorithm) + "_secret_file";
    if (std::string_view(algorithm) != "HS256") key = std::string(algorithm) + "_public_key_file";
    for (char& c : key)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (isAllowed && file->empty()) {
      fail("auth.jwt." + key, "",
           std::string("a key file, since auth.jwt.algorithms allows ") + algorithm);
    } else if (!isAllowed && !file->empty()) {
      fail("auth.jwt." + key, *file,
           std::string("empty, or ") + algorithm + " listed in auth.jwt.algorithms");
    }
  }
}

}  // namespace wsr::config
