#pragma once
// What the admin server asks of the rest of the router, besides publishing:
// the answers of the read-only routes, disconnects, and health. The wiring in
// src/app implements it over the hub and the workers; tests use a fake.

#include <cstddef>
#include <string>

namespace wsr::admin {

struct Health {
  bool live = true;  // false: an event loop has not turned within health.loop_stall_ms
  std::string liveDetail;
  bool ready = false;  // false while starting, draining, or with the broker down
  std::string readyDetail;
};

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  // Every method may be called from any admin thread at any time.
  virtual Health health() = 0;
  virtual std::string statsJson() = 0;        // GET /api/v1/stats body
  virtual std::string channelsJson() = 0;     // GET /api/v1/channels body
  virtual std::string connectionsJson() = 0;  // GET /api/v1/connections body
  // GET /metrics body: the Prometheus text format (version 0.0.4).
  virtual std::string metricsText() = 0;
  // POST /api/v1/disconnect {"user":"42"}: closes that user's connections;
  // returns how many.
  virtual size_t disconnectUser(const std::string& user) = 0;
};

}  // namespace wsr::admin
