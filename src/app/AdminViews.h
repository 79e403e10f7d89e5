#pragma once
// The admin API's read-only views as JSON (GET /api/v1/stats, /channels,
// /connections): cold paths, written with nlohmann::json from what the hub
// and the workers report.

#include <string>
#include <vector>

#include "hub/Hub.h"
#include "hub/LocalHub.h"

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

}  // namespace wsr::app
