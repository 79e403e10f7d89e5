#pragma once
// The whole router, wired: the hub, the WebSocket server with one LocalHub
// per worker, the admin server, the demo feed. It is also the admin server's
// backend (stats, connections, health). main() creates one and runs it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "admin/AdminBackend.h"
#include "auth/SecretWatcher.h"
#include "broker/Broker.h"
#include "broker/RedisCounters.h"
#include "config/Config.h"
#include "hub/ConnectionGate.h"
#include "hub/Hub.h"
#include "hub/LocalHub.h"
#include "hub/SharedCounters.h"
#include "hub/StaticSite.h"
#include "telemetry/Logger.h"
#include "telemetry/MetricsExposition.h"
#include "telemetry/Tracer.h"
#include "ws/Server.h"

namespace wsr::admin {
class AdminServer;
}
namespace wsr::feed {
class DemoFeed;
}

namespace wsr::app {

class Router final : public admin::AdminBackend {
 public:
  Router(const config::Config& config, telemetry::Logger& logger);
  ~Router() override;

  // Binds both ports and starts everything; readiness turns on at the end.
  bool start(std::string& error);
  uint16_t publicPort() const { return server_.port(); }
  uint16_t adminPort() const;

  // The shutdown sequence (DESIGN.md, item 6): readiness off at once, keep
  // serving for drainDelayMs, stop accepting, close every client with 1001
  // spread over closeWindowMs, then stop. Returns when all is stopped.
  void shutdown(uint32_t drainDelayMs, uint32_t closeWindowMs);

  // AdminBackend.
  admin::Health health() override;
  std::string statsJson() override;
  std::string channelsJson() override;
  std::string connectionsJson() override;
  std::string metricsText() override;
  size_t disconnectUser(const std::string& user) override;

 private:
  // The tracer from config.yaml's tracing section and the process's OTEL_*
  // variables; disabled, or null with `error` when it cannot be built.
  struct Tracing {
    std::unique_ptr<telemetry::Tracer> tracer;
    std::chrono::milliseconds flushDeadline{0};  // at the end of shutdown
    std::string error;
  };
  static Tracing makeTracing(const config::Config& config, telemetry::Logger& logger);

  size_t openConnections();
  // Before the admin server serves: build info, the hub's, the router's and
  // the process's metrics (docs/observability.md).
  void setUpMetrics();

  const config::Config& config_;
  telemetry::Logger& logger_;
  // Before everything that holds a pointer to the tracer.
  Tracing tracing_;
  hub::Hub hub_;
  // After the hub (a Redis broker makes its channels mirrors), before
  // everything that publishes through it.
  std::unique_ptr<broker::Broker> broker_;
  hub::ConnectionGate gate_;
  // broker.type redis: the limits counted across instances (null with
  // memory). Before server_ (its workers are given them); its thread is
  // stopped before server_ stops, since its answers are posted to workers.
  std::unique_ptr<broker::RedisCounters> sharedCounters_;
  hub::SharedLimitStats sharedStats_;
  // The demo page and /client.js, served by every worker; before server_.
  const hub::StaticSite site_;
  // Before server_: the server's constructor fills it (one per worker).
  std::vector<hub::LocalHub*> locals_;
  ws::Server server_;
  std::unique_ptr<admin::AdminServer> admin_;
  telemetry::MetricsExposition metrics_;
  std::unique_ptr<feed::DemoFeed> feed_;
  // Re-reads the token and key files when their Secret rotates.
  std::unique_ptr<auth::SecretWatcher> secrets_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace wsr::app
