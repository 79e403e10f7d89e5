#include "feed/MarketModel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "config/Config.h"
#include "feed/Listings.h"

namespace wsr::feed {
namespace {

std::vector<SymbolSpec> demoSpecs() {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const Listing& l : demoListings())
    pairs.emplace_back(l.symbol, l.sector);
  return symbolSpecsFrom(pairs);
}

bool sameState(const MarketModel& a, const MarketModel& b) {
  if (a.symbols().size() != b.symbols().size()) return false;
  for (size_t i = 0; i < a.symbols().size(); ++i) {
    const SymbolState& x = a.symbol(i);
    const SymbolState& y = b.symbol(i);
    if (x.price != y.price || x.volume != y.volume || x.high != y.high || x.low != y.low ||
        x.foreignBuyValue != y.foreignBuyValue || x.shares != y.shares) {
      return false;
    }
    for (size_t level = 0; level < kBookDepth; ++level) {
      if (x.book.bids[level].price != y.book.bids[level].price ||
          x.book.bids[level].size != y.book.bids[level].size ||
          x.book.asks[level].price != y.book.asks[level].price ||
          x.book.asks[level].size != y.book.asks[level].size) {
        return false;
      }
    }
  }
  return true;
}

TEST(MarketModelListings, DemoListHasThirtySymbolsInFiveSectorsOnTwoMarkets) {
  std::set<std::string_view> symbols;
  std::set<std::string_view> sectors;
  std::map<std::string_view, int> perMarket;
  for (const Listing& l : demoListings()) {
    symbols.insert(l.symbol);
    sectors.insert(l.sector);
    ++perMarket[l.market];
    EXPECT_GT(l.referencePrice, 1.0) << l.symbol;
  }
  EXPECT_EQ(symbols.size(), 30u);
  EXPECT_EQ(sectors.size(), 5u);
  ASSERT_EQ(perMarket.size(), 2u);
  EXPECT_GE(perMarket[kNasdaq], 10);
  EXPECT_GE(perMarket[kNyse], 10);
}

TEST(MarketModelListings, MarketFromSuffixThenListingThenAlternating) {
  const std::vector<SymbolSpec> specs = symbolSpecsFrom({{"AAPL", "tech"},
                                                         {"ACME", "industrials"},
                                                         {"JPM", "banks@XLON"},
                                                         {"ZZZ", "misc"},
                                                         {"AAPL", "other"},
                                                         {"YYY", "misc"}});
  ASSERT_EQ(specs.size(), 5u);  // the repeated AAPL keeps its first entry
  EXPECT_EQ(specs[0], (SymbolSpec{"AAPL", "tech", "XNAS", 230}));
  EXPECT_EQ(specs[1], (SymbolSpec{"ACME", "industrials", "XNAS", 0}));
  EXPECT_EQ(specs[2], (SymbolSpec{"JPM", "banks", "XLON", 240}));
  EXPECT_EQ(specs[3], (SymbolSpec{"ZZZ", "misc", "XNYS", 0}));
  EXPECT_EQ(specs[4], (SymbolSpec{"YYY", "misc", "XNAS", 0}));
}

TEST(MarketModelListings, ShippedConfigDefaultsUseBothMarkets) {
  std::set<std::string> markets;
  for (const SymbolSpec& s : symbolSpecsFrom(config::FeedConfig{}.symbols))
    markets.insert(s.market);
  EXPECT_EQ(markets, (std::set<std::string>{"XNAS", "XNYS"}));
}

TEST(MarketModel, SameSeedSameMarketDifferentSeedDifferentMarket) {
  MarketModel a(demoSpecs(), 42);
  MarketModel b(demoSpecs(), 42);
  MarketModel c(demoSpecs(), 43);
  std::vector<uint64_t> alertsA;
  std::vector<uint64_t> alertsB;
  for (int i = 0; i < 2000; ++i) {
    const StepResult ra = a.step();
    const StepResult& rb = b.step();
    c.step();
    ASSERT_EQ(ra.traded, rb.traded) << "step " << i;
    ASSERT_EQ(ra.alerts.size(), rb.alerts.size()) << "step " << i;
    ASSERT_TRUE(sameState(a, b)) << "step " << i;
  }
  EXPECT_FALSE(sameState(a, c));
}

TEST(MarketModel, StartsAtReferencePricesAndIndexBase) {
  MarketModel model(demoSpecs(), 1);
  EXPECT_EQ(model.symbol(0).spec.symbol, "AAPL");
  EXPECT_DOUBLE_EQ(model.symbol(0).price, 230);
  EXPECT_DOUBLE_EQ(model.symbol(0).changePct(), 0);
  for (const IndexValue& index : model.indices())
    EXPECT_DOUBLE_EQ(index.value, 1000) << index.id;
  EXPECT_EQ(model.markets(), (std::vector<std::string>{"XNAS", "XNYS"}));
  EXPECT_EQ(model.sectors(),
            (std::vector<std::string>{"tech", "finance", "energy", "health", "consumer"}));
}

// Over 100k steps: prices positive, on the tick grid, inside the band;
// high/low/volume consistent; every book sorted around the price.
TEST(MarketModel, PricesAndBooksStayValidOver100kSteps) {
  ModelParams params;
  MarketModel model(demoSpecs(), 7, params);
  std::vector<double> reference;
  for (const SymbolState& s : model.symbols())
    reference.push_back(s.open);
  uint64_t traded = 0;
  for (int step = 0; step < 100000; ++step) {
    const StepResult& result = model.step();
    traded += result.traded.size();
    for (size_t i = 0; i < model.symbols().size(); ++i) {
      const SymbolState& s = model.symbol(i);
      const double tick = params.tickSize;
      ASSERT_GT(s.price, 0);
      ASSERT_GE(s.price, reference[i] * (1 - params.band) - tick / 2 - 1e-9) << s.spec.symbol;
      ASSERT_LE(s.price, reference[i] * (1 + params.band) + tick / 2 + 1e-9) << s.spec.symbol;
      ASSERT_NEAR(s.price / tick, std::round(s.price / tick), 1e-6);
      ASSERT_LE(s.low, s.price);
      ASSERT_GE(s.high, s.price);
      const OrderBook& book = s.book;
      ASSERT_LT(book.bids[0].price, s.price);
      ASSERT_GT(book.asks[0].price, s.price);
      for (size_t level = 0; level < kBookDepth; ++level) {
        ASSERT_GT(book.bids[level].price, 0);
        ASSERT_GT(book.bids[level].size, 0u);
        ASSERT_GT(book.asks[level].size, 0u);
        if (level > 0) {
          ASSERT_LT(book.bids[level].price, book.bids[level - 1].price);
          ASSERT_GT(book.asks[level].price, book.asks[level - 1].price);
        }
      }
    }
  }
  // Every symbol moved away from its start at some point, and trades came
  // at about the configured rate.
  for (const SymbolState& s : model.symbols()) {
    EXPECT_LT(s.low, s.open) << s.spec.symbol;
    EXPECT_GT(s.high, s.open) << s.spec.symbol;
  }
  const double rate = static_cast<double>(traded) / (100000.0 * model.symbols().size());
  EXPECT_NEAR(rate, params.tradeProbability, 0.01);
}

TEST(MarketModel, FloorAndBandHoldUnderWildVolatility) {
  ModelParams params;
  params.volatility = 0.2;
  params.band = 0.95;
  params.minPrice = 1.0;
  MarketModel model({{"PENNY", "misc", "XNAS", 1.5}, {"BIG", "misc", "XNYS", 500}}, 3, params);
  double lowest = 1e9;
  for (int step = 0; step < 20000; ++step) {
    model.step();
    ASSERT_GE(model.symbol(0).price, 1.0);
    ASSERT_LE(model.symbol(0).price, 1.5 * 1.95 + 0.005 + 1e-9);
    ASSERT_GE(model.symbol(1).price, 500 * 0.05 - 0.005 - 1e-9);
    ASSERT_GT(model.symbol(0).book.bids[kBookDepth - 1].price, 0);
    lowest = std::min(lowest, model.symbol(0).price);
  }
  EXPECT_DOUBLE_EQ(lowest, 1.0);  // the floor was reached, and held
}

TEST(MarketModel, VolumeIsTheSumOfTradeSizes) {
  MarketModel model(demoSpecs(), 11);
  std::vector<uint64_t> volume(model.symbols().size(), 0);
  for (int step = 0; step < 1000; ++step) {
    for (size_t i : model.step().traded)
      volume[i] += model.symbol(i).lastSize;
  }
  for (size_t i = 0; i < volume.size(); ++i) {
    EXPECT_EQ(model.symbol(i).volume, volume[i]);
    EXPECT_GT(volume[i], 0u);
  }
}

TEST(MarketModel, IndicesFollowTheirConstituentsByMarketCap) {
  MarketModel model(demoSpecs(), 5);
  for (int step = 0; step < 5000; ++step)
    model.step();
  const std::vector<IndexValue> indices = model.indices();
  ASSERT_EQ(indices.size(), 3u);
  EXPECT_EQ(indices[0].id, "XNAS");
  EXPECT_EQ(indices[1].id, "XNYS");
  EXPECT_EQ(indices[2].id, "COMPOSITE");
  EXPECT_EQ(indices[2].market, "");
  size_t constituents = 0;
  for (const IndexValue& index : indices) {
    double now = 0;
    double open = 0;
    size_t count = 0;
    for (const SymbolState& s : model.symbols()) {
      if (!index.market.empty() && s.spec.market != index.market) continue;
      now += s.shares * s.price;
      open += s.shares * s.open;
      ++count;
    }
    EXPECT_EQ(index.constituents, count) << index.id;
    EXPECT_NEAR(index.value, 1000 * now / open, 1e-9) << index.id;
    EXPECT_DOUBLE_EQ(index.open, 1000);
    EXPECT_NE(index.value, 1000) << index.id;
    if (!index.market.empty()) constituents += count;
  }
  EXPECT_EQ(constituents, indices[2].constituents);
  EXPECT_EQ(constituents, model.symbols().size());
}

TEST(MarketModel, ForeignFlowAddsUpAcrossMarkets) {
  MarketModel model(demoSpecs(), 9);
  double lastBuy = 0;
  for (int step = 0; step < 500; ++step) {
    model.step();
    const std::vector<FlowTotals> flows = model.foreignFlow();
    ASSERT_EQ(flows.size(), 3u);
    const FlowTotals& total = flows.back();
    EXPECT_EQ(total.market, "");
    EXPECT_NEAR(total.buyValue, flows[0].buyValue + flows[1].buyValue, 1e-3);
    EXPECT_NEAR(total.sellValue, flows[0].sellValue + flows[1].sellValue, 1e-3);
    EXPECT_GE(total.buyValue, lastBuy);  // accumulated, never reset
    lastBuy = total.buyValue;
  }
  EXPECT_GT(lastBuy, 0);
}

TEST(MarketModel, AlertsMarkThresholdCrossings) {
  ModelParams params;
  params.alertStepPct = 1.0;
  MarketModel model(demoSpecs(), 13, params);
  uint64_t lastId = 0;
  size_t alerts = 0;
  for (int step = 0; step < 20000; ++step) {
    for (const Alert& alert : model.step().alerts) {
      ++alerts;
      EXPECT_EQ(alert.id, lastId + 1);
      lastId = alert.id;
      EXPECT_EQ(alert.up, alert.thresholdPct > 0);
      EXPECT_NEAR(std::fmod(std::abs(alert.thresholdPct), 1.0), 0.0, 1e-9);
      EXPECT_GE(std::abs(alert.changePct), std::abs(alert.thresholdPct));
      EXPECT_DOUBLE_EQ(alert.price, model.symbol(alert.symbol).price);
    }
  }
  EXPECT_GT(alerts, 10u);
}

TEST(MarketModel, DefaultAlertsAreOccasional) {
  MarketModel model(demoSpecs(), 17);
  size_t alerts = 0;
  const int steps = 40000;  // about 2 h 45 min at the default 250 ms tick
  for (int step = 0; step < steps; ++step)
    alerts += model.step().alerts.size();
  EXPECT_GT(alerts, 0u);
  // Well under one a second (4 steps) for the whole market.
  EXPECT_LT(static_cast<double>(alerts) / steps, 0.1) << alerts;
}

TEST(MarketModel, EmptyMarketStillSteps) {
  MarketModel model({}, 1);
  EXPECT_TRUE(model.step().traded.empty());
  ASSERT_EQ(model.indices().size(), 3u);
  EXPECT_DOUBLE_EQ(model.indices()[2].value, 1000);
  EXPECT_EQ(model.indices()[2].constituents, 0u);
}

}  // namespace
}  // namespace wsr::feed
