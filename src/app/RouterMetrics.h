#pragma once
// The metrics only the wiring can see, read at scrape time: publish API
// refusals (admin), secret reloads by secret and result (auth, admin),
// readiness, the broker, suppressed log lines, exported and dropped spans. The data path's metrics
// are hub::HubCollector's; process and build metrics are telemetry's.

#include <functional>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "admin/AdminServer.h"
#include "auth/Authenticator.h"
#include "broker/Broker.h"
#include "config/Config.h"
#include "telemetry/Logger.h"
#include "telemetry/Tracer.h"

namespace wsr::app {

class RouterCollector final : public prometheus::Collectable {
 public:
  // Everything must outlive the collector. `ready` answers what /readyz
  // does; `tracer` may be null (its counters then read 0).
  RouterCollector(const config::Config& config, auth::Authenticator& authenticator,
                  admin::AdminServer& admin, const telemetry::Logger& logger,
                  const telemetry::Tracer* tracer, const broker::Broker& broker,
                  std::function<bool()> ready);

  // Any thread.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const config::Config& config_;
  auth::Authenticator& authenticator_;
  admin::AdminServer& admin_;
  const telemetry::Logger& logger_;
  const telemetry::Tracer* tracer_;
  const broker::Broker& broker_;
  const std::function<bool()> ready_;
};

}  // namespace wsr::app
