#pragma once
// wsrouter's settings. Plain structs whose member initialisers are the
// documented defaults: config.yaml at the repository root says the same thing
// with comments, and a unit test keeps the two equal. No YAML type appears
// here, so every module can include this header without pulling in yaml-cpp.
//
// The schema (key names, types, ranges) lives in Schema.h; loading (YAML file,
// then WSROUTER_* environment overrides) in Loader.cpp.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsr::config {

// The public WebSocket listener (port 8080 in PROTOCOL.md).
struct ServerConfig {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;  // 0: any free port
  uint32_t workers = 0;  // event loops; 0: one per core
  uint32_t backlog = 4096;
  size_t maxMessageBytes = 65536;  // 64 KiB; a bigger client message closes with 1009
  size_t maxHeaderBytes = 16384;   // 16 KiB; a bigger request head answers 431
  uint32_t handshakeTimeoutMs = 5000;
  bool perMessageDeflate = true;
  size_t compressionThresholdBytes = 1024;  // default for namespaces that do not set one
  uint32_t flushIntervalMs = 0;             // 0: write at once; otherwise batch for this long
  bool demoPage = true;  // serve the demo page at / (the client at /client.js is always served)

  bool operator==(const ServerConfig&) const = default;
};

// WebSocket-level liveness; 0 disables a timer.
struct HeartbeatConfig {
  uint32_t intervalMs = 30000;     // a ping this often
  uint32_t pongTimeoutMs = 10000;  // nothing received this long after a ping: dropped
  uint32_t idleTimeoutMs = 30000;  // nothing received this long: closed
  uint32_t closeTimeoutMs = 2000;  // our close frame unanswered this long: dropped

  bool operator==(const HeartbeatConfig&) const = default;
};

// The admin listener: publish API, stats, metrics, probes (port 9090).
struct AdminConfig {
  std::string host = "0.0.0.0";
  uint16_t port = 9090;
  std::string publisherTokenFile;    // empty: the publish API refuses every request
  size_t maxPublishBytes = 1048576;  // 1 MiB; a bigger publish answers 413
  size_t maxBatchMessages = 1000;    // a batch with more answers 413
  // A request's head and body must arrive within this many ms of the
  // connection being ready for it (accepted, or the previous answer written),
  // else 408 and the connection is closed: a client dribbling bytes cannot
  // hold a connection, or the admin server's attention, past it.
  uint32_t requestTimeoutMs = 10000;
  // A publication is refused with 429 OVERLOADED while the busiest worker's
  // inbox holds at least this many (0: never): the publisher backs off
  // instead of the workers shedding what it sends. At most
  // limits.worker_inbox_messages.
  uint32_t publishBacklog = 8192;
  // The same in time: refused while the oldest publication waiting in a
  // worker's inbox has waited this long (0: never). Below
  // limits.worker_inbox_max_delay_ms, so publishers are told before the
  // workers shed by age.
  uint32_t publishBacklogMs = 250;

  bool operator==(const AdminConfig&) const = default;
};

struct HealthConfig {
  uint32_t loopStallMs = 5000;  // /healthz fails when an event loop is stuck this long

  bool operator==(const HealthConfig&) const = default;
};

// SIGTERM: readiness off, serve for drainDelayMs, then close clients with 1001
// spread over closeWindowMs so they do not all reconnect at the same moment.
struct ShutdownConfig {
  uint32_t drainDelayMs = 5000;
  uint32_t closeWindowMs = 10000;

  bool operator==(const ShutdownConfig&) const = default;
};

// Session resume (PROTOCOL.md `resume`): a connection that ends without the
// client's close keeps its session (subject, subscriptions, last seqs) this
// long, in this process with the memory broker and in Redis with the Redis
// one (so that it resumes on any instance). 0 turns resume off.
struct ResumeConfig {
  uint32_t windowMs = 300000;
  // Sessions one process keeps at once (memory broker); past it a lost
  // connection's session is not kept. Redis keeps as many as it has room for.
  uint32_t maxSessions = 100000;

