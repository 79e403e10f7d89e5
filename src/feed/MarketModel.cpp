#include "feed/MarketModel.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace wsr::feed {

namespace {

// Spread and level spacing as fractions of the price: a few basis points,
// so books of cheap and dear stocks look alike in relative terms.
constexpr double kHalfSpread = 0.0003;
constexpr double kLevelSpacing = 0.0002;
constexpr uint64_t kLot = 100;  // sizes are whole round lots

int signOf(double x) {
  return (x > 0) - (x < 0);
}

}  // namespace

MarketModel::MarketModel(std::vector<SymbolSpec> symbols, uint64_t seed, ModelParams params)
    : params_(params), rng_(seed) {
  for (std::string_view market : kDefaultMarkets)
    markets_.emplace_back(market);
  symbols_.reserve(symbols.size());
  for (SymbolSpec& spec : symbols) {
    if (std::find(sectors_.begin(), sectors_.end(), spec.sector) == sectors_.end()) {
      sectors_.push_back(spec.sector);
    }
    if (std::find(markets_.begin(), markets_.end(), spec.market) == markets_.end()) {
      markets_.push_back(spec.market);
    }
    double reference = spec.referencePrice;
    if (reference <= 0) reference = std::uniform_real_distribution<double>(20, 400)(rng_);
    reference = std::max(roundToTick(reference), params_.minPrice);

    SymbolState state;
    state.spec = std::move(spec);
    state.open = state.price = state.high = state.low = reference;
    // Large caps of very different sizes, so the index weights are uneven.
    state.shares = std::uniform_real_distribution<double>(2e8, 8e9)(rng_);
    quote(state);
    symbols_.push_back(std::move(state));
    reference_.push_back(reference);
    logOffset_.push_back(0);
    alertLevel_.push_back(0);
  }
}

double MarketModel::roundToTick(double price) const {
  return std::round(price / params_.tickSize) * params_.tickSize;
}

const StepResult& MarketModel::step() {
  ++steps_;
  result_.traded.clear();
  result_.alerts.clear();
  std::uniform_real_distribution<double> unit(0, 1);
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (unit(rng_) < params_.tradeProbability) {
      trade(i);
      result_.traded.push_back(i);
    }
  }
  // Quotes move every tick, trade or not, so every book is re-quoted.
  for (SymbolState& state : symbols_)
    quote(state);
  for (size_t i : result_.traded)
    checkAlert(i);
  return result_;
}

void MarketModel::trade(size_t index) {
  SymbolState& state = symbols_[index];
  const double reference = reference_[index];
  // The band and the floor bound the unrounded walk itself, so the walk
  // cannot sit far outside and stick to the edge.
  const double lower = std::log(std::max(1 - params_.band, params_.minPrice / reference));
  const double upper = std::log(1 + params_.band);
  double& x = logOffset_[index];
  x += -params_.meanReversion * x +
       params_.volatility * std::normal_distribution<double>(0, 1)(rng_);
  x = std::clamp(x, lower, upper);

  const double floor = std::ceil(params_.minPrice / params_.tickSize) * params_.tickSize;
  const double previous = state.price;
  state.price = std::max(roundToTick(reference * std::exp(x)), floor);
  state.high = std::max(state.high, state.price);
  state.low = std::min(state.low, state.price);
  state.lastSize = kLot * std::uniform_int_distribution<uint64_t>(1, 20)(rng_);
  state.volume += state.lastSize;
  ++state.trades;

  // Foreign investors take part of each trade and lean with the move, so the
  // net flow tells the same story as the prices.
  const double value = state.price * static_cast<double>(state.lastSize);
  std::uniform_real_distribution<double> share(0, params_.foreignShareMax);
  std::uniform_real_distribution<double> lean(0.3, 0.7);
  const double foreign = value * share(rng_);
  const double buyShare = std::clamp(lean(rng_) + 0.1 * signOf(state.price - previous), 0.0, 1.0);
  state.foreignBuyValue += foreign * buyShare;
  state.foreignSellValue += foreign * (1 - buyShare);
}

void MarketModel::quote(SymbolState& state) {
  // Whole ticks, so every level sits exactly on the tick grid.
  const double tick = params_.tickSize;
  const long long mid = std::llround(state.price / tick);
  const long long half = std::max(1LL, std::llround(state.price * kHalfSpread / tick));
  const long long spacing = std::max(1LL, std::llround(state.price * kLevelSpacing / tick));
  std::uniform_int_distribution<uint64_t> lots(1, 50);
  for (size_t level = 0; level < kBookDepth; ++level) {
    const long long offset = half + static_cast<long long>(level) * spacing;
    state.book.bids[level] = {static_cast<double>(mid - offset) * tick, kLot * lots(rng_)};
    state.book.asks[level] = {static_cast<double>(mid + offset) * tick, kLot * lots(rng_)};
  }
}

void MarketModel::checkAlert(size_t index) {
  const double step = params_.alertStepPct;
  if (step <= 0) return;
  const SymbolState& state = symbols_[index];
  const double pct = state.changePct();
  const int level = static_cast<int>(std::trunc(pct / step));
  int& announced = alertLevel_[index];
  if (level != 0 && (signOf(level) != signOf(announced) || std::abs(level) > std::abs(announced))) {
    announced = level;
    result_.alerts.push_back({++alerts_, index, level > 0, level * step, state.price, pct});
  } else if (std::abs(pct) < (std::abs(announced) - 0.5) * step) {
    // Half a step of hysteresis: a price hovering at a threshold does not
    // raise an alert on every crossing.
    announced = level;
  }
}

std::vector<IndexValue> MarketModel::indices() const {
  std::vector<IndexValue> out;
  auto compute = [&](const std::string& market) {
    IndexValue index{market.empty() ? std::string(kCompositeIndex) : market, market,
                     params_.indexBase, params_.indexBase, 0};
    double capNow = 0;
    double capOpen = 0;
    for (const SymbolState& state : symbols_) {
      if (!market.empty() && state.spec.market != market) continue;
      capNow += state.shares * state.price;
      capOpen += state.shares * state.open;
      ++index.constituents;
    }
    if (capOpen > 0) index.value = params_.indexBase * capNow / capOpen;
    out.push_back(std::move(index));
  };
  for (const std::string& market : markets_)
    compute(market);
  compute("");
  return out;
}

std::vector<FlowTotals> MarketModel::foreignFlow() const {
  std::vector<FlowTotals> out;
  FlowTotals total;
  for (const std::string& market : markets_) {
    FlowTotals flow{market, 0, 0};
    for (const SymbolState& state : symbols_) {
      if (state.spec.market != market) continue;
      flow.buyValue += state.foreignBuyValue;
      flow.sellValue += state.foreignSellValue;
    }
    total.buyValue += flow.buyValue;
    total.sellValue += flow.sellValue;
    out.push_back(std::move(flow));
  }
  out.push_back(std::move(total));
  return out;
}

}  // namespace wsr::feed
