#pragma once
// The simulated market behind the demo feed. Pure and deterministic: the same
// symbols, parameters and seed give the same sequence of states, whatever
// the wall clock or the subscribers do. It knows nothing of channels or JSON
// (FeedMessages.h turns its state into payloads, DemoFeed.h sets the pace).
//
// Prices follow a random walk in log space with a pull back to the reference
// price (Ornstein-Uhlenbeck), so they wander like a quote yet never drift
// without end, and are clamped to a band around the reference, like a
// limit-up/limit-down rule. Exposed prices are rounded to the tick size.

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "feed/Listings.h"

namespace wsr::feed {

struct ModelParams {
  double tradeProbability = 0.7;  // chance that a symbol trades in a step
  double volatility = 0.0015;     // stdev of one trade's log-return
  double meanReversion = 0.002;   // share of the distance to the reference undone per trade
  double band = 0.2;              // prices stay within +-20 % of the reference
  double tickSize = 0.01;
  double minPrice = 1.0;         // floor whatever the band, so a book's bids stay positive
  double alertStepPct = 3.0;     // an alert each time |change_pct| passes a multiple of this
  double indexBase = 1000.0;     // every index starts here
  double foreignShareMax = 0.4;  // foreign investors take up to this share of a trade
};

inline constexpr size_t kBookDepth = 5;

struct BookLevel {
  double price = 0;
  uint64_t size = 0;
};

// bids best (highest) first, asks best (lowest) first; bids[0] < asks[0].
struct OrderBook {
  std::array<BookLevel, kBookDepth> bids{};
  std::array<BookLevel, kBookDepth> asks{};
};

struct SymbolState {
  SymbolSpec spec;
  double open = 0;   // the first price: change and change_pct are against it
  double price = 0;  // last trade, rounded to the tick
  double high = 0;
  double low = 0;
  uint64_t volume = 0;    // shares traded since the start
  uint64_t lastSize = 0;  // shares in the last trade
  uint64_t trades = 0;
  double shares = 0;  // shares outstanding: the index weight (market cap = shares * price)
  double foreignBuyValue = 0;
  double foreignSellValue = 0;
  OrderBook book;

  double change() const { return price - open; }
  double changePct() const { return open > 0 ? (price - open) / open * 100.0 : 0.0; }
};

struct IndexValue {
  std::string id;      // the market's code, or "COMPOSITE"
  std::string market;  // empty for the composite
  double value = 0;
  double open = 0;
  size_t constituents = 0;

  double change() const { return value - open; }
  double changePct() const { return open > 0 ? (value - open) / open * 100.0 : 0.0; }
};

struct FlowTotals {
  std::string market;  // empty for the whole market
  double buyValue = 0;
  double sellValue = 0;

  double netValue() const { return buyValue - sellValue; }
};

struct Alert {
  uint64_t id = 0;  // 1, 2, ... in the order raised
  size_t symbol = 0;
  bool up = true;
  double thresholdPct = 0;  // the multiple of alertStepPct passed, signed
  double price = 0;
  double changePct = 0;
};

struct StepResult {
  std::vector<size_t> traded;  // symbol indices that traded this step, ascending
  std::vector<Alert> alerts;
};

inline constexpr std::string_view kCompositeIndex = "COMPOSITE";

class MarketModel {
 public:
  MarketModel(std::vector<SymbolSpec> symbols, uint64_t seed, ModelParams params = {});

  // One tick: some symbols trade (price, volume, foreign flow), every book is
  // re-quoted around its price, and alerts are raised. The result stays valid
  // until the next step().
  const StepResult& step();

  uint64_t steps() const { return steps_; }
  const ModelParams& params() const { return params_; }
  const std::vector<SymbolState>& symbols() const { return symbols_; }
  const SymbolState& symbol(size_t index) const { return symbols_[index]; }
  // Distinct sectors, and markets (the two defaults first), in config order.
  const std::vector<std::string>& sectors() const { return sectors_; }
  const std::vector<std::string>& markets() const { return markets_; }

  // One index per market, then the composite: market-cap weighted, indexBase
  // at the start.
  std::vector<IndexValue> indices() const;
  // Foreign flow per market, then the whole market.
  std::vector<FlowTotals> foreignFlow() const;

 private:
  double roundToTick(double price) const;
  void trade(size_t index);
  void quote(SymbolState& state);
  void checkAlert(size_t index);

  ModelParams params_;
  std::mt19937_64 rng_;
  std::vector<SymbolState> symbols_;
  std::vector<double> reference_;  // the walk's centre, per symbol
  std::vector<double> logOffset_;  // log(price / reference), unrounded
  std::vector<int> alertLevel_;    // multiples of alertStepPct already announced, signed
  std::vector<std::string> sectors_;
  std::vector<std::string> markets_;
  uint64_t steps_ = 0;
  uint64_t alerts_ = 0;
  StepResult result_;
};

}  // namespace wsr::feed
