#pragma once
// The configuration schema, written once: which keys each struct has, their
// types and allowed values. Every consumer is a visitor walking the same
// describe() functions: the YAML loader, the environment-variable resolver and
// the key lister. Adding a section is a struct in Config.h, one describe()
// below and one v.section() line in describe(V&, Config&); nothing else.
//
// A visitor provides:
//   field(key, integral&, IntRange)       field(key, bool&)
//   field(key, std::string&, StringRule)  field(key, Enum&, Choices<Enum>)
//   field(key, StringPairs&, PairsRule)   field(key, StringList&, ListRule)
//   section(key, Struct&)
//   namedMap(key, std::map<std::string, T>&, NamedMap<T>)

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "config/Config.h"

namespace wsr::config::schema {

struct IntRange {
  int64_t min;
  int64_t max;
};

struct StringRule {
  bool (*valid)(std::string_view);
  std::string_view expected;
};

template <class E>
struct Choices {
  std::span<const std::pair<std::string_view, E>> options;
};

// An ordered map of strings to strings (YAML map; keys and values checked).
using StringPairs = std::vector<std::pair<std::string, std::string>>;
struct PairsRule {
  StringRule key;
  StringRule value;
  std::string_view expected;  // the whole value, e.g. "a map of symbol: sector"
};

// A list of strings (YAML sequence; each element checked).
using StringList = std::vector<std::string>;
struct ListRule {
  StringRule element;
  std::string_view expected;  // the whole value, e.g. "a list of CIDRs"
};

// A map from names to structs. The `fallback` entry is loaded first, on top of
// `base`; every other entry starts as a copy of it, then its preset (if its name
// has one), then its own keys: an entry inherits every key it does not set.
template <class T>
struct Preset {
  std::string_view name;
  void (*apply)(T&);
};
template <class T>
struct NamedMap {
  std::string_view fallback;
  T base;
  std::span<const Preset<T>> presets;
  StringRule name;
};

inline constexpr int64_t kDayMs = 24LL * 3600 * 1000;
inline constexpr int64_t kGiB = 1LL << 30;

bool isNonEmpty(std::string_view text);
bool isAnything(std::string_view text);
bool isChannelPart(std::string_view text);  // 1 to 32 of [A-Za-z0-9_.@-]

inline constexpr StringRule kHost{isNonEmpty, "a host name or address, e.g. 0.0.0.0"};
inline constexpr StringRule kPath{isAnything, "a file path, or empty"};
inline constexpr StringRule kChannelPart{isChannelPart,
                                         "1 to 32 characters of A-Z a-z 0-9 _ . @ -"};
inline constexpr StringRule kNamespaceName{
    isValidNamespaceName, "a namespace name: 1 to 128 characters of A-Z a-z 0-9 _ . @ - (no ':')"};

bool isClaimRequirement(std::string_view text);  // empty, or name=value
bool isJwtAlgorithm(std::string_view text);      // HS256, RS256, ES256

inline constexpr StringRule kClaimRequirement{isClaimRequirement,
                                              "empty, or claim=value (e.g. tier=premium)"};
inline constexpr StringRule kNonEmpty{isNonEmpty, "a non-empty string"};
inline constexpr ListRule kJwtAlgorithms{{isJwtAlgorithm, "HS256, RS256 or ES256"},
                                         "a list of HS256, RS256, ES256"};
inline constexpr ListRule kCidrList{kNonEmpty, "a list of addresses or CIDRs, e.g. [10.0.0.0/8]"};
inline constexpr ListRule kOriginList{kNonEmpty,
                                      "a list of origins, e.g. [https://app.example.com]"};

bool isRedisUser(std::string_view text);  // empty, or an ACL user name: no blank or control byte
inline constexpr StringRule kRedisUser{isRedisUser,
                                       "an ACL user name (no spaces or control characters), or "
                                       "empty"};

bool isHttpUrl(std::string_view text);  // http(s)://host[:port][/path]
inline constexpr StringRule kHttpUrl{isHttpUrl,
                                     "an http:// or https:// URL, e.g. http://localhost:4318"};

inline constexpr std::pair<std::string_view, LogLevel> kLogLevelNames[] = {
    {"debug", LogLevel::Debug},
    {"info", LogLevel::Info},
    {"warn", LogLevel::Warn},
    {"error", LogLevel::Error},
};

inline constexpr std::pair<std::string_view, AuthMode> kAuthModeNames[] = {
    {"none", AuthMode::None},
    {"token", AuthMode::Token},
    {"jwt", AuthMode::Jwt},
};

inline constexpr std::pair<std::string_view, BrokerType> kBrokerTypeNames[] = {
    {"memory", BrokerType::Memory},
    {"redis", BrokerType::Redis},
};

inline constexpr std::pair<std::string_view, RedisMode> kRedisModeNames[] = {
    {"standalone", RedisMode::Standalone},
    {"sharded", RedisMode::Sharded},
    {"cluster", RedisMode::Cluster},
};

bool isHostPort(std::string_view text);  // host:port, port 1 to 65535
inline constexpr ListRule kHostPortList{{isHostPort, "host:port, e.g. 127.0.0.1:6379"},
                                        "a list of host:port, e.g. [127.0.0.1:6379]"};

inline constexpr std::pair<std::string_view, SlowConsumerPolicy> kPolicyNames[] = {
    {"drop_oldest", SlowConsumerPolicy::DropOldest},
    {"conflate", SlowConsumerPolicy::Conflate},
    {"disconnect", SlowConsumerPolicy::Disconnect},
};

// The demo's namespaces: what each changes from `default`.
inline void snapshotChannel(NamespaceConfig& n) {
  n.retainLast = true;
  n.dedicatedEndpoint = true;
}
inline void latestValueWins(NamespaceConfig& n) {
  n.policy = SlowConsumerPolicy::Conflate;
  n.retainLast = true;
}
inline void asDefault(NamespaceConfig&) {}
inline constexpr Preset<NamespaceConfig> kNamespacePresets[] = {
    {"market", snapshotChannel}, {"foreign", snapshotChannel}, {"index", snapshotChannel},
    {"stock", asDefault},        {"sector", asDefault},        {"orderbook", latestValueWins},
    {"user", asDefault},
};

template <class V>
void describe(V& v, ServerConfig& c) {
  v.field("host", c.host, kHost);
  v.field("port", c.port, IntRange{0, 65535});
  v.field("workers", c.workers, IntRange{0, 1024});
  v.field("backlog", c.backlog, IntRange{1, 65535});
  v.field("max_message_bytes", c.maxMessageBytes, IntRange{125, kGiB});
  v.field("max_header_bytes", c.maxHeaderBytes, IntRange{1024, 1 << 20});
  v.field("handshake_timeout_ms", c.handshakeTimeoutMs, IntRange{100, 600000});
  v.field("permessage_deflate", c.perMessageDeflate);
  v.field("compression_threshold_bytes", c.compressionThresholdBytes, IntRange{0, kGiB});
  v.field("flush_interval_ms", c.flushIntervalMs, IntRange{0, 1000});
  v.field("demo_page", c.demoPage);
}

template <class V>
void describe(V& v, HeartbeatConfig& c) {
  v.field("interval_ms", c.intervalMs, IntRange{0, kDayMs});
  v.field("pong_timeout_ms", c.pongTimeoutMs, IntRange{0, kDayMs});
  v.field("idle_timeout_ms", c.idleTimeoutMs, IntRange{0, kDayMs});
  v.field("close_timeout_ms", c.closeTimeoutMs, IntRange{100, 600000});
}

template <class V>
void describe(V& v, AdminConfig& c) {
  v.field("host", c.host, kHost);
  v.field("port", c.port, IntRange{0, 65535});
  v.field("publisher_token_file", c.publisherTokenFile, kPath);
  v.field("max_publish_bytes", c.maxPublishBytes, IntRange{1024, kGiB});
  v.field("max_batch_messages", c.maxBatchMessages, IntRange{1, 1000000});
  v.field("request_timeout_ms", c.requestTimeoutMs, IntRange{100, 600000});
  v.field("publish_backlog", c.publishBacklog, IntRange{0, 10000000});
  v.field("publish_backlog_ms", c.publishBacklogMs, IntRange{0, 600000});
}

template <class V>
void describe(V& v, HealthConfig& c) {
  v.field("loop_stall_ms", c.loopStallMs, IntRange{100, 600000});
}

template <class V>
void describe(V& v, ShutdownConfig& c) {
  v.field("drain_delay_ms", c.drainDelayMs, IntRange{0, 600000});
  v.field("close_window_ms", c.closeWindowMs, IntRange{0, 600000});
}

template <class V>
void describe(V& v, ResumeConfig& c) {
  v.field("window_ms", c.windowMs, IntRange{0, 86400000});
  v.field("max_sessions", c.maxSessions, IntRange{1, 10000000});
}

template <class V>
void describe(V& v, FeedConfig& c) {
  v.field("enabled", c.enabled);
  v.field("tick_interval_ms", c.tickIntervalMs, IntRange{10, 600000});
  v.field("snapshot_interval_ms", c.snapshotIntervalMs, IntRange{10, 600000});
  v.field("symbols", c.symbols, PairsRule{kChannelPart, kChannelPart, "a map of symbol: sector"});
}

template <class V>
void describe(V& v, JwtConfig& c) {
  v.field("algorithms", c.algorithms, kJwtAlgorithms);
  v.field("hs256_secret_file", c.hs256SecretFile, kPath);
  v.field("rs256_public_key_file", c.rs256PublicKeyFile, kPath);
  v.field("es256_public_key_file", c.es256PublicKeyFile, kPath);
  v.field("leeway_s", c.leewaySeconds, IntRange{0, 3600});
  v.field("issuer", c.issuer, kPath);
  v.field("audience", c.audience, kPath);
  v.field("require_exp", c.requireExpiry);
}

template <class V>
void describe(V& v, AuthConfig& c) {
  v.field("mode", c.mode, Choices<AuthMode>{kAuthModeNames});
  v.field("token_file", c.tokenFile, kPath);
  v.field("wait_for_secrets", c.waitForSecrets);
  v.field("secret_check_interval_ms", c.secretCheckIntervalMs, IntRange{100, 3600000});
  v.section("jwt", c.jwt);
}

template <class V>
void describe(V& v, LimitsConfig& c) {
  v.field("max_connections", c.maxConnections, IntRange{0, 10000000});
  v.field("connections_per_address", c.connectionsPerAddress, IntRange{0, 1000000});
  v.field("connection_attempts_per_minute", c.connectionAttemptsPerMinute, IntRange{0, 1000000});
  v.field("subscriptions_per_connection", c.subscriptionsPerConnection, IntRange{0, 1000000});
  v.field("messages_per_minute", c.messagesPerMinute, IntRange{0, 100000000});
  v.field("max_tracked_addresses", c.maxTrackedAddresses, IntRange{1000, 100000000});
  v.field("max_channels", c.maxChannels, IntRange{1, 100000000});
  v.field("worker_inbox_messages", c.workerInboxMessages, IntRange{16, 10000000});
  v.field("worker_inbox_max_delay_ms", c.workerInboxMaxDelayMs, IntRange{0, 600000});
  v.field("trusted_proxies", c.trustedProxies, kCidrList);
  v.field("allowed_origins", c.allowedOrigins, kOriginList);
}

template <class V>
void describe(V& v, LogConfig& c) {
  v.field("level", c.level, Choices<LogLevel>{kLogLevelNames});
  v.field("client_events_per_second", c.clientEventsPerSecond, IntRange{1, 1000000});
}

template <class V>
void describe(V& v, TracingConfig& c) {
  v.field("enabled", c.enabled);
  v.field("endpoint", c.endpoint, kHttpUrl);
  v.field("service_name", c.serviceName, kNonEmpty);
  v.field("queue_size", c.queueSize, IntRange{1, 1000000});
  v.field("batch_size", c.batchSize, IntRange{1, 100000});
  v.field("export_interval_ms", c.exportIntervalMs, IntRange{10, 600000});
  v.field("export_timeout_ms", c.exportTimeoutMs, IntRange{100, 600000});
}

template <class V>
void describe(V& v, RedisConfig& c) {
  v.field("mode", c.mode, Choices<RedisMode>{kRedisModeNames});
  v.field("addresses", c.addresses, kHostPortList);
  v.field("username", c.username, kRedisUser);
  v.field("password_file", c.passwordFile, kPath);
  v.field("database", c.database, IntRange{0, 1000000});
  v.field("connect_timeout_ms", c.connectTimeoutMs, IntRange{10, 600000});
  v.field("command_timeout_ms", c.commandTimeoutMs, IntRange{10, 600000});
  v.field("probe_interval_ms", c.probeIntervalMs, IntRange{10, 600000});
  v.field("unsubscribe_linger_ms", c.unsubscribeLingerMs, IntRange{0, 3600000});
  v.field("channel_ttl_ms", c.channelTtlMs, IntRange{1000, 30 * kDayMs});
}

template <class V>
void describe(V& v, BrokerConfig& c) {
  v.field("type", c.type, Choices<BrokerType>{kBrokerTypeNames});
  v.section("redis", c.redis);
}

template <class V>
void describe(V& v, NamespaceConfig& c) {
  v.field("history_size", c.historySize, IntRange{0, 1000000});
  v.field("history_max_age_ms", c.historyMaxAgeMs, IntRange{0, kDayMs});
  v.field("retain_last", c.retainLast);
  v.field("policy", c.policy, Choices<SlowConsumerPolicy>{kPolicyNames});
  v.field("queue_max_messages", c.queueMaxMessages, IntRange{1, 1000000});
  v.field("queue_max_bytes", c.queueMaxBytes, IntRange{1024, kGiB});
  v.field("compression_threshold_bytes", c.compressionThresholdBytes, IntRange{0, kGiB});
  v.field("dedicated_endpoint", c.dedicatedEndpoint);
  v.field("require_claim", c.requireClaim, kClaimRequirement);
}

template <class V>
void describe(V& v, Config& c) {
  v.section("server", c.server);
  v.section("heartbeat", c.heartbeat);
  v.section("admin", c.admin);
  v.section("health", c.health);
  v.section("shutdown", c.shutdown);
  v.section("feed", c.feed);
  v.section("auth", c.auth);
  v.section("limits", c.limits);
  v.section("log", c.log);
  v.section("tracing", c.tracing);
  v.section("broker", c.broker);
  v.section("resume", c.resume);
  // Visited after server, so namespaces inherit its compression threshold.
  NamespaceConfig base;
  base.compressionThresholdBytes = c.server.compressionThresholdBytes;
  v.namedMap("namespaces", c.namespaces,
             NamedMap<NamespaceConfig>{kDefaultNamespace, base, kNamespacePresets, kNamespaceName});
}

}  // namespace wsr::config::schema
