// The admin API's read-only views: their JSON shape, from a real hub.

#include "app/AdminViews.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace wsr::app {
namespace {

using nlohmann::json;

config::Config viewConfig() {
  config::Config config;
  config::NamespaceConfig retained;
  retained.retainLast = true;
  config.namespaces = {{"default", config::NamespaceConfig{}}, {"market", retained}};
  return config;
}

hub::Publication publication(std::string channel) {
  hub::Publication out;
  out.channel = std::move(channel);
  out.data = "{}";
  return out;
}

TEST(AdminViews, ChannelsListEachChannelWithItsSeq) {
  const config::Config config = viewConfig();
  hub::Hub hub(config);
  hub.publish(publication("market"));
  hub.publish(publication("market"));
  const json view = json::parse(channelsView(hub));
  ASSERT_EQ(view["channels"].size(), 1u);
  EXPECT_EQ(view["channels"][0], (json{{"channel", "market"}, {"subscribers", 0}, {"seq", 2}}));
}

TEST(AdminViews, HubStatsCountEachNamespace) {
  const config::Config config = viewConfig();
  hub::Hub hub(config);
  hub.publish(publication("market"));
  hub.publish(publication("stock:A"));
  const json view = json::parse(hubStatsView(hub));
  EXPECT_EQ(view["channels"], 2);
  EXPECT_EQ(view["namespaces"]["market"]["published"], 1);
  EXPECT_EQ(view["namespaces"]["default"]["published"], 1);
  EXPECT_EQ(view["namespaces"]["default"]["dropped"],
            (json{{"slow_consumer", 0}, {"conflated", 0}, {"overload", 0}}));
  EXPECT_EQ(view["namespaces"]["default"]["gaps_sent"], 0);
}

TEST(AdminViews, ConnectionsFromEveryWorkerUserOnlyWhenThereIsOne) {
  hub::LocalHub::ConnectionSummary anonymous{7,     "127.0.0.1:5000",     "127.0.0.1", "",
                                             "/ws", {"stock:A", "index"}, 12,          0};
  hub::LocalHub::ConnectionSummary alice{
      9, "127.0.0.1:5001", "10.0.0.1", "alice", "/ws/market", {"market"}, 0, 3};
  const json view = json::parse(connectionsView({{anonymous}, {}, {alice}}));
  ASSERT_EQ(view["connections"].size(), 2u);
  EXPECT_FALSE(view["connections"][0].contains("user"));
  EXPECT_EQ(view["connections"][0]["subscriptions"], (json{"stock:A", "index"}));
  EXPECT_EQ(view["connections"][0]["queued_bytes"], 12);
  EXPECT_EQ(view["connections"][1]["user"], "alice");
  EXPECT_EQ(view["connections"][1]["client"], "10.0.0.1");
  EXPECT_EQ(view["connections"][1]["held_back"], 3);
}

TEST(AdminViews, StatsGatherTheRouterTheHubTheGateAndTracing) {
  const config::Config config = viewConfig();
  hub::Hub hub(config);
  telemetry::Logger logger{telemetry::LogLevel::Error, -1};
  hub::ConnectionGate gate(config, hub, logger);
  std::string error;
  ASSERT_TRUE(gate.start(error)) << error;
  const json view = json::parse(statsView({3, 5, 2}, hub, gate, nullptr));
  EXPECT_EQ(view["connections"], 3);
  EXPECT_EQ(view["subscriptions"], 5);
  EXPECT_EQ(view["workers"], 2);
  EXPECT_TRUE(view["hub"].contains("namespaces"));
  EXPECT_EQ(view["gate"]["refused"]["too_many_connections"], 0);
  EXPECT_EQ(view["gate"]["auth_failures"].size(), auth::kAuthFailureCount);
  EXPECT_EQ(view["tracing"], (json{{"enabled", false}}));

  telemetry::Tracer disabled;
  EXPECT_EQ(json::parse(statsView({}, hub, gate, &disabled))["tracing"],
            (json{{"enabled", false}}));
}

}  // namespace
}  // namespace wsr::app
