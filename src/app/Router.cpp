#include "app/Router.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <random>
#include <thread>

#include "admin/AdminServer.h"
#include "app/AdminViews.h"
#include "app/RouterMetrics.h"
#include "app/SharedLimitMetrics.h"
#include "app/WorkerQuery.h"
#include "broker/MemoryBroker.h"
#include "broker/RedisBroker.h"
#include "feed/DemoFeed.h"
#include "hub/HubMetrics.h"
#include "net/EventLoop.h"
#include "telemetry/BuildInfo.h"
#include "telemetry/ProcessMetrics.h"

namespace wsr::app {
namespace {

ws::ServerOptions serverOptions(const config::Config& config) {
  ws::ServerOptions options;
  options.host = config.server.host;
  options.port = config.server.port;
  options.workers = config.server.workers;
  options.backlog = static_cast<int>(config.server.backlog);
  options.maxMessageBytes = config.server.maxMessageBytes;
  options.maxHeaderBytes = config.server.maxHeaderBytes;
  options.handshakeTimeoutMs = config.server.handshakeTimeoutMs;
  options.perMessageDeflate = config.server.perMessageDeflate;
  options.compressThreshold = config.server.compressionThresholdBytes;
  options.flushIntervalMs = config.server.flushIntervalMs;
  options.pingIntervalMs = config.heartbeat.intervalMs;
  options.pongTimeoutMs = config.heartbeat.pongTimeoutMs;
  options.idleTimeoutMs = config.heartbeat.idleTimeoutMs;
  options.closeTimeoutMs = config.heartbeat.closeTimeoutMs;
  return options;
}

// How long the admin views wait for a worker's answer.
constexpr std::chrono::milliseconds kWorkerQueryTimeout{1000};

// Spans left in the queue at shutdown get at most this long to go out.
constexpr std::chrono::milliseconds kMaxTraceFlush{5000};

std::unique_ptr<broker::Broker> makeBroker(const config::Config& config, hub::Hub& hub,
                                           telemetry::Logger& logger) {
  if (config.broker.type == config::BrokerType::Redis) {
    return std::make_unique<broker::RedisBroker>(config, hub, logger);
  }
  return std::make_unique<broker::MemoryBroker>(hub);
}

std::unique_ptr<broker::RedisCounters> makeSharedCounters(const config::Config& config,
                                                          telemetry::Logger& logger) {
  if (config.broker.type != config::BrokerType::Redis) return nullptr;
  return std::make_unique<broker::RedisCounters>(config, logger);
}

hub::HubLimits hubLimits(const config::Config& config) {
  hub::HubLimits limits;
  const uint32_t perConnection = config.limits.subscriptionsPerConnection;
  limits.maxSubscriptionsPerConnection = perConnection == 0 ? SIZE_MAX : perConnection;
  limits.maxChannels = config.limits.maxChannels;
  return limits;
}

}  // namespace

Router::Tracing Router::makeTracing(const config::Config& config, telemetry::Logger& logger) {
  const config::TracingConfig& in = config.tracing;
  const telemetry::TracingOptions options{in.enabled,        in.endpoint,  in.serviceName,
                                          in.queueSize,      in.batchSize, in.exportIntervalMs,
                                          in.exportTimeoutMs};
  std::vector<std::string> warnings;
  const telemetry::TracingSettings settings =
      telemetry::resolveTracingSettings(options, telemetry::otelVariablesOfProcess(), warnings);
  for (const std::string& warning : warnings) {
    logger.log(telemetry::LogLevel::Warn, "tracing_setting_ignored", {{"message", warning}});
  }
  Tracing tracing;
  tracing.flushDeadline =
      std::min(std::chrono::milliseconds(settings.exportTimeoutMs), kMaxTraceFlush);
  tracing.tracer = telemetry::Tracer::fromSettings(settings, &logger, tracing.error);
  if (tracing.tracer && tracing.tracer->enabled()) {
    // Never the headers: they carry the collector's credentials.
    logger.log(telemetry::LogLevel::Info, "tracing_enabled",
               {{"endpoint", settings.tracesEndpoint.substr(0, settings.tracesEndpoint.find('?'))},
                {"service", settings.serviceName()},
                {"sampler", settings.sampler.name()},
                {"headers", static_cast<uint64_t>(settings.headers.size())}});
  }
  return tracing;
}

Router::Router(const config::Config& config, telemetry::Logger& logger)
    : config_(config),
      logger_(logger),
      tracing_(makeTracing(config, logger)),
      hub_(config, hubLimits(config), tracing_.tracer.get()),
      broker_(makeBroker(config, hub_, logger)),
      gate_(config, hub_, logger),
      sharedCounters_(makeSharedCounters(config, logger)),
      site_(hub::embeddedWebFiles(), config.server.demoPage),
      server_(serverOptions(config), [this](ws::Server&, ws::Worker& worker) {
        auto local = std::make_unique<hub::LocalHub>(hub_, worker, gate_, logger_);
        local->serveFiles(&site_);
        local->shareLimits(sharedCounters_.get(), &sharedStats_);
        locals_.push_back(local.get());
        hub_.attach(*local);
        return local;
      }) {}

Router::~Router() {
  secrets_.reset();
  if (feed_) feed_->stop();
  if (admin_) admin_->stop();
  broker_->stop();
  if (sharedCounters_) sharedCounters_->stop();
  server_.stop();
}

uint16_t Router::adminPort() const {
  return admin_ ? admin_->port() : 0;
}

bool Router::start(std::string& error) {
  if (!tracing_.tracer) {
    error = "tracing: " + tracing_.error;
    return false;
  }
  if (!gate_.start(error)) return false;
  if (!broker_->start(error)) return false;
  if (sharedCounters_) sharedCounters_->start();
  if (!server_.listen(error)) {
    error = "public port: " + error;
    return false;
  }
  admin_ =
      std::make_unique<admin::AdminServer>(config_.admin, *broker_, *this, tracing_.tracer.get());
  setUpMetrics();
  if (!admin_->start(error)) {
    error = "admin port: " + error;
    return false;
  }
  std::vector<auth::SecretFile*> files = gate_.authenticator().secretFiles();
  if (auth::SecretFile* publisherTokens = admin_->publisherTokenFile()) {
    files.push_back(publisherTokens);
  }
  if (!files.empty()) {
    secrets_ = std::make_unique<auth::SecretWatcher>(
        std::chrono::milliseconds(config_.auth.secretCheckIntervalMs),
        [this](const auth::SecretFile& file, bool ok, std::string_view message) {
          logger_.log(ok ? telemetry::LogLevel::Info : telemetry::LogLevel::Error,
                      ok ? "secret_reloaded" : "secret_reload_failed",
                      {{"file", file.path()}, {"message", message}});
        });
    for (auth::SecretFile* file : files)
      secrets_->watch(*file);
    secrets_->start();
  }
  server_.start();
  if (config_.feed.enabled) {
    feed_ = std::make_unique<feed::DemoFeed>(config_.feed, *broker_,
                                             static_cast<uint64_t>(std::random_device{}()));
    feed_->start();
  }
  ready_.store(true);
  return true;
}

void Router::setUpMetrics() {
  telemetry::registerBuildInfo(metrics_.registry(), telemetry::BuildInfo::ofThisBuild());
  metrics_.add(std::make_shared<hub::HubCollector>(config_, hub_, gate_, server_, locals_));
  metrics_.add(std::make_shared<RouterCollector>(config_, gate_.authenticator(), *admin_, logger_,
                                                 tracing_.tracer.get(), *broker_,
                                                 [this] { return health().ready; }));
  metrics_.add(std::make_shared<SharedLimitCollector>(sharedStats_));
  metrics_.add(std::make_shared<telemetry::ProcessCollector>());
}

std::string Router::metricsText() {
  return metrics_.text();
}

size_t Router::openConnections() {
  size_t open = 0;
  for (size_t i = 0; i < server_.workerCount(); ++i) {
    open += server_.worker(i).stats().open.load(std::memory_order_relaxed);
  }
  return open;
}

void Router::shutdown(uint32_t drainDelayMs, uint32_t closeWindowMs) {
  // Readiness first, so the load balancer stops sending new clients while
  // the ones here are still served.
  ready_.store(false);
  draining_.store(true);
  hub_.beginDraining();
  std::this_thread::sleep_for(std::chrono::milliseconds(drainDelayMs));

  server_.forEachWorker([closeWindowMs](ws::Worker& worker) {
    worker.stopAccepting();
    worker.closeAllSpread(ws::close_code::kGoingAway, "server going away", closeWindowMs);
  });
  // Wait for the close handshakes: the window, plus the time a client gets
  // to answer its close frame.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(closeWindowMs) +
                        std::chrono::milliseconds(config_.heartbeat.closeTimeoutMs + 1000);
  while (openConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  hub_.stopAccepting();
  if (feed_) feed_->stop();
  if (admin_) admin_->stop();
  broker_->stop();
  if (sharedCounters_) sharedCounters_->stop();
  server_.stop();
  // Last: every span is ended; send what is queued, within the deadline.
  if (tracing_.tracer) tracing_.tracer->shutdown(tracing_.flushDeadline);
}

admin::Health Router::health() {
  admin::Health health;
  const uint64_t now = net::EventLoop::monotonicMs();
  for (size_t i = 0; i < server_.workerCount(); ++i) {
    const uint64_t last = server_.worker(i).loop().lastPassMs();
    if (now > last && now - last > config_.health.loopStallMs) {
      health.live = false;
      health.liveDetail = "worker " + std::to_string(i) + " has not turned for " +
                          std::to_string(now - last) + " ms";
      break;
    }
  }
  std::string brokerDetail;
  const bool brokerReady = broker_->ready(brokerDetail);
  health.ready = ready_.load() && !draining_.load() && gate_.ready() && brokerReady;
  if (!health.ready) {
    health.readyDetail = draining_.load() ? "draining"
                         : !ready_.load() ? "starting"
                         : !brokerReady   ? brokerDetail
                                          : "waiting for the secret files of auth";
  }
  return health;
}

std::string Router::statsJson() {
  RouterFigures figures;
  figures.connections = openConnections();
  for (const hub::LocalHub* local : locals_)
    figures.subscriptions += local->subscriptionCount();
  figures.workers = server_.workerCount();
  return statsView(figures, hub_, gate_, tracing_.tracer.get());
}

std::string Router::channelsJson() {
  return channelsView(hub_);
}

std::string Router::connectionsJson() {
  return connectionsView(askWorkers(server_, kWorkerQueryTimeout, [this](ws::Worker& worker) {
    return locals_[worker.index()]->connections();
  }));
}

size_t Router::disconnectUser(const std::string& user) {
  // Only JWT connections belong to a user (the token's subject).
  size_t closed = 0;
  for (size_t count : askWorkers(server_, kWorkerQueryTimeout, [this, user](ws::Worker& worker) {
         return locals_[worker.index()]->disconnectUser(user);
       })) {
    closed += count;
  }
  return closed;
}

}  // namespace wsr::app