  bool operator==(const ResumeConfig&) const = default;
};

// The built-in simulated market that makes the demo work out of the box.
struct FeedConfig {
  bool enabled = true;
  uint32_t tickIntervalMs = 250;       // each symbol's stock: and orderbook: updates
  uint32_t snapshotIntervalMs = 1000;  // market, foreign and index snapshots
  // Symbol -> sector, in order; sector:<name> channels carry their symbols.
  std::vector<std::pair<std::string, std::string>> symbols = {
      {"AAPL", "tech"},     {"MSFT", "tech"},     {"NVDA", "tech"},    {"GOOG", "tech"},
      {"META", "tech"},     {"ORCL", "tech"},     {"IBM", "tech"},     {"JPM", "finance"},
      {"GS", "finance"},    {"BAC", "finance"},   {"MS", "finance"},   {"V", "finance"},
      {"PYPL", "finance"},  {"XOM", "energy"},    {"CVX", "energy"},   {"COP", "energy"},
      {"SLB", "energy"},    {"FANG", "energy"},   {"JNJ", "health"},   {"PFE", "health"},
      {"MRK", "health"},    {"AMGN", "health"},   {"GILD", "health"},  {"AMZN", "consumer"},
      {"TSLA", "consumer"}, {"COST", "consumer"}, {"PEP", "consumer"}, {"KO", "consumer"},
      {"MCD", "consumer"},  {"NKE", "consumer"},
  };

  bool operator==(const FeedConfig&) const = default;
};

// JSON log lines on stdout: those below `level` are not written.
enum class LogLevel { Debug, Info, Warn, Error };
std::string_view toString(LogLevel level);

struct LogConfig {
  LogLevel level = LogLevel::Info;
  // Lines a second for events a client can cause at will (refusals, bad
  // tokens); past it they are counted, not written.
  uint32_t clientEventsPerSecond = 20;

  bool operator==(const LogConfig&) const = default;
};

// OpenTelemetry traces, exported as OTLP/HTTP JSON. The standard OTEL_*
// environment variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME,
// OTEL_TRACES_SAMPLER...) take precedence over these keys.
struct TracingConfig {
  bool enabled = false;
  std::string endpoint = "http://localhost:4318";  // the collector; /v1/traces is appended
  std::string serviceName = "wsrouter";
  uint32_t queueSize = 2048;         // finished spans waiting for export; beyond it dropped
  uint32_t batchSize = 512;          // spans per export request, at most
  uint32_t exportIntervalMs = 1000;  // a batch is sent at least this often
  uint32_t exportTimeoutMs = 10000;  // one export request, at most

  bool operator==(const TracingConfig&) const = default;
};

// The broker: how publications reach the instances and where seq, history
// and retained values live. `memory`: this process alone (the default).
// `redis`: every instance on the same Redis acts as one router.
enum class BrokerType { Memory, Redis };
std::string_view toString(BrokerType type);

// How the Redis deployment is laid out: `standalone` (one Redis, the first
// address), `sharded` (several independent Redis, each channel on one,
// chosen by a consistent hash of its name: src/broker/ShardChoice.h) or
// `cluster` (Redis Cluster, the addresses are seeds: RedisBroker.h).
enum class RedisMode { Standalone, Sharded, Cluster };
std::string_view toString(RedisMode mode);

struct RedisConfig {
  RedisMode mode = RedisMode::Standalone;
  // host:port; standalone uses the first; sharded every one, in this order
  // (the same on every instance: the order decides where a channel lives).
  std::vector<std::string> addresses = {"127.0.0.1:6379"};
  // Redis 6 ACLs: the user AUTH names (empty: the default user, AUTH with
  // the password alone). The password comes from the file either way.
  std::string username;
  std::string passwordFile;  // empty: no AUTH; otherwise the password, re-read on reconnect
  uint32_t database = 0;     // SELECT
  uint32_t connectTimeoutMs = 2000;
  uint32_t commandTimeoutMs = 2000;  // a publication waits this long for its seq, at most
  // Every connection is probed (PING) this often; one unanswered within
  // commandTimeoutMs counts as lost (a stalled Redis keeps its sockets up).
  uint32_t probeIntervalMs = 1000;
  // After its last local subscriber leaves, a channel stays subscribed in
  // Redis this long (a reconnecting client causes no churn).
  uint32_t unsubscribeLingerMs = 5000;
  // A channel's keys expire after this long without a publication.
  uint32_t channelTtlMs = 86400000;

