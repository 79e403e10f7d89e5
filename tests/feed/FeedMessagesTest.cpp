#include "feed/FeedMessages.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace wsr::feed {
namespace {

using nlohmann::json;

constexpr int64_t kTs = 1763790000456;

MarketModel model(int steps, ModelParams params = {}) {
  MarketModel m(symbolSpecsFrom({{"AAPL", "tech"},
                                 {"MSFT", "tech"},
                                 {"JPM", "finance"},
                                 {"XOM", "energy"},
                                 {"ACME", "industrials"}}),
                21, params);
  for (int i = 0; i < steps; ++i)
    m.step();
  return m;
}

bool hasDecimalsAtMost(double value, int decimals) {
  const double scaled = value * std::pow(10.0, decimals);
  return std::abs(scaled - std::round(scaled)) < 1e-6;
}

TEST(DemoFeedMessages, ChannelNames) {
  EXPECT_EQ(stockChannel("AAPL"), "stock:AAPL");
  EXPECT_EQ(orderBookChannel("AAPL"), "orderbook:AAPL");
  EXPECT_EQ(sectorChannel("tech"), "sector:tech");
  EXPECT_EQ(userChannel(kDemoUser), "user:demo");
}

TEST(DemoFeedMessages, PriceUpdate) {
  const MarketModel m = model(300);
  const json data = json::parse(priceUpdateJson(m, 0, kTs));
  const SymbolState& s = m.symbol(0);
  EXPECT_EQ(data["symbol"], "AAPL");
  EXPECT_EQ(data["market"], "XNAS");
  EXPECT_EQ(data["sector"], "tech");
  EXPECT_NEAR(data["price"].get<double>(), s.price, 1e-9);
  EXPECT_TRUE(hasDecimalsAtMost(data["price"].get<double>(), 2));
  EXPECT_TRUE(hasDecimalsAtMost(data["change_pct"].get<double>(), 2));
  EXPECT_NEAR(data["change_pct"].get<double>(), s.changePct(), 0.005 + 1e-9);
  EXPECT_NEAR(data["change"].get<double>(), s.price - s.open, 0.005 + 1e-9);
  EXPECT_EQ(data["volume"].get<uint64_t>(), s.volume);
  EXPECT_EQ(data["size"].get<uint64_t>(), s.lastSize);
  EXPECT_LT(data["bid"].get<double>(), data["ask"].get<double>());
  EXPECT_EQ(data["ts_exchange"].get<int64_t>(), kTs);
  for (const char* field : {"open", "high", "low"})
    EXPECT_TRUE(data.contains(field)) << field;
  EXPECT_FALSE(data.contains("seq"));  // the hub numbers publications
}

TEST(DemoFeedMessages, OrderBook) {
  const MarketModel m = model(10);
  const json data = json::parse(orderBookJson(m, 2, kTs));
  EXPECT_EQ(data["symbol"], "JPM");
  EXPECT_EQ(data["market"], "XNYS");
  ASSERT_EQ(data["bids"].size(), kBookDepth);
  ASSERT_EQ(data["asks"].size(), kBookDepth);
  for (size_t i = 0; i < kBookDepth; ++i) {
    EXPECT_TRUE(hasDecimalsAtMost(data["bids"][i]["price"].get<double>(), 2));
    EXPECT_GT(data["bids"][i]["size"].get<uint64_t>(), 0u);
    if (i > 0) {
      EXPECT_LT(data["bids"][i]["price"].get<double>(), data["bids"][i - 1]["price"].get<double>());
      EXPECT_GT(data["asks"][i]["price"].get<double>(), data["asks"][i - 1]["price"].get<double>());
    }
  }
  EXPECT_LT(data["bids"][0]["price"].get<double>(), data["asks"][0]["price"].get<double>());
}

TEST(DemoFeedMessages, MarketSnapshotCoversEverySymbolSectorAndMarket) {
  const MarketModel m = model(500);
  const json data = json::parse(marketSnapshotJson(m, kTs));
  EXPECT_EQ(data["step"], 500);
  ASSERT_EQ(data["symbols"].size(), 5u);
  EXPECT_EQ(data["symbols"][4]["symbol"], "ACME");
  EXPECT_EQ(data["sectors"].size(), 4u);
  ASSERT_EQ(data["markets"].size(), 2u);
  size_t breadth = 0;
  uint64_t volume = 0;
  for (const json& market : data["markets"]) {
    breadth += market["advancers"].get<size_t>() + market["decliners"].get<size_t>() +
               market["unchanged"].get<size_t>();
    volume += market["volume"].get<uint64_t>();
  }
  EXPECT_EQ(breadth, 5u);
  EXPECT_EQ(data["advancers"].get<size_t>() + data["decliners"].get<size_t>() +
                data["unchanged"].get<size_t>(),
            5u);
  EXPECT_EQ(data["volume"].get<uint64_t>(), volume);
  EXPECT_EQ(data["ts_exchange"].get<int64_t>(), kTs);
}

TEST(DemoFeedMessages, IndexUpdate) {
  const MarketModel m = model(500);
  const json data = json::parse(indexJson(m, kTs));
  ASSERT_EQ(data["indices"].size(), 3u);
  EXPECT_EQ(data["indices"][0]["index"], "XNAS");
  EXPECT_EQ(data["indices"][0]["market"], "XNAS");
  EXPECT_EQ(data["indices"][2]["index"], "COMPOSITE");
  EXPECT_FALSE(data["indices"][2].contains("market"));
  for (size_t i = 0; i < 3; ++i) {
    const json& index = data["indices"][i];
    EXPECT_NEAR(index["value"].get<double>(), m.indices()[i].value, 0.005 + 1e-9);
    EXPECT_TRUE(hasDecimalsAtMost(index["value"].get<double>(), 2));
    EXPECT_EQ(index["open"], 1000.0);
  }
  EXPECT_EQ(data["indices"][2]["constituents"], 5);
}

TEST(DemoFeedMessages, ForeignFlow) {
  const MarketModel m = model(500);
  const json data = json::parse(foreignFlowJson(m, kTs));
  const int64_t buy = data["buy_value"];
  const int64_t sell = data["sell_value"];
  EXPECT_GT(buy, 0);
  EXPECT_GT(sell, 0);
  EXPECT_NEAR(static_cast<double>(data["net_value"].get<int64_t>()), buy - sell, 1.0);
  ASSERT_EQ(data["markets"].size(), 2u);
  EXPECT_LE(data["top_net_buy"].size(), kTopFlows);
  EXPECT_LE(data["top_net_buy"].size() + data["top_net_sell"].size(), 5u);
  for (size_t i = 1; i < data["top_net_buy"].size(); ++i) {
    EXPECT_GE(data["top_net_buy"][i - 1]["net_value"].get<int64_t>(),
              data["top_net_buy"][i]["net_value"].get<int64_t>());
  }
  for (const json& entry : data["top_net_buy"])
    EXPECT_GT(entry["net_value"].get<int64_t>(), 0);
  for (const json& entry : data["top_net_sell"])
    EXPECT_LT(entry["net_value"].get<int64_t>(), 0);
}

TEST(DemoFeedMessages, Alert) {
  ModelParams params;
  params.alertStepPct = 0.5;
  MarketModel m = model(0, params);
  Alert alert;
  for (int i = 0; i < 100000 && alert.id == 0; ++i) {
    const StepResult& result = m.step();
    if (!result.alerts.empty()) alert = result.alerts.front();
  }
  ASSERT_NE(alert.id, 0u);
  const json data = json::parse(alertJson(m, alert, kDemoUser, kTs));
  EXPECT_EQ(data["id"], alert.id);
  EXPECT_EQ(data["user"], "demo");
  EXPECT_EQ(data["kind"], "price_move");
  EXPECT_EQ(data["symbol"], m.symbol(alert.symbol).spec.symbol);
  EXPECT_EQ(data["direction"], alert.up ? "up" : "down");
  EXPECT_NEAR(data["threshold_pct"].get<double>(), alert.thresholdPct, 1e-9);
  EXPECT_NE(data["message"].get<std::string>().find(m.symbol(alert.symbol).spec.symbol),
            std::string::npos);
}

}  // namespace
}  // namespace wsr::feed
