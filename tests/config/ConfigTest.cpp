#include "config/Config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/CheckConfig.h"

namespace wsr::config {
namespace {

using Kind = ConfigError::Kind;

const std::string kSourceDir = WSROUTER_SOURCE_DIR;

struct Loaded {
  bool ok = false;
  Config config;
  std::vector<ConfigError> errors;

  // Every message, one a line, for failure output.
  std::string messages() const {
    std::string out;
    for (const auto& error : errors)
      out += error.message() + "\n";
    return out;
  }
  const ConfigError* errorAt(std::string_view path) const {
    for (const auto& error : errors) {
      if (error.path == path) return &error;
    }
    return nullptr;
  }
};

Loaded load(std::string_view yaml, std::map<std::string, std::string> env = {}) {
  Loaded loaded;
  loaded.ok = loadConfigString(yaml, Environment(std::move(env)), loaded.config, loaded.errors,
                               "test.yaml");
  return loaded;
}

std::string readFile(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// --- defaults and the shipped file ------------------------------------------

TEST(ConfigDefaults, MatchTheNumbersOfTheDesign) {
  const Config config;
  EXPECT_EQ(config.server.port, 8080);
  EXPECT_EQ(config.server.workers, 0u);
  EXPECT_EQ(config.admin.port, 9090);
  EXPECT_EQ(config.heartbeat.intervalMs, 30000u);
  EXPECT_EQ(config.heartbeat.pongTimeoutMs, 10000u);
  EXPECT_EQ(config.heartbeat.idleTimeoutMs, 30000u);
  EXPECT_TRUE(config.feed.enabled);
  EXPECT_EQ(config.limits.workerInboxMessages, 65536u);
  EXPECT_EQ(config.limits.workerInboxMaxDelayMs, 500u);
  EXPECT_EQ(config.admin.publishBacklogMs, 250u);
  EXPECT_EQ(config.admin.publishBacklog, 8192u);
  const NamespaceConfig& fallback = config.namespaces.at("default");
  EXPECT_EQ(fallback.queueMaxMessages, 50u);
  EXPECT_EQ(fallback.policy, SlowConsumerPolicy::DropOldest);
  EXPECT_EQ(config.namespaces.at("orderbook").policy, SlowConsumerPolicy::Conflate);
  for (const char* name : {"market", "foreign", "index"}) {
    EXPECT_TRUE(config.namespaces.at(name).dedicatedEndpoint) << name;
    EXPECT_TRUE(config.namespaces.at(name).retainLast) << name;
  }
  for (const char* name : {"stock", "sector", "user"}) {
    EXPECT_EQ(config.namespaces.at(name), fallback) << name;
  }
}

TEST(ConfigDefaults, AnEmptyFileGivesTheDefaults) {
  for (const char* text : {"", "# only a comment\n", "---\n"}) {
    const Loaded loaded = load(text);
    ASSERT_TRUE(loaded.ok) << text << "\n" << loaded.messages();
    EXPECT_EQ(loaded.config, Config{});
  }
}

TEST(ConfigDefaults, EmptySectionsKeepTheirDefaults) {
  const Loaded loaded = load("server:\nnamespaces:\n  stock:\n");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config, Config{});
}

TEST(ConfigFile, TheShippedConfigYamlLoadsAndEqualsTheDefaults) {
  Config config;
  config.server.port = 1;  // proves the load assigned it
  std::vector<ConfigError> errors;
  const bool ok = loadConfigFile(kSourceDir + "/config.yaml", Environment(), config, errors);
  std::string messages;
  for (const auto& error : errors)
    messages += error.message() + "\n";
  ASSERT_TRUE(ok) << messages;
  EXPECT_TRUE(errors.empty());
  // config.yaml is the documented default: it must not drift from the code.
  EXPECT_EQ(config, Config{});
}

TEST(ConfigFile, EveryKeyIsInConfigYamlAndInTheDocs) {
  const std::string yaml = readFile(kSourceDir + "/config.yaml");
  const std::string docs = readFile(kSourceDir + "/docs/configuration.md");
  ASSERT_FALSE(yaml.empty());
  ASSERT_FALSE(docs.empty());
  const std::vector<std::string> paths = configKeyPaths();
  EXPECT_GT(paths.size(), 25u);
  for (const auto& path : paths) {
    const std::string leaf = path.substr(path.rfind('.') + 1);
    EXPECT_NE(yaml.find("  " + leaf + ":"), std::string::npos) << path << " not in config.yaml";
    EXPECT_NE(docs.find("`" + path + "`"), std::string::npos) << path << " not in the docs";
  }
}

TEST(ConfigFile, AMissingFileNamesTheFile) {
  Config config;
  std::vector<ConfigError> errors;
  EXPECT_FALSE(loadConfigFile("/nonexistent/wsrouter.yaml", Environment(), config, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].kind, Kind::File);
  EXPECT_NE(errors[0].message().find("/nonexistent/wsrouter.yaml"), std::string::npos);
  EXPECT_NE(errors[0].message().find("No such file"), std::string::npos);
}

TEST(ConfigFile, ADirectoryIsNotAConfigFile) {
  Config config;
  std::vector<ConfigError> errors;
  EXPECT_FALSE(loadConfigFile(kSourceDir, Environment(), config, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].kind, Kind::File);
}

// --- values -----------------------------------------------------------------

TEST(ConfigValues, AreReadFromEverySection) {
  const Loaded loaded = load(R"(
server: {host: 127.0.0.1, port: 0, workers: 4, permessage_deflate: false, flush_interval_ms: 20}
heartbeat: {interval_ms: 0}
admin: {port: 9191, publisher_token_file: /run/secrets/tokens}
health: {loop_stall_ms: 1000}
shutdown: {drain_delay_ms: 0, close_window_ms: 30000}
feed:
  enabled: false
  symbols: {IBM: tech}
namespaces:
  stock: {policy: disconnect, queue_max_messages: 10, history_size: 0}
)");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  const Config& c = loaded.config;
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 0);
  EXPECT_EQ(c.server.workers, 4u);
  EXPECT_FALSE(c.server.perMessageDeflate);
  EXPECT_EQ(c.server.flushIntervalMs, 20u);
  EXPECT_EQ(c.heartbeat.intervalMs, 0u);
  EXPECT_EQ(c.heartbeat.pongTimeoutMs, 10000u);  // untouched keys keep defaults
  EXPECT_EQ(c.admin.port, 9191);
  EXPECT_EQ(c.admin.publisherTokenFile, "/run/secrets/tokens");
  EXPECT_EQ(c.health.loopStallMs, 1000u);
  EXPECT_EQ(c.shutdown.drainDelayMs, 0u);
  EXPECT_EQ(c.shutdown.closeWindowMs, 30000u);
  EXPECT_FALSE(c.feed.enabled);
  ASSERT_EQ(c.feed.symbols.size(), 1u);
  EXPECT_EQ(c.feed.symbols[0], (std::pair<std::string, std::string>{"IBM", "tech"}));
  const NamespaceConfig& stock = c.namespaces.at("stock");
  EXPECT_EQ(stock.policy, SlowConsumerPolicy::Disconnect);
  EXPECT_EQ(stock.queueMaxMessages, 10u);
  EXPECT_EQ(stock.historySize, 0u);
}

// The demo page is on as shipped (make run shows it) and off with one key or
// its environment variable, for production.
TEST(ConfigValues, DemoPageIsOnByDefaultAndTurnsOff) {
  EXPECT_TRUE(load("").config.server.demoPage);
  const Loaded off = load("server: {demo_page: false}\n");
  ASSERT_TRUE(off.ok) << off.messages();
  EXPECT_FALSE(off.config.server.demoPage);
  const Loaded fromEnv = load("", {{"WSROUTER_SERVER_DEMO_PAGE", "false"}});
  ASSERT_TRUE(fromEnv.ok) << fromEnv.messages();
  EXPECT_FALSE(fromEnv.config.server.demoPage);
  const Loaded bad = load("server: {demo_page: sometimes}\n");
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.errorAt("server.demo_page"), nullptr) << bad.messages();
}