  bool operator==(const RedisConfig&) const = default;
};

struct BrokerConfig {
  BrokerType type = BrokerType::Memory;
  RedisConfig redis;

  bool operator==(const BrokerConfig&) const = default;
};

enum class AuthMode { None, Token, Jwt };
std::string_view toString(AuthMode mode);

// auth.jwt: how a JWT is verified. Key files hold one or more keys (one HS256
// secret per line, PEM blocks for RS256/ES256) so old and new overlap during
// a rotation; each file is re-read when it changes.
struct JwtConfig {
  std::vector<std::string> algorithms = {"HS256"};  // allow-list; never "none"
  std::string hs256SecretFile;
  std::string rs256PublicKeyFile;
  std::string es256PublicKeyFile;
  uint32_t leewaySeconds = 30;  // clock skew allowed on exp and nbf
  std::string issuer;           // non-empty: `iss` must equal it
  std::string audience;         // non-empty: `aud` must contain it
  bool requireExpiry = true;    // a token without `exp` is refused

  bool operator==(const JwtConfig&) const = default;
};

// Who may connect: checked before the upgrade.
struct AuthConfig {
  AuthMode mode = AuthMode::None;  // stated explicitly in config.yaml
  std::string tokenFile;           // mode token: one token per line
  // A secret file missing or empty at start: false refuses to start; true
  // starts unready (/readyz 503, upgrades 503) until the file appears.
  bool waitForSecrets = false;
  uint32_t secretCheckIntervalMs = 10000;  // re-check of secret files besides inotify
  JwtConfig jwt;

  bool operator==(const AuthConfig&) const = default;
};

// What one client may cost; 0 disables a limit.
struct LimitsConfig {
  uint32_t maxConnections = 15000;            // on this instance; beyond it upgrades answer 503
  uint32_t connectionsPerAddress = 5;         // concurrent; the next answers 429
  uint32_t connectionAttemptsPerMinute = 10;  // per address; beyond it 429
  uint32_t subscriptionsPerConnection = 50;   // beyond it SUBSCRIPTION_LIMIT
  uint32_t messagesPerMinute = 100;           // per connection; RATE_LIMITED, then 4029
  uint32_t maxTrackedAddresses = 1000000;     // bounds the per-address table
  uint32_t maxChannels = 100000;              // channels held at once; beyond it CHANNEL_LIMIT
  // Publications waiting in one worker's inbox at most; past it the oldest
  // of the arriving one's channel is shed (a gap, reason overload).
  uint32_t workerInboxMessages = 65536;
  // ms a publication may wait in a worker's inbox before it is shed (0: no
  // age bound): market data that old is worse than a gap.
  uint32_t workerInboxMaxDelayMs = 500;
  std::vector<std::string> trustedProxies;  // CIDRs whose X-Forwarded-For is believed
  std::vector<std::string> allowedOrigins;  // browser Origins; empty: any

  bool operator==(const LimitsConfig&) const = default;
};

enum class SlowConsumerPolicy { DropOldest, Conflate, Disconnect };
std::string_view toString(SlowConsumerPolicy policy);

// Settings of one namespace (the part of a channel name before ':').
struct NamespaceConfig {
  uint32_t historySize = 100;         // publications kept per channel for replay
  uint32_t historyMaxAgeMs = 300000;  // older ones are not replayed; 0: no age limit
  bool retainLast = false;            // send the last value right after `subscribed`
  SlowConsumerPolicy policy = SlowConsumerPolicy::DropOldest;
  uint32_t queueMaxMessages = 50;           // per client; beyond it the policy applies
  size_t queueMaxBytes = 1048576;           // 1 MiB per client, same
  size_t compressionThresholdBytes = 1024;  // loader default: server.compression_threshold_bytes
  bool dedicatedEndpoint = false;           // whether /ws/<channel> is served
  std::string requireClaim;  // "claim=value" a JWT must carry to subscribe; empty: none

