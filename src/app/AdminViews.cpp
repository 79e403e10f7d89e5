#include "app/AdminViews.h"

#include <nlohmann/json.hpp>

namespace wsr::app {

using nlohmann::json;

namespace {

// Invalid UTF-8 (a channel or user name never is, but a view must not throw)
// is replaced rather than refused.
std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json hubStats(const hub::Hub& hub) {
  json namespaces = json::object();
  for (size_t index = 0; index < hub.namespaces().size(); ++index) {
    const hub::NamespaceStats stats = hub.namespaceStats(index);
    namespaces[hub.namespaces()[index]] = {
        {"published", stats.published},
        {"delivered", stats.delivered},
        {"dropped",
         {{"slow_consumer", stats.droppedSlowConsumer},
          {"conflated", stats.droppedConflated},
          {"overload", stats.droppedOverload}}},
        {"disconnected_slow_consumer", stats.disconnectedSlowConsumer},
        {"gaps_sent", stats.gapsSent},
    };
  }
  return {{"namespaces", std::move(namespaces)}, {"channels", hub.channelCount()}};
}

}  // namespace

std::string channelsView(const hub::Hub& hub) {
  json channels = json::array();
  for (const hub::Hub::ChannelSummary& channel : hub.channelSummaries()) {
    channels.push_back(
        {{"channel", channel.name}, {"subscribers", channel.subscribers}, {"seq", channel.seq}});
  }
  return dump({{"channels", std::move(channels)}});
}

std::string hubStatsView(const hub::Hub& hub) {
  return dump(hubStats(hub));
}

std::string statsView(const RouterFigures& figures, const hub::Hub& hub,
                      const hub::ConnectionGate& gate, const telemetry::Tracer* tracer) {
  json refused = json::object();
  for (size_t i = 0; i < hub::kRefusalCount; ++i) {
    const auto refusal = static_cast<hub::Refusal>(i);
    refused[std::string(hub::refusalName(refusal))] = gate.refusals(refusal);
  }
  json failures = json::object();
  for (size_t i = 0; i < auth::kAuthFailureCount; ++i) {
    const auto failure = static_cast<auth::AuthFailure>(i);
    failures[std::string(auth::authFailureName(failure))] = gate.authenticator().failures(failure);
  }
  json tracing = {{"enabled", tracer != nullptr && tracer->enabled()}};
  if (tracer != nullptr && tracer->enabled()) {
    tracing["sampler"] = tracer->sampler().name();
    tracing["exported"] = tracer->exportedSpans();
    json dropped = json::object();
    for (size_t i = 0; i < telemetry::kDropReasonCount; ++i) {
      const auto reason = static_cast<telemetry::DropReason>(i);
      dropped[std::string(telemetry::dropReasonName(reason))] = tracer->droppedSpans(reason);
    }
    tracing["dropped"] = std::move(dropped);
  }
  return dump({{"connections", figures.connections},
               {"subscriptions", figures.subscriptions},
               {"workers", figures.workers},
               {"hub", hubStats(hub)},
               {"gate",
                {{"connections", gate.connections()},
                 {"tracked_addresses", gate.trackedAddresses()},
                 {"refused", std::move(refused)},
                 {"auth_failures", std::move(failures)}}},
               {"tracing", std::move(tracing)}});
}

std::string connectionsView(
    const std::vector<std::vector<hub::LocalHub::ConnectionSummary>>& perWorker) {
  json connections = json::array();
  for (const auto& worker : perWorker) {
    for (const hub::LocalHub::ConnectionSummary& c : worker) {
      json entry = {{"id", c.id}, {"peer", c.peer}, {"client", c.client}};
      if (!c.user.empty()) entry["user"] = c.user;
      entry["endpoint"] = c.endpoint;
      entry["subscriptions"] = c.subscriptions;
      entry["queued_bytes"] = c.queuedBytes;
      entry["held_back"] = c.heldBack;
      connections.push_back(std::move(entry));
    }
  }
  return dump({{"connections", std::move(connections)}});
}

}  // namespace wsr::app