TEST(ConfigValues, FeedSymbolsKeepTheirOrder) {
  const Loaded loaded = load("feed:\n  symbols:\n    ZZZ: a\n    AAA: b\n    MMM: a\n");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  ASSERT_EQ(loaded.config.feed.symbols.size(), 3u);
  EXPECT_EQ(loaded.config.feed.symbols[0].first, "ZZZ");
  EXPECT_EQ(loaded.config.feed.symbols[2].first, "MMM");
}

TEST(ConfigValues, QuotedNumbersAndAPlusSignAreNumbers) {
  const Loaded loaded = load("server: {port: \"8081\", workers: +2}\n");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config.server.port, 8081);
  EXPECT_EQ(loaded.config.server.workers, 2u);
}

// --- namespaces -------------------------------------------------------------

TEST(ConfigNamespaces, NamespaceForTakesThePartBeforeTheColon) {
  const Loaded loaded = load("namespaces:\n  stock: {queue_max_messages: 7}\n");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config.namespaceFor("stock:AAPL").queueMaxMessages, 7u);
  EXPECT_EQ(loaded.config.namespaceFor("stock").queueMaxMessages, 7u);
  EXPECT_EQ(loaded.config.namespaceFor("stock:a:b").queueMaxMessages, 7u);
  EXPECT_TRUE(loaded.config.namespaceFor("market").dedicatedEndpoint);
  EXPECT_EQ(loaded.config.namespaceFor("orderbook:MSFT").policy, SlowConsumerPolicy::Conflate);
}

TEST(ConfigNamespaces, UnlistedNamespacesFallBackToDefault) {
  const Loaded loaded =
      load("namespaces:\n  default: {queue_max_messages: 80, policy: conflate}\n");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  const NamespaceConfig& news = loaded.config.namespaceFor("news:today");
  EXPECT_EQ(&news, &loaded.config.namespaces.at("default"));
  EXPECT_EQ(news.queueMaxMessages, 80u);
  EXPECT_EQ(news.policy, SlowConsumerPolicy::Conflate);
}

TEST(ConfigNamespaces, ListedNamespacesInheritTheKeysTheyDoNotSet) {
  const Loaded loaded = load(R"(
namespaces:
  default: {queue_max_messages: 80, history_size: 5}
  news: {history_size: 9}
  market: {history_size: 1}
)");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  const NamespaceConfig& news = loaded.config.namespaceFor("news:x");
  EXPECT_EQ(news.historySize, 9u);
  EXPECT_EQ(news.queueMaxMessages, 80u);  // from default
  const NamespaceConfig& market = loaded.config.namespaceFor("market");
  EXPECT_EQ(market.historySize, 1u);
  EXPECT_EQ(market.queueMaxMessages, 80u);  // from default
  EXPECT_TRUE(market.dedicatedEndpoint);    // from the built-in demo preset
  EXPECT_EQ(loaded.config.namespaceFor("stock:X").queueMaxMessages, 80u);  // preset, not listed
}