  bool operator==(const NamespaceConfig&) const = default;
};

// The name of the namespace entry used for namespaces that have none.
inline constexpr std::string_view kDefaultNamespace = "default";

// The demo's namespaces plus `default`, as config.yaml lists them.
std::map<std::string, NamespaceConfig, std::less<>> builtinNamespaces();

struct Config {
  ServerConfig server;
  HeartbeatConfig heartbeat;
  AdminConfig admin;
  HealthConfig health;
  ShutdownConfig shutdown;
  FeedConfig feed;
  AuthConfig auth;
  LimitsConfig limits;
  LogConfig log;
  TracingConfig tracing;
  BrokerConfig broker;
  ResumeConfig resume;
  // Always holds kDefaultNamespace after loading.
  std::map<std::string, NamespaceConfig, std::less<>> namespaces = builtinNamespaces();

  // The settings of a channel's namespace (the part before the first ':'),
  // or of `default` when that namespace is not configured.
  const NamespaceConfig& namespaceFor(std::string_view channel) const;

  bool operator==(const Config&) const = default;
};

// PROTOCOL.md: a namespace is 1 to 128 bytes of [A-Za-z0-9_.@-] (no ':').
bool isValidNamespaceName(std::string_view name);

struct ConfigError {
  enum class Kind {
    File,             // the file cannot be read
    Syntax,           // not YAML
    UnknownKey,       // a key the schema does not have
    DuplicateKey,     // the same key twice in one map
    UnknownVariable,  // a WSROUTER_* variable that names no key
    WrongType,        // e.g. text where a number belongs, a list where a map belongs
    OutOfRange,       // a number outside its range
    BadValue,         // not one of the allowed words, or an invalid name
  };

  std::string path;      // key path, e.g. "namespaces.stock.policy"; empty for whole-file errors
  std::string value;     // the value given, as written
  std::string expected;  // what would have been accepted
  std::string where;     // "config.yaml:12:5" or "environment variable WSROUTER_SERVER_PORT"
  std::string detail;    // the parser's or the system's words; a "did you mean"
  Kind kind = Kind::BadValue;
  int line = 0;    // in the file, 1-based; 0 when the error is not at a place in it
  int column = 0;  // same

  // One line for a human: where, which key, what was given, what was expected.
  std::string message() const;
};

// The environment variables the loader sees; main passes the process's own
// (fromProcess), tests a map, so no test touches the real environment.
class Environment {
 public:
  Environment() = default;
  explicit Environment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  static Environment fromProcess();  // the WSROUTER_* variables of environ

  const std::map<std::string, std::string>& vars() const { return vars_; }

 private:
  std::map<std::string, std::string> vars_;
};

// The variable naming the config file; main may read it, the loader ignores it.
inline constexpr std::string_view kConfigFileVariable = "WSROUTER_CONFIG";

// Loads YAML text (a file, or a string in tests), then applies WSROUTER_*
// overrides from env. Returns true and assigns `out` when there is no error;
// otherwise leaves `out` alone and appends every error found to `errors`.
// sourceName is what messages call the text ("config.yaml:3:9: ...").
bool loadConfigFile(const std::string& path, const Environment& env, Config& out,
                    std::vector<ConfigError>& errors);
bool loadConfigString(std::string_view yaml, const Environment& env, Config& out,
                      std::vector<ConfigError>& errors, std::string_view sourceName = "<string>");

// Every key path of the schema, in schema order; a namespace's keys appear
// once, as "namespaces.<name>.policy". For docs and tests.
std::vector<std::string> configKeyPaths();

}  // namespace wsr::config
