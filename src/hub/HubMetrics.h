#pragma once
// The router's data-path metrics, built at scrape time from counters that
// already exist: the workers' engine stats (ws::WorkerStats), each
// LocalHub's stats, the namespaces' shared stats, the gate's refusals and
// the authenticator's failures. Nothing is counted here, only read, so a
// scrape costs the data path nothing but the per-connection gauges, which
// each worker computes on its own thread when asked (a worker that does not
// answer within a moment is left out of them).
//
// Every series whose label values are known from the configuration exists
// from the start, at 0: namespaces x drop reasons, endpoints, refusal and
// auth failure reasons, close codes, client ops. No label ever names a
// client-chosen channel: dynamic channels count under their namespace.

#include <chrono>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "config/Config.h"
#include "hub/ConnectionGate.h"
#include "hub/Hub.h"
#include "hub/LocalHub.h"
#include "ws/Server.h"

namespace wsr::hub {

class HubCollector final : public prometheus::Collectable {
 public:
  // `locals`: worker w's LocalHub at index w. Everything must outlive the
  // collector; the server must be running for the per-connection gauges.
  HubCollector(const config::Config& config, const Hub& hub, ConnectionGate& gate,
               ws::Server& server, std::vector<LocalHub*> locals,
               std::chrono::milliseconds workerTimeout = std::chrono::milliseconds(500));

  // Any thread.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  void collectConnections(std::vector<prometheus::MetricFamily>& out) const;
  void collectChannels(std::vector<prometheus::MetricFamily>& out) const;
  void collectLatencies(std::vector<prometheus::MetricFamily>& out) const;
  void collectQueues(std::vector<prometheus::MetricFamily>& out) const;
  void collectBytes(std::vector<prometheus::MetricFamily>& out) const;
  void collectLoops(std::vector<prometheus::MetricFamily>& out) const;

  const config::Config& config_;
  const Hub& hub_;
  ConnectionGate& gate_;
  ws::Server& server_;
  const std::vector<LocalHub*> locals_;
  const std::chrono::milliseconds workerTimeout_;
};

}  // namespace wsr::hub