TEST(ConfigNamespaces, CompressionThresholdDefaultsToTheServers) {
  const Loaded loaded = load(R"(
server: {compression_threshold_bytes: 4096}
namespaces:
  index: {compression_threshold_bytes: 0}
)");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config.namespaceFor("stock:A").compressionThresholdBytes, 4096u);
  EXPECT_EQ(loaded.config.namespaceFor("index").compressionThresholdBytes, 0u);
}

TEST(ConfigNamespaces, NamesUseTheChannelAlphabet) {
  EXPECT_TRUE(isValidNamespaceName("a-b_c.d@e9"));
  EXPECT_FALSE(isValidNamespaceName(""));
  EXPECT_FALSE(isValidNamespaceName("stock:AAPL"));
  EXPECT_FALSE(isValidNamespaceName("with space"));
  EXPECT_FALSE(isValidNamespaceName(std::string(129, 'a')));
  EXPECT_TRUE(isValidNamespaceName(std::string(128, 'a')));
}

TEST(ConfigNamespaces, ABadNamespaceNameIsAnError) {
  const Loaded loaded = load("namespaces:\n  \"stock:x\": {}\n  \"a b\": {}\n  fine: {}\n");
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 2u) << loaded.messages();
  const ConfigError* error = loaded.errorAt("namespaces.stock:x");
  ASSERT_NE(error, nullptr) << loaded.messages();
  EXPECT_EQ(error->kind, Kind::BadValue);
  EXPECT_EQ(error->value, "stock:x");
  EXPECT_NE(error->expected.find("no ':'"), std::string::npos);
  EXPECT_EQ(error->where, "test.yaml:2:3");
}

// --- errors -----------------------------------------------------------------

TEST(ConfigErrors, UnknownTopLevelKey) {
  const Loaded loaded = load("server: {}\nservre: {port: 1}\n");
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 1u) << loaded.messages();
  const ConfigError& error = loaded.errors[0];
  EXPECT_EQ(error.kind, Kind::UnknownKey);
  EXPECT_EQ(error.path, "servre");
  EXPECT_EQ(error.where, "test.yaml:2:1");
  EXPECT_NE(error.expected.find("server, heartbeat, admin"), std::string::npos);
  EXPECT_NE(error.message().find("did you mean server?"), std::string::npos) << error.message();
}

TEST(ConfigErrors, UnknownNestedKey) {
  const Loaded loaded = load("heartbeat:\n  interval: 1000\n");
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 1u) << loaded.messages();
  EXPECT_EQ(loaded.errors[0].kind, Kind::UnknownKey);
  EXPECT_EQ(loaded.errors[0].path, "heartbeat.interval");
  EXPECT_EQ(loaded.errors[0].value, "1000");
  EXPECT_NE(loaded.errors[0].message().find("did you mean interval_ms?"), std::string::npos);
}

TEST(ConfigErrors, UnknownKeyInANamespace) {
  const Loaded loaded = load("namespaces:\n  stock:\n    polcy: conflate\n  default: {qeue: 1}\n");
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 2u) << loaded.messages();
  const ConfigError* stock = loaded.errorAt("namespaces.stock.polcy");
  ASSERT_NE(stock, nullptr) << loaded.messages();
  EXPECT_EQ(stock->kind, Kind::UnknownKey);
  EXPECT_EQ(stock->where, "test.yaml:3:5");
  EXPECT_NE(loaded.errorAt("namespaces.default.qeue"), nullptr) << loaded.messages();
}

TEST(ConfigErrors, WrongTypes) {
  const Loaded loaded = load(R"(
server:
  port: eighty
  workers: 1.5
  permessage_deflate: yes
  host: [a, b]
heartbeat: 5
feed:
  symbols: [AAPL]
namespaces:
  stock: {retain_last: 1}
  user: [x]
)");
  EXPECT_FALSE(loaded.ok);
  const std::pair<const char*, Kind> expected[] = {
      {"server.port", Kind::WrongType},
      {"server.workers", Kind::WrongType},
      {"server.permessage_deflate", Kind::BadValue},
      {"server.host", Kind::WrongType},
      {"heartbeat", Kind::WrongType},
      {"feed.symbols", Kind::WrongType},
      {"namespaces.stock.retain_last", Kind::BadValue},
      {"namespaces.user", Kind::WrongType},
  };
  EXPECT_EQ(loaded.errors.size(), std::size(expected)) << loaded.messages();
  for (const auto& [path, kind] : expected) {
    const ConfigError* error = loaded.errorAt(path);
    ASSERT_NE(error, nullptr) << path << "\n" << loaded.messages();
    EXPECT_EQ(error->kind, kind) << path;
  }
  const ConfigError* port = loaded.errorAt("server.port");
  EXPECT_EQ(port->value, "eighty");
  EXPECT_EQ(port->expected, "an integer from 0 to 65535");
  EXPECT_EQ(port->where, "test.yaml:3:9");
  EXPECT_EQ(port->message(),
            "test.yaml:3:9: server.port: got \"eighty\", expected an integer from 0 to 65535");
  EXPECT_EQ(loaded.errorAt("server.permessage_deflate")->expected, "true or false");
  EXPECT_EQ(loaded.errorAt("server.host")->value, "[a, b]");
}

