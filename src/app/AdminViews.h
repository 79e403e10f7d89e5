#pragma once
// The admin API's read-only views as JSON (GET /api/v1/stats, /channels,
// /connections): cold paths, written with nlohmann::json from what the hub
// and the workers report.

#include <string>
#include <vector>

#include "hub/ConnectionGate.h"
#include "hub/Hub.h"
#include "hub/LocalHub.h"
#include "telemetry/Tracer.h"

namespace wsr::app {

// {"channels":[{"channel":..,"subscribers":..,"seq":..}]}
std::string channelsView(const hub::Hub& hub);

// {"namespaces":{"<name>":{"published":..,"delivered":..,"dropped":{"slow_consumer":..,
// "conflated":..},"disconnected_slow_consumer":..,"gaps_sent":..}},"channels":..}
std::string hubStatsView(const hub::Hub& hub);

// {"connections":[{"id":..,"peer":..,"client":..,"user":..,"endpoint":..,
// "subscriptions":[..],"queued_bytes":..,"held_back":..}]}; "user" only for
// a connection with a token subject.
std::string connectionsView(
    const std::vector<std::vector<hub::LocalHub::ConnectionSummary>>& perWorker);

// GET /api/v1/stats: {"connections":..,"subscriptions":..,"workers":..,
// "hub":<hubStatsView>,"gate":{"connections":..,"tracked_addresses":..,
// "refused":{<reason>:..},"auth_failures":{<reason>:..}},"tracing":{"enabled":..,
// "sampler":..,"exported":..,"dropped":{<reason>:..}}}. `tracer` may be null.
struct RouterFigures {
  size_t connections = 0;
  size_t subscriptions = 0;
  size_t workers = 0;
};
std::string statsView(const RouterFigures& figures, const hub::Hub& hub,
                      const hub::ConnectionGate& gate, const telemetry::Tracer* tracer);

}  // namespace wsr::app
