#include "hub/LocalHubStats.h"

#include <gtest/gtest.h>

#include "hub/EndpointLabels.h"

namespace wsr::hub {
namespace {

TEST(LocalHubStats, CloseCodesHaveTheirOwnSlotsAndTheRestCountAsOther) {
  for (size_t i = 0; i < kCountedCloseCodes.size(); ++i) {
    EXPECT_EQ(closeCodeSlot(kCountedCloseCodes[i]), i);
    EXPECT_EQ(closeCodeLabel(i), std::to_string(kCountedCloseCodes[i]));
  }
  EXPECT_EQ(closeCodeSlot(1003), kCloseCodeSlots - 1);
  EXPECT_EQ(closeCodeSlot(4999), kCloseCodeSlots - 1);
  EXPECT_EQ(closeCodeLabel(kCloseCodeSlots - 1), "other");
}

TEST(LocalHubStats, StartAtZeroWithOneSlotPerEndpoint) {
  LocalHubStats stats(3, 2);
  EXPECT_EQ(stats.endpoints, 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(stats.opened[e].load(), 0u);
    EXPECT_EQ(stats.closed[e].load(), 0u);
  }
  EXPECT_EQ(kClientOpLabels[kInvalidClientOp], "invalid");
}

TEST(EndpointLabels, AreWsThenEachNamespaceWithADedicatedEndpoint) {
  config::Config config;  // the demo namespaces: market, foreign, index dedicated
  const EndpointLabels endpoints(config);
  EXPECT_EQ(endpoints.labels(),
            (std::vector<std::string>{"/ws", "/ws/foreign", "/ws/index", "/ws/market"}));
  EXPECT_EQ(endpoints.indexOf(""), 0u);
  EXPECT_EQ(endpoints.indexOf("market"), 3u);
  EXPECT_EQ(endpoints.indexOf("market:eu"), 3u);  // the namespace, never the channel
  EXPECT_EQ(endpoints.indexOf("foreign"), 1u);
  EXPECT_EQ(endpoints.indexOf("nowhere:x"), 0u);  // not dedicated: cannot happen, counts as /ws
}

TEST(EndpointLabels, AnUnconfiguredNamespaceCountsUnderADedicatedDefault) {
  config::Config config;
  config.namespaces["default"].dedicatedEndpoint = true;
  const EndpointLabels endpoints(config);
  EXPECT_EQ(endpoints.labels().back(), "/ws/market");
  EXPECT_EQ(endpoints.labels()[1], "/ws/default");
  EXPECT_EQ(endpoints.indexOf("anything"), 1u);
}

}  // namespace
}  // namespace wsr::hub