TEST(ConfigErrors, OutOfRange) {
  const Loaded loaded = load(R"(
server: {port: 70000, max_message_bytes: -1}
heartbeat: {interval_ms: 99999999999999999999999}
namespaces:
  default: {queue_max_messages: 0, queue_max_bytes: -5}
  stock: {history_size: -1}
)");
  EXPECT_FALSE(loaded.ok);
  for (const char* path : {"server.port", "server.max_message_bytes", "heartbeat.interval_ms",
                           "namespaces.default.queue_max_messages",
                           "namespaces.default.queue_max_bytes", "namespaces.stock.history_size"}) {
    const ConfigError* error = loaded.errorAt(path);
    ASSERT_NE(error, nullptr) << path << "\n" << loaded.messages();
    EXPECT_EQ(error->kind, Kind::OutOfRange) << path;
  }
  EXPECT_EQ(loaded.errors.size(), 6u) << loaded.messages();
  EXPECT_EQ(loaded.errorAt("server.port")->value, "70000");
  EXPECT_EQ(loaded.errorAt("namespaces.default.queue_max_messages")->expected,
            "an integer from 1 to 1000000");
}

TEST(ConfigErrors, BadEnumValueListsTheChoices) {
  const Loaded loaded = load("namespaces:\n  stock:\n    policy: drop_newest\n");
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 1u) << loaded.messages();
  const ConfigError& error = loaded.errors[0];
  EXPECT_EQ(error.kind, Kind::BadValue);
  EXPECT_EQ(error.path, "namespaces.stock.policy");
  EXPECT_EQ(error.value, "drop_newest");
  EXPECT_EQ(error.expected, "one of drop_oldest, conflate, disconnect");
  EXPECT_EQ(error.message(),
            "test.yaml:3:13: namespaces.stock.policy: got \"drop_newest\", expected one of "
            "drop_oldest, conflate, disconnect");
}

TEST(ConfigErrors, BadStringsAndSymbols) {
  const Loaded loaded = load("server: {host: \"\"}\nfeed:\n  symbols: {\"A:B\": tech, OK: \"\"}\n");
  EXPECT_FALSE(loaded.ok);
  EXPECT_EQ(loaded.errors.size(), 3u) << loaded.messages();
  EXPECT_NE(loaded.errorAt("server.host"), nullptr) << loaded.messages();
  EXPECT_NE(loaded.errorAt("feed.symbols"), nullptr) << loaded.messages();     // the bad symbol
  EXPECT_NE(loaded.errorAt("feed.symbols.OK"), nullptr) << loaded.messages();  // the empty sector
}

TEST(ConfigErrors, YamlSyntaxErrorHasLineAndColumn) {
  const Loaded loaded = load("server:\n  port: 8080\n  host: [unclosed\nadmin: {}\n");
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 1u) << loaded.messages();
  const ConfigError& error = loaded.errors[0];
  EXPECT_EQ(error.kind, Kind::Syntax);
  EXPECT_TRUE(error.where.starts_with("test.yaml:")) << error.where;
  EXPECT_NE(error.where, "test.yaml");  // carries a line
  EXPECT_NE(error.message().find("YAML syntax error"), std::string::npos) << error.message();
}

TEST(ConfigErrors, YamlSyntaxErrorPointsAtTheLine) {
  const Loaded loaded = load("server:\n  port: 8080\n   host: x\n");
  ASSERT_EQ(loaded.errors.size(), 1u) << loaded.messages();
  EXPECT_EQ(loaded.errors[0].kind, Kind::Syntax);
  EXPECT_TRUE(loaded.errors[0].where.starts_with("test.yaml:3:")) << loaded.errors[0].where;
}

TEST(ConfigErrors, TheRootMustBeAMap) {
  const Loaded loaded = load("- a\n- b\n");
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 1u) << loaded.messages();
  EXPECT_EQ(loaded.errors[0].kind, Kind::WrongType);
}

TEST(ConfigErrors, DuplicateKeys) {
  const Loaded loaded = load("server:\n  port: 1\n  port: 2\n");
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 1u) << loaded.messages();
  EXPECT_EQ(loaded.errors[0].kind, Kind::DuplicateKey);
  EXPECT_EQ(loaded.errors[0].path, "server.port");
  EXPECT_EQ(loaded.errors[0].where, "test.yaml:3:3");
}

TEST(ConfigErrors, AdminAndServerPortsMustDiffer) {
  const Loaded loaded = load("server: {port: 9000}\nadmin: {port: 9000}\n");
  EXPECT_FALSE(loaded.ok);
  ASSERT_NE(loaded.errorAt("admin.port"), nullptr) << loaded.messages();
}

TEST(ConfigErrors, PublishBacklogMustFitInTheWorkerInbox) {
  const Loaded loaded =
      load("admin: {publish_backlog: 300}\nlimits: {worker_inbox_messages: 200}\n");
  EXPECT_FALSE(loaded.ok);
  const ConfigError* error = loaded.errorAt("admin.publish_backlog");
  ASSERT_NE(error, nullptr) << loaded.messages();
  EXPECT_NE(error->message().find("limits.worker_inbox_messages (200)"), std::string::npos)
      << error->message();
  // At the cap, or 0 (never refused), it loads.
  EXPECT_TRUE(load("admin: {publish_backlog: 200}\nlimits: {worker_inbox_messages: 200}\n").ok);
  EXPECT_TRUE(load("admin: {publish_backlog: 0}\nlimits: {worker_inbox_messages: 16}\n").ok);
}

TEST(ConfigTest, PublishBacklogTimeMustBeBelowTheInboxMaxDelay) {
  const auto loaded =
      load("admin: {publish_backlog_ms: 500}\nlimits: {worker_inbox_max_delay_ms: 500}\n");
  ASSERT_FALSE(loaded.ok);
  const ConfigError* error = loaded.errorAt("admin.publish_backlog_ms");
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->expected.find("limits.worker_inbox_max_delay_ms"), std::string::npos);
  EXPECT_TRUE(
      load("admin: {publish_backlog_ms: 499}\nlimits: {worker_inbox_max_delay_ms: 500}\n").ok);
  EXPECT_TRUE(
      load("admin: {publish_backlog_ms: 900}\nlimits: {worker_inbox_max_delay_ms: 0}\n").ok);
  EXPECT_TRUE(load("admin: {publish_backlog_ms: 0}\n").ok);
}

TEST(ConfigValues, WorkerInboxBoundsAreReadAndChecked) {
  const Loaded loaded = load(
      "limits: {worker_inbox_messages: 1000, worker_inbox_max_delay_ms: 0}\n"
      "admin: {publish_backlog: 500}\n");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config.limits.workerInboxMessages, 1000u);
  EXPECT_EQ(loaded.config.limits.workerInboxMaxDelayMs, 0u);
  EXPECT_EQ(loaded.config.admin.publishBacklog, 500u);
  EXPECT_NE(load("limits: {worker_inbox_messages: 15}\n").errorAt("limits.worker_inbox_messages"),
            nullptr);
  EXPECT_NE(load("limits: {worker_inbox_max_delay_ms: 600001}\n")
                .errorAt("limits.worker_inbox_max_delay_ms"),
            nullptr);
}

TEST(ConfigErrors, AllErrorsAreReportedTogether) {
  const Loaded loaded = load(R"(
server:
  port: 70000
  colour: blue
heartbeat:
  interval_ms: soon
namespaces:
  stock: {policy: fast}
  "bad name": {}
extra: 1
)");
  EXPECT_FALSE(loaded.ok);
  EXPECT_EQ(loaded.errors.size(), 6u) << loaded.messages();
  for (const char* path : {"server.port", "server.colour", "heartbeat.interval_ms",
                           "namespaces.stock.policy", "namespaces.bad name", "extra"}) {
    EXPECT_NE(loaded.errorAt(path), nullptr) << path << "\n" << loaded.messages();
  }
}

TEST(ConfigErrors, AFailedLoadLeavesTheOutputAlone) {
  Config config;
  config.server.port = 1234;
  std::vector<ConfigError> errors;
  EXPECT_FALSE(
      loadConfigString("server: {port: 70000, workers: 3}", Environment(), config, errors));
  EXPECT_EQ(config.server.port, 1234);
  EXPECT_EQ(config.server.workers, 0u);
}

// --- environment overrides --------------------------------------------------

TEST(ConfigEnvironment, OverridesKeysWithUnderscoresInTheirNames) {
  const Loaded loaded =
      load("server: {port: 8080}\n", {
                                         {"WSROUTER_SERVER_PORT", "8081"},
                                         {"WSROUTER_HEARTBEAT_INTERVAL_MS", "15000"},
                                         {"WSROUTER_SERVER_PERMESSAGE_DEFLATE", "false"},
                                         {"WSROUTER_ADMIN_PUBLISHER_TOKEN_FILE", ""},
                                         {"WSROUTER_FEED_ENABLED", "false"},
                                         {"OTHER_SERVER_PORT", "1"},
                                     });
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config.server.port, 8081);
  EXPECT_EQ(loaded.config.heartbeat.intervalMs, 15000u);
  EXPECT_FALSE(loaded.config.server.perMessageDeflate);
  EXPECT_EQ(loaded.config.admin.publisherTokenFile, "");
  EXPECT_FALSE(loaded.config.feed.enabled);
}

TEST(ConfigEnvironment, OverridesNamespaces) {
  const Loaded loaded = load("namespaces:\n  stock: {queue_max_messages: 7}\n  my_ns.v2: {}\n",
                             {
                                 {"WSROUTER_NAMESPACES_STOCK_POLICY", "conflate"},
                                 {"WSROUTER_NAMESPACES_DEFAULT_QUEUE_MAX_MESSAGES", "70"},
                                 {"WSROUTER_NAMESPACES_MY_NS_V2_RETAIN_LAST", "true"},
                                 {"WSROUTER_NAMESPACES_NEWS_HISTORY_SIZE", "3"},
                             });
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  const Config& c = loaded.config;
  EXPECT_EQ(c.namespaceFor("stock:A").policy, SlowConsumerPolicy::Conflate);
  EXPECT_EQ(c.namespaceFor("stock:A").queueMaxMessages, 7u);  // the YAML's own value stays
  EXPECT_EQ(c.namespaceFor("user:1").queueMaxMessages, 70u);  // inherited from default
  EXPECT_TRUE(c.namespaceFor("my_ns.v2:x").retainLast);       // matched by its env form
  ASSERT_EQ(c.namespaces.count("news"), 1u);                  // created by the environment
  EXPECT_EQ(c.namespaceFor("news").historySize, 3u);
  EXPECT_EQ(c.namespaceFor("news").queueMaxMessages, 70u);
}

TEST(ConfigEnvironment, OverridesAMapWithYamlFlowText) {
  const Loaded loaded = load("", {{"WSROUTER_FEED_SYMBOLS", "{IBM: tech, BP: energy}"}});
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  ASSERT_EQ(loaded.config.feed.symbols.size(), 2u);
  EXPECT_EQ(loaded.config.feed.symbols[1].first, "BP");
}

TEST(ConfigEnvironment, AnInvalidValueNamesTheVariableAndTheValue) {
  const Loaded loaded = load("", {
                                     {"WSROUTER_SERVER_PORT", "http"},
                                     {"WSROUTER_NAMESPACES_STOCK_POLICY", "slow"},
                                     {"WSROUTER_SERVER_WORKERS", "-2"},
                                 });
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 3u) << loaded.messages();
  const ConfigError* port = loaded.errorAt("server.port");
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(port->kind, Kind::WrongType);
  EXPECT_EQ(port->message(),
            "environment variable WSROUTER_SERVER_PORT: server.port: got \"http\", expected an "
            "integer from 0 to 65535");
  EXPECT_EQ(loaded.errorAt("namespaces.stock.policy")->value, "slow");
  EXPECT_EQ(loaded.errorAt("server.workers")->kind, Kind::OutOfRange);
}

TEST(ConfigEnvironment, AnUnknownVariableIsAnErrorThatHidesItsValue) {
  const Loaded loaded = load("", {{"WSROUTER_SERVER_PROT", "s3cret"}, {"WSROUTER_SERVER", "x"}});
  EXPECT_FALSE(loaded.ok);
  ASSERT_EQ(loaded.errors.size(), 2u) << loaded.messages();
  for (const auto& error : loaded.errors) {
    EXPECT_EQ(error.kind, Kind::UnknownVariable);
    EXPECT_EQ(error.message().find("s3cret"), std::string::npos);
  }
  EXPECT_EQ(loaded.errors[1].where, "environment variable WSROUTER_SERVER_PROT");
  EXPECT_NE(loaded.errors[1].message().find("did you mean WSROUTER_SERVER_PORT?"),
            std::string::npos)
      << loaded.errors[1].message();
}

TEST(ConfigEnvironment, IgnoresTheConfigFileVariableAndKubernetesServiceLinks) {
  const Loaded loaded = load("", {
                                     {"WSROUTER_CONFIG", "/etc/wsrouter/config.yaml"},
                                     {"WSROUTER_SERVICE_HOST", "10.0.0.1"},
                                     {"WSROUTER_SERVICE_PORT", "8080"},
                                     {"WSROUTER_SERVICE_PORT_HTTP", "8080"},
                                     {"WSROUTER_PORT", "tcp://10.0.0.1:8080"},
                                     {"WSROUTER_PORT_8080_TCP", "tcp://10.0.0.1:8080"},
                                     {"WSROUTER_PORT_8080_TCP_PROTO", "tcp"},
                                     {"WSROUTER_PORT_8080_TCP_PORT", "8080"},
                                     {"WSROUTER_PORT_8080_TCP_ADDR", "10.0.0.1"},
                                     {"WSROUTER_ADMIN_PORT", "tcp://10.0.0.2:9090"},
                                 });
  EXPECT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config.admin.port, 9090);
}

// --- check-config -----------------------------------------------------------

TEST(ConfigCheck, ValidFileExitsZero) {
  std::ostringstream out, err;
  const std::string path = kSourceDir + "/config.yaml";
  EXPECT_EQ(checkConfigMain(path, Environment(), out, err), 0);
  EXPECT_EQ(out.str(), "config OK: " + path + "\n");
  EXPECT_EQ(err.str(), "");
}

TEST(ConfigCheck, InvalidFileExitsOneAndPrintsEachError) {
  std::ostringstream out, err;
  const std::string path = kSourceDir + "/config.yaml";
  EXPECT_EQ(checkConfigMain(path, Environment({{"WSROUTER_SERVER_PORT", "x"}, {"WSROUTER_X", "1"}}),
                            out, err),
            1);
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find("WSROUTER_SERVER_PORT: server.port"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("WSROUTER_X"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("2 errors"), std::string::npos) << err.str();
}

TEST(ConfigCheck, PolicyNames) {
  EXPECT_EQ(toString(SlowConsumerPolicy::DropOldest), "drop_oldest");
  EXPECT_EQ(toString(SlowConsumerPolicy::Conflate), "conflate");
  EXPECT_EQ(toString(SlowConsumerPolicy::Disconnect), "disconnect");
}

// --- auth and limits ----------------------------------------------------------

TEST(ConfigAuth, ModesAndJwtSettingsAreRead) {
  const Loaded loaded = load(R"(
auth:
  mode: jwt
  jwt:
    algorithms: [RS256, ES256]
    rs256_public_key_file: /keys/rs.pem
    es256_public_key_file: /keys/es.pem
    leeway_s: 5
    audience: wsrouter
namespaces:
  market: {require_claim: tier=premium}
)");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  const AuthConfig& auth = loaded.config.auth;
  EXPECT_EQ(auth.mode, AuthMode::Jwt);
  EXPECT_EQ(auth.jwt.algorithms, (std::vector<std::string>{"RS256", "ES256"}));
  EXPECT_EQ(auth.jwt.leewaySeconds, 5u);
  EXPECT_EQ(auth.jwt.audience, "wsrouter");
  EXPECT_EQ(loaded.config.namespaceFor("market").requireClaim, "tier=premium");
  EXPECT_EQ(loaded.config.namespaceFor("stock:A").requireClaim, "");
}

TEST(ConfigAuth, TokenModeNeedsItsFile) {
  const Loaded loaded = load("auth: {mode: token}\n");
  EXPECT_FALSE(loaded.ok);
  const ConfigError* error = loaded.errorAt("auth.token_file");
  ASSERT_NE(error, nullptr) << loaded.messages();
  EXPECT_NE(error->message().find("auth.mode is token"), std::string::npos) << error->message();
}

TEST(ConfigAuth, EachAllowedAlgorithmNeedsItsKeyFileAndNoOther) {
  const Loaded loaded = load(R"(
auth:
  mode: jwt
  jwt:
    algorithms: [HS256]
    es256_public_key_file: /keys/es.pem
)");
  EXPECT_FALSE(loaded.ok);
  EXPECT_NE(loaded.errorAt("auth.jwt.hs256_secret_file"), nullptr) << loaded.messages();
  EXPECT_NE(loaded.errorAt("auth.jwt.es256_public_key_file"), nullptr) << loaded.messages();
}

TEST(ConfigAuth, UnknownAlgorithmsAndNoneAreRefusedByIndex) {
  const Loaded loaded = load("auth: {jwt: {algorithms: [HS256, none, HS512]}}\n");
  EXPECT_FALSE(loaded.ok);
  const ConfigError* none = loaded.errorAt("auth.jwt.algorithms[1]");
  ASSERT_NE(none, nullptr) << loaded.messages();
  EXPECT_EQ(none->value, "none");
  EXPECT_NE(loaded.errorAt("auth.jwt.algorithms[2]"), nullptr) << loaded.messages();
  EXPECT_EQ(loaded.errorAt("auth.jwt.algorithms[0]"), nullptr);
}

TEST(ConfigAuth, ABadModeListsTheChoices) {
  const Loaded loaded = load("auth: {mode: open}\n");
  const ConfigError* error = loaded.errorAt("auth.mode");
  ASSERT_NE(error, nullptr) << loaded.messages();
  EXPECT_NE(error->expected.find("none"), std::string::npos);
  EXPECT_NE(error->expected.find("jwt"), std::string::npos);
}

TEST(ConfigAuth, RequireClaimMustBeNameEqualsValue) {
  for (const char* bad : {"premium", "=x", "tier=", "ti er=x"}) {
    const Loaded loaded =
        load(std::string("namespaces: {market: {require_claim: \"") + bad + "\"}}\n");
    EXPECT_NE(loaded.errorAt("namespaces.market.require_claim"), nullptr) << bad;
  }
}

TEST(ConfigLimits, ListsAreReadFromYamlAndFromTheEnvironment) {
  const Loaded fromFile = load(R"(
limits:
  connections_per_address: 0
  trusted_proxies: [10.0.0.0/8, "::1"]
  allowed_origins:
    - https://app.example.com
)");
  ASSERT_TRUE(fromFile.ok) << fromFile.messages();
  EXPECT_EQ(fromFile.config.limits.connectionsPerAddress, 0u);
  EXPECT_EQ(fromFile.config.limits.trustedProxies, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  EXPECT_EQ(fromFile.config.limits.allowedOrigins,
            (std::vector<std::string>{"https://app.example.com"}));

  const Loaded fromEnv =
      load("", {{"WSROUTER_LIMITS_TRUSTED_PROXIES", "[192.168.0.0/16, 172.16.0.0/12]"}});
  ASSERT_TRUE(fromEnv.ok) << fromEnv.messages();
  EXPECT_EQ(fromEnv.config.limits.trustedProxies,
            (std::vector<std::string>{"192.168.0.0/16", "172.16.0.0/12"}));
}

TEST(ConfigLimits, AListMustBeAList) {
  const Loaded loaded = load("limits: {trusted_proxies: 10.0.0.0/8}\n");
  const ConfigError* error = loaded.errorAt("limits.trusted_proxies");
  ASSERT_NE(error, nullptr) << loaded.messages();
  EXPECT_EQ(error->kind, Kind::WrongType);
  EXPECT_NE(error->expected.find("list"), std::string::npos);
}

// --- log and tracing --------------------------------------------------------

TEST(ConfigTelemetry, LogAndTracingAreRead) {
  const Loaded loaded = load(R"(
log: {level: debug, client_events_per_second: 5}
tracing:
  enabled: true
  endpoint: https://collector.example.com:4318/base
  service_name: router-eu
  queue_size: 100
  batch_size: 10
  export_interval_ms: 50
  export_timeout_ms: 2000
)");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  const Config& c = loaded.config;
  EXPECT_EQ(c.log.level, LogLevel::Debug);
  EXPECT_EQ(c.log.clientEventsPerSecond, 5u);
  EXPECT_TRUE(c.tracing.enabled);
  EXPECT_EQ(c.tracing.endpoint, "https://collector.example.com:4318/base");
  EXPECT_EQ(c.tracing.serviceName, "router-eu");
  EXPECT_EQ(c.tracing.queueSize, 100u);
  EXPECT_EQ(c.tracing.batchSize, 10u);
  EXPECT_EQ(c.tracing.exportIntervalMs, 50u);
  EXPECT_EQ(c.tracing.exportTimeoutMs, 2000u);
  EXPECT_EQ(toString(c.log.level), "debug");
}

TEST(ConfigTelemetry, BadLevelsAndEndpointsNameTheKey) {
  const Loaded loaded =
      load("log: {level: verbose}\ntracing: {endpoint: \"localhost:4318\", service_name: \"\"}\n");
  EXPECT_FALSE(loaded.ok);
  EXPECT_EQ(loaded.errors.size(), 3u) << loaded.messages();
  const ConfigError* level = loaded.errorAt("log.level");
  ASSERT_NE(level, nullptr) << loaded.messages();
  EXPECT_EQ(level->expected, "one of debug, info, warn, error");
  const ConfigError* endpoint = loaded.errorAt("tracing.endpoint");
  ASSERT_NE(endpoint, nullptr) << loaded.messages();
  EXPECT_EQ(endpoint->value, "localhost:4318");
  EXPECT_NE(endpoint->expected.find("http://"), std::string::npos);
  EXPECT_NE(loaded.errorAt("tracing.service_name"), nullptr) << loaded.messages();
}

TEST(ConfigTelemetry, EndpointsAreHttpUrlsWithAHost) {
  for (const char* bad : {"ftp://x", "http://", "http:///path", "https://:4318", "http://a b"}) {
    const Loaded loaded = load(std::string("tracing: {endpoint: \"") + bad + "\"}\n");
    EXPECT_NE(loaded.errorAt("tracing.endpoint"), nullptr) << bad;
  }
  for (const char* good : {"http://localhost:4318", "http://10.0.0.1", "https://otel/x"}) {
    const Loaded loaded = load(std::string("tracing: {endpoint: \"") + good + "\"}\n");
    EXPECT_TRUE(loaded.ok) << good << ": " << loaded.messages();
  }
}

}  // namespace
}  // namespace wsr::config

namespace wsr::config {
namespace {

TEST(ConfigBroker, RedisKeysAreRead) {
  const Loaded loaded = load(
      "broker:\n  type: redis\n  redis:\n    addresses: [\"10.0.0.5:6380\"]\n"
      "    password_file: /run/secrets/redis\n    database: 2\n    command_timeout_ms: 300\n",
      {{"WSROUTER_BROKER_REDIS_CONNECT_TIMEOUT_MS", "700"}});
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  const BrokerConfig& broker = loaded.config.broker;
  EXPECT_EQ(broker.type, BrokerType::Redis);
  EXPECT_EQ(broker.redis.mode, RedisMode::Standalone);
  EXPECT_EQ(broker.redis.addresses, (std::vector<std::string>{"10.0.0.5:6380"}));
  EXPECT_EQ(broker.redis.passwordFile, "/run/secrets/redis");
  EXPECT_EQ(broker.redis.database, 2u);
  EXPECT_EQ(broker.redis.commandTimeoutMs, 300u);
  EXPECT_EQ(broker.redis.connectTimeoutMs, 700u);
}

TEST(ConfigBroker, ClusterModeTakesSeedAddressesAndDatabaseZero) {
  const Loaded loaded = load(
      "broker:\n  type: redis\n  redis:\n    mode: cluster\n    addresses: [\"a:1\", \"b:2\"]\n");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config.broker.redis.mode, RedisMode::Cluster);
  // One seed is enough: the others are found with CLUSTER SLOTS.
  EXPECT_TRUE(
      load("broker:\n  type: redis\n  redis:\n    mode: cluster\n    addresses: [\"a:1\"]\n").ok);
  const Loaded database = load(
      "broker:\n  type: redis\n  redis:\n    mode: cluster\n    addresses: [\"a:1\"]\n"
      "    database: 3\n");
  EXPECT_FALSE(database.ok);
  const ConfigError* error = database.errorAt("broker.redis.database");
  ASSERT_NE(error, nullptr) << database.messages();
  EXPECT_NE(error->message().find("cluster"), std::string::npos) << error->message();
  EXPECT_FALSE(load("broker:\n  redis:\n    mode: replicated\n").ok);
}

TEST(ConfigBroker, ShardedModeTakesSeveralDistinctAddresses) {
  const Loaded loaded = load(
      "broker:\n  type: redis\n  redis:\n    mode: sharded\n"
      "    addresses: [\"r1:6379\", \"r2:6379\", \"r3:6379\"]\n");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config.broker.redis.mode, RedisMode::Sharded);
  EXPECT_EQ(loaded.config.broker.redis.addresses,
            (std::vector<std::string>{"r1:6379", "r2:6379", "r3:6379"}));

  const Loaded one =
      load("broker:\n  type: redis\n  redis:\n    mode: sharded\n    addresses: [\"r1:6379\"]\n");
  EXPECT_FALSE(one.ok);
  const ConfigError* error = one.errorAt("broker.redis.addresses");
  ASSERT_NE(error, nullptr) << one.messages();
  EXPECT_NE(error->message().find("at least two"), std::string::npos) << error->message();

  const Loaded twice = load(
      "broker:\n  type: redis\n  redis:\n    mode: sharded\n"
      "    addresses: [\"r1:6379\", \"r2:6379\", \"r1:6379\"]\n");
  EXPECT_FALSE(twice.ok);
  error = twice.errorAt("broker.redis.addresses");
  ASSERT_NE(error, nullptr) << twice.messages();
  EXPECT_NE(error->message().find("each address once"), std::string::npos) << error->message();
}

TEST(ConfigBroker, ProbeIntervalIsReadAndBounded) {
  EXPECT_EQ(load("").config.broker.redis.probeIntervalMs, 1000u);
  const Loaded loaded = load("broker:\n  redis:\n    probe_interval_ms: 250\n");
  ASSERT_TRUE(loaded.ok) << loaded.messages();
  EXPECT_EQ(loaded.config.broker.redis.probeIntervalMs, 250u);
  EXPECT_FALSE(load("broker:\n  redis:\n    probe_interval_ms: 5\n").ok);
}

TEST(ConfigBroker, AddressesMustBeHostPort) {
  for (const char* bad :
       {"[localhost]", "[\":6379\"]", "[\"h:0\"]", "[\"h:65536\"]", "[\"h:x\"]"}) {
    const Loaded loaded = load(std::string("broker:\n  redis:\n    addresses: ") + bad + "\n");
    EXPECT_FALSE(loaded.ok) << bad;
  }
  const Loaded empty = load("broker:\n  type: redis\n  redis:\n    addresses: []\n");
  EXPECT_FALSE(empty.ok);
  EXPECT_NE(empty.errorAt("broker.redis.addresses"), nullptr) << empty.messages();
}

}  // namespace
}  // namespace wsr::config
